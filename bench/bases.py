"""Build local stand-ins for the official base images the corpus uses.

    python -m bench.bases [NAMES...] [--force] [--jobs N] [--dry-run] [--list]

No container registry is reachable from here, so ``FROM python:3.11-slim``
cannot pull.  This module builds images under the official tags from Debian
bookworm's own packages instead:

* ``debian:bookworm`` and ``debian:bookworm-slim`` are ``docker import``-ed
  from a ``debootstrap --variant=minbase`` root (bench/bases/rootfs.sh; the
  tarballs are cached in bench/.cache/);
* ``busybox`` and the ``gcr.io/distroless/*`` images are imported from roots
  assembled inside the debian stand-in (bench/bases/busybox.sh,
  distroless.sh);
* everything else is ``docker build``-ed from the small Dockerfiles in
  bench/bases/, each derived from another stand-in so that layers are shared.

Every image carries the labels ``org.dockopt.stand-in=true``,
``org.dockopt.stand-in.for=<tag>`` and ``org.dockopt.stand-in.recipe=<sha256>``
(a hash of everything that went into it, its parent's hash included).  An image
whose recipe hash is unchanged (and that still sits on its parent's layers) is
reused, so a warm run takes seconds.  NAMES select tags (``python:3.11``),
aliases (``debian:12``) or repositories (``python``); what they derive from is
built as needed.  Without NAMES, everything is built.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "bases"
CACHE = Path(os.environ.get("DOCKOPT_BENCH_CACHE") or HERE / ".cache")
LOGS = CACHE / "logs"

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

LABEL = "org.dockopt.stand-in"
LABEL_FOR = LABEL + ".for"
LABEL_RECIPE = LABEL + ".recipe"
# Bump to rebuild every stand-in after a change this module makes to images
# that the recipe files themselves do not show.
SCHEMA = "1"


class BuildError(RuntimeError):
    """A stand-in could not be built; the message says why."""


# --------------------------------------------------------------------------
# Recipes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    tag: str
    kind: str  # "rootfs" (debootstrap import), "script" (import of a root made in a container), "build"
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    dockerfile: str | None = None  # for "build": file in bench/bases/
    files: tuple[str, ...] = ()  # extra files of bench/bases/ in the build context
    args: tuple[tuple[str, str], ...] = ()  # build args
    script: str | None = None  # for "script"/"rootfs": file in bench/bases/
    script_args: tuple[str, ...] = ()
    variant: str = ""  # for "rootfs": "full" or "slim"
    changes: tuple[str, ...] = ()  # docker import --change, for imports
    weight: int = 10  # rough cold build seconds; orders the queue
    on_parent: bool = True  # False: the parent is only a build stage (the image starts FROM scratch)

    @property
    def tags(self) -> tuple[str, ...]:
        return (self.tag, *self.aliases)


def _recipes() -> list[Recipe]:
    def build(tag, dockerfile, parent, aliases=(), version=None, weight=30, on_parent=True, **args):
        a = dict(args)
        a["BASE"] = parent
        if version is not None:
            a["VERSION"] = version
        return Recipe(tag=tag, kind="build", parent=parent, aliases=tuple(aliases),
                      dockerfile=dockerfile, args=tuple(sorted(a.items())), weight=weight, on_parent=on_parent,
                      files=("nginx-default.conf", "nginx-index.html") if dockerfile == "nginx.Dockerfile" else ())

    distroless_changes = (f"ENV {PATH_ENV}", "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
    return [
        Recipe("debian:bookworm", "rootfs", aliases=("debian:12", "debian:latest"),
               script="rootfs.sh", variant="full", changes=(f"ENV {PATH_ENV}", 'CMD ["bash"]'), weight=45),
        Recipe("debian:bookworm-slim", "rootfs", aliases=("debian:12-slim",),
               script="rootfs.sh", variant="slim", changes=(f"ENV {PATH_ENV}", 'CMD ["bash"]'), weight=45),
        Recipe("busybox:latest", "script", parent="debian:bookworm", aliases=("busybox:1.35",),
               script="busybox.sh", changes=(f"ENV {PATH_ENV}", 'CMD ["sh"]'), weight=8),
        Recipe("gcr.io/distroless/static-debian12", "script", parent="debian:bookworm",
               aliases=("gcr.io/distroless/static",), script="distroless.sh", script_args=("static",),
               changes=distroless_changes, weight=8),
        Recipe("gcr.io/distroless/base-debian12", "script", parent="debian:bookworm",
               aliases=("gcr.io/distroless/base",), script="distroless.sh", script_args=("base",),
               changes=distroless_changes, weight=8),
        build("gcc:12", "buildpack.Dockerfile", "debian:bookworm", ("gcc:12-bookworm",), GCC_VERSION="12",
              weight=60),
        build("python:3.11", "python.Dockerfile", "gcc:12", ("python:3.11-bookworm",), version="3.11",
              PKGS="python3-dev", weight=25),
        build("python:3.11-slim", "python.Dockerfile", "debian:bookworm-slim", ("python:3.11-slim-bookworm",),
              version="3.11", PKGS="", weight=20),
        build("node:18-slim", "node.Dockerfile", "debian:bookworm-slim", ("node:18-bookworm-slim",),
              version="18", weight=90),
        # node:18 is node:18-slim plus the buildpack layer of gcc:12: Debian's npm
        # (~400 packages, the slowest install here) is then installed only once.
        build("node:18", "buildpack.Dockerfile", "node:18-slim", ("node:18-bookworm",), GCC_VERSION="12",
              weight=40),
        build("golang:1.19", "golang.Dockerfile", "gcc:12", ("golang:1.19-bookworm",), version="1.19", weight=40),
        build("rust:1.63", "rust.Dockerfile", "gcc:12", ("rust:1.63-bookworm", "rust:1.63.0"), version="1.63",
              weight=60),
        build("eclipse-temurin:17-jre", "temurin.Dockerfile", "debian:bookworm", version="17",
              PKG="openjdk-17-jre-headless", weight=50),
        build("eclipse-temurin:17-jdk", "temurin.Dockerfile", "eclipse-temurin:17-jre", ("eclipse-temurin:17",),
              version="17", PKG="openjdk-17-jdk-headless", weight=40),
        build("nginx:stable", "nginx.Dockerfile", "debian:bookworm-slim", ("nginx:1.22",), version="1.22",
              weight=15),
        # uv's own image holds nothing but the two binaries its PyPI wheel ships
        build("ghcr.io/astral-sh/uv:0.11.16", "uv.Dockerfile", "python:3.11-slim", version="0.11.16", weight=10,
              on_parent=False),
    ]


RECIPE_LIST = _recipes()
BY_TAG = {r.tag: r for r in RECIPE_LIST}
BY_ANY_TAG = {t: r for r in RECIPE_LIST for t in r.tags}


def select(names: list[str]) -> tuple[list[Recipe], set[str]]:
    """Recipes to ensure (the selected ones and their ancestors, parents
    first) and the set of tags asked for."""
    wanted: set[str] = set()
    if not names:
        wanted = {t for r in RECIPE_LIST for t in r.tags}
    for name in names:
        if name in BY_ANY_TAG:
            wanted.add(name)
            continue
        hits = [t for t in BY_ANY_TAG if t.rsplit(":", 1)[0] == name or t == name + ":latest"]
        if not hits:
            known = ", ".join(sorted(BY_ANY_TAG))
            raise BuildError(f"unknown stand-in {name!r}; known tags: {known}")
        wanted.update(hits)
    need: set[str] = set()
    for t in wanted:
        r = BY_ANY_TAG[t]
        while r is not None and r.tag not in need:
            need.add(r.tag)
            r = BY_TAG.get(r.parent) if r.parent else None
    return [r for r in RECIPE_LIST if r.tag in need], wanted


# --------------------------------------------------------------------------
# Host facts that go into the images
# --------------------------------------------------------------------------


def _deb822_stanzas(text: str) -> list[str]:
    return [s.strip("\n") for s in re.split(r"\n\s*\n", text) if s.strip()]


def _field(stanza: str, name: str) -> str:
    m = re.search(rf"^{name}:\s*(.*)$", stanza, re.MULTILINE | re.IGNORECASE)
    return m.group(1).strip() if m else ""


def _deb822_host_stanzas(d: Path) -> list[str]:
    """The enabled stanzas of the host's deb822 `*.sources` files in `d`."""
    files = sorted(d.glob("*.sources")) if d.is_dir() else []
    return [st for f in files for st in _deb822_stanzas(f.read_text(errors="replace"))
            if _field(st, "Enabled").lower() != "no"]


def _one_line_host_stanzas(d: Path) -> list[str]:
    """The `deb` lines of the host's sources.list and `*.list` files in `d`, as deb822 stanzas."""
    stanzas = []
    one_line = [Path("/etc/apt/sources.list")] + (sorted(d.glob("*.list")) if d.is_dir() else [])
    for f in one_line:
        if not f.is_file():
            continue
        for line in f.read_text(errors="replace").splitlines():
            line = line.split("#", 1)[0].strip()
            m = re.match(r"^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.+)$", line)
            if not m:
                continue
            opts, uri, suite, comps = m.groups()
            st = f"Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: {comps}"
            sb = re.search(r"signed-by=(\S+)", opts or "")
            if sb:
                st += f"\nSigned-By: {sb.group(1)}"
            stanzas.append(st)
    return stanzas


def _debian_stanza(st: str) -> bool:
    """A stanza of Debian's own SUITE (or its -updates/-security), signed by Debian's keys."""
    suites = _field(st, "Suites").split()
    signed = _field(st, "Signed-By")
    return ("deb" in _field(st, "Types").split()
            and any(s == SUITE or s.startswith(SUITE + "-") for s in suites)
            and (not signed or signed.startswith("/usr/share/keyrings/debian-archive")))


def _host_mirror(kept: list[str], stanzas: list[str]) -> str:
    """The host's Debian mirror: the one its SUITE stanza uses, else the one of another Debian
    suite it lists, else DEFAULT_MIRROR."""
    for st in kept:
        if SUITE in _field(st, "Suites").split():
            return _field(st, "URIs").split()[0]
    for st in stanzas:  # another suite on the host: reuse its mirror
        uris = _field(st, "URIs").split()
        if uris and uris[0].rstrip("/").endswith("/debian"):
            return uris[0]
    return DEFAULT_MIRROR


def host_apt_sources() -> tuple[str, str]:
    """(deb822 sources for the images, mirror for debootstrap).

    The host's own Debian stanzas when it runs SUITE (so images use exactly
    the host's mirrors), else a standard SUITE list on the host's mirror."""
    d = Path("/etc/apt/sources.list.d")
    stanzas = _deb822_host_stanzas(d) + _one_line_host_stanzas(d)
    kept = [st for st in stanzas if _debian_stanza(st)]
    mirror = os.environ.get("DOCKOPT_DEBIAN_MIRROR", "") or _host_mirror(kept, stanzas)
    if kept:
        return "\n\n".join(kept) + "\n", mirror
    security = (mirror.rstrip("/") + "-security") if mirror.rstrip("/").endswith("/debian") else DEFAULT_SECURITY_MIRROR
    text = (f"Types: deb\nURIs: {mirror}\nSuites: {SUITE} {SUITE}-updates\nComponents: main\n"
            f"Signed-By: {DEBIAN_KEYRING}\n\n"
            f"Types: deb\nURIs: {security}\nSuites: {SUITE}-security\nComponents: main\n"
            f"Signed-By: {DEBIAN_KEYRING}\n")
    return text, mirror


def host_apt_conf() -> str:
    """The host's apt settings that containers need too (proxies, and the
    validity checks a snapshot mirror needs turned off)."""
    try:
        out = subprocess.run(["apt-config", "dump"], check=False, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    keep = re.compile(r'^Acquire::(?:(?:http|https|ftp)::Proxy\S*|Check-Valid-Until|Check-Date|Max-FutureTime)\s+"')
    return "".join(line + "\n" for line in out.splitlines() if keep.match(line))


def host_ca_files() -> list[Path]:
    return sorted(HOST_CA_DIR.glob("*.crt")) if HOST_CA_DIR.is_dir() else []


# --------------------------------------------------------------------------
# Docker helpers
# --------------------------------------------------------------------------

DOCKER_ENV = dict(os.environ, DOCKER_BUILDKIT="0")  # the classic builder: works with every client/engine pair


def docker(*args: str, check: bool = True, timeout: float | None = 600, **kw) -> subprocess.CompletedProcess:
    try:
        p = subprocess.run(["docker", *args], check=False, capture_output=True, text=True, env=DOCKER_ENV,
                           timeout=timeout, **kw)
    except FileNotFoundError:
        raise BuildError("the docker command is not installed (run scripts/docker-up.sh)") from None
    if check and p.returncode != 0:
        raise BuildError(f"docker {' '.join(args[:3])} failed: {(p.stderr or p.stdout).strip()[-2000:]}")
    return p


def inspect(ref: str) -> dict | None:
    p = docker("image", "inspect", "--format", "{{json .}}", ref, check=False, timeout=60)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)


def labels_of(info: dict | None) -> dict:
    return ((info or {}).get("Config") or {}).get("Labels") or {}


def layers_of(info: dict | None) -> list[str]:
    return ((info or {}).get("RootFS") or {}).get("Layers") or []


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_name(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", tag)


# --------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------


@dataclass
class Result:
    tag: str
    status: str  # built / reused / retagged / failed / skipped
    image_id: str = ""
    size: int = 0
    seconds: float = 0.0


@dataclass
class Builder:
    force: bool | set[str] = False  # True: rebuild all; a set: rebuild these primary tags
    jobs: int = 3
    dry_run: bool = False
    verbose: bool = False
    t0: float = field(default_factory=time.monotonic)
    hashes: dict[str, str] = field(default_factory=dict)
    results: dict[str, Result] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)  # image ids that lost their tag
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rootfs_lock: threading.Lock = field(default_factory=threading.Lock)
    _host: tuple[str, str, str, list[Path]] | None = None

    # -- reporting ---------------------------------------------------------
    def say(self, msg: str) -> None:
        with self._lock:
            print(f"[{time.monotonic() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    # -- hashes ------------------------------------------------------------
    def host(self) -> tuple[str, str, str, list[Path]]:
        if self._host is None:
            sources, mirror = host_apt_sources()
            self._host = (sources, mirror, host_apt_conf(), host_ca_files())
        return self._host

    def rootfs_hash(self) -> str:
        sources, mirror, aptconf, cas = self.host()
        doc = {
            "schema": SCHEMA, "suite": SUITE, "mirror": mirror, "sources": sources, "aptconf": aptconf,
            "script": sha256_file(RECIPES / "rootfs.sh"),
            "cas": {p.name: sha256_file(p) for p in cas},
        }
        return sha256_bytes(json.dumps(doc, sort_keys=True).encode())

    def recipe_hash(self, r: Recipe) -> str:
        if r.tag in self.hashes:
            return self.hashes[r.tag]
        doc: dict = {"schema": SCHEMA, "kind": r.kind, "tag": r.tag, "changes": list(r.changes),
                     "args": list(r.args), "script_args": list(r.script_args), "variant": r.variant}
        if r.parent:
            doc["parent"] = self.parent_identity(r.parent)
        if r.kind == "rootfs":
            doc["rootfs"] = self.rootfs_hash()
        if r.script and r.kind != "rootfs":
            doc["script"] = sha256_file(RECIPES / r.script)
        if r.dockerfile:
            doc["dockerfile"] = sha256_file(RECIPES / r.dockerfile)
            doc["files"] = {f: sha256_file(RECIPES / f) for f in r.files}
        h = sha256_bytes(json.dumps(doc, sort_keys=True).encode())
        self.hashes[r.tag] = h
        return h

    def parent_identity(self, tag: str) -> str:
        if tag in BY_TAG:
            return self.recipe_hash(BY_TAG[tag])
        info = inspect(tag)
        return info["Id"] if info else "missing"

    def labels(self, tag: str, recipe_hash: str) -> dict[str, str]:
        return {LABEL: "true", LABEL_FOR: tag, LABEL_RECIPE: recipe_hash}

    # -- reuse check -------------------------------------------------------
    def reusable(self, r: Recipe, tag: str, recipe_hash: str, base_layers: list[str] | None) -> dict | None:
        """The existing image under `tag` if it can be kept."""
        if tag == r.tag and (self.force is True or r.tag in (self.force or ())):
            return None
        info = inspect(tag)
        if info is None:
            return None
        lab = labels_of(info)
        if lab.get(LABEL_RECIPE) != recipe_hash or lab.get(LABEL_FOR) != tag:
            return None
        if base_layers is not None and layers_of(info)[: len(base_layers)] != base_layers:
            return None  # built on an older parent image: rebuild to share its layers
        return info

    # -- one recipe --------------------------------------------------------
    def ensure(self, r: Recipe) -> None:
        start = time.monotonic()
        h = self.recipe_hash(r)
        parent_layers = None
        info = None
        parent_pending = (self.dry_run and r.parent
                          and self.results.get(r.parent, Result("", "")).status.startswith("would"))
        if r.kind == "build" and r.on_parent and not parent_pending:
            pinfo = inspect(r.parent)
            if pinfo is None and not self.dry_run:
                raise BuildError(f"{r.tag}: its parent image {r.parent} is missing")
            parent_layers = layers_of(pinfo)
        if not parent_pending:
            info = self.reusable(r, r.tag, h, parent_layers)
        if info is not None:
            status = "reused"
        elif self.dry_run:
            self.results[r.tag] = Result(r.tag, "would build")
            for alias in r.aliases:
                self.results[alias] = Result(alias, "would tag")
            return
        else:
            info = self.build_image(r, h)
            status = "built"
            self.say(f"built {r.tag} in {time.monotonic() - start:.1f}s")
        self.results[r.tag] = Result(r.tag, status, info["Id"], info.get("Size", 0), time.monotonic() - start)
        for alias in r.aliases:
            self.ensure_alias(r, alias, info)

    def build_image(self, r: Recipe, h: str) -> dict:
        """Build `r` (recipe hash `h`) under its tag; the new image's inspect record."""
        old = inspect(r.tag)
        if old is not None and labels_of(old).get(LABEL) != "true":
            self.say(f"note: replacing {r.tag} ({old['Id'][7:19]}), which is not a stand-in")
        log = LOGS / f"{safe_name(r.tag)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"# bench.bases: {r.tag} ({r.kind}), recipe {h}\n")
        self.say(f"building {r.tag} (log: {log})")
        if r.kind == "rootfs":
            self.build_rootfs_image(r, h, log)
        elif r.kind == "script":
            self.build_script_image(r, h, log)
        else:
            self.build_dockerfile_image(r, h, log)
        info = inspect(r.tag)
        if info is None:
            raise BuildError(f"{r.tag}: built, but the image is not there")
        if old is not None and old["Id"] != info["Id"]:
            self.replaced.append(old["Id"])
        return info

    def ensure_alias(self, r: Recipe, alias: str, primary: dict) -> None:
        """An alias is its own image (so that its `for` label names it) that
        shares every layer of the primary: FROM primary + LABEL."""
        h = sha256_bytes(f"{SCHEMA}:alias:{alias}:{self.recipe_hash(r)}".encode())
        layers = layers_of(primary)
        info = inspect(alias)
        if (info is not None and labels_of(info).get(LABEL_RECIPE) == h and labels_of(info).get(LABEL_FOR) == alias
                and layers_of(info) == layers):
            self.results[alias] = Result(alias, "reused", info["Id"], info.get("Size", 0))
            return
        if self.dry_run:
            self.results[alias] = Result(alias, "would tag")
            return
        args = ["build", "--force-rm", "-q", "-t", alias]
        for k, v in self.labels(alias, h).items():
            args += ["--label", f"{k}={v}"]
        docker(*args, "-", input=f"FROM {r.tag}\n")
        new = inspect(alias)
        if new is None:
            raise BuildError(f"{alias}: tagging failed")
        if info is not None and info["Id"] != new["Id"]:
            self.replaced.append(info["Id"])
        self.results[alias] = Result(alias, "retagged", new["Id"], new.get("Size", 0))

    # -- kinds -------------------------------------------------------------
    def run_logged(self, cmd: list[str], log: Path, *, stdin=None, stdout=None, timeout: float = 3600,
                   env: dict | None = None) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as lf:
            lf.write(f"\n$ {' '.join(cmd)}\n".encode())
            lf.flush()
            try:
                p = subprocess.run(cmd, check=False, stdin=stdin, stdout=stdout if stdout is not None else lf,
                                   stderr=lf, env=env or DOCKER_ENV, timeout=timeout)
            except FileNotFoundError as e:
                raise BuildError(f"{cmd[0]} is not installed (run scripts/docker-up.sh): {e}") from None
            except subprocess.TimeoutExpired:
                raise BuildError(f"`{' '.join(cmd[:4])}` timed out after {timeout:.0f}s; see {log}") from None
        if p.returncode != 0:
            tail = log.read_text(errors="replace").splitlines()[-25:]
            raise BuildError(f"`{' '.join(cmd[:4])} ...` exited {p.returncode}; see {log}; last lines:\n  "
                             + "\n  ".join(tail))

    def import_tar(self, tar: Path, r: Recipe, h: str, log: Path) -> None:
        cmd = ["docker", "import"]
        for c in r.changes:
            cmd += ["--change", c]
        for k, v in self.labels(r.tag, h).items():
            cmd += ["--change", f"LABEL {k}={v}"]
        self.run_logged([*cmd, str(tar), r.tag], log)

    def rootfs_tarballs(self, log: Path) -> dict[str, Path]:
        """The cached debootstrap tarballs {"full": ..., "slim": ...}, made
        by bench/bases/rootfs.sh when the cache has none for this input."""
        key = self.rootfs_hash()[:16]
        out = {v: CACHE / "rootfs" / f"{SUITE}-{key}-{v}.tar" for v in ("full", "slim")}
        with self._rootfs_lock:
            if all(p.is_file() for p in out.values()):
                return out
            if os.geteuid() != 0:
                raise BuildError("building the Debian root needs root (debootstrap, chroot); run as root")
            if shutil.which("debootstrap") is None:
                raise BuildError("debootstrap is not installed; run scripts/docker-up.sh "
                                 "(or apt-get install debootstrap)")
            sources, mirror, aptconf, cas = self.host()
            work = CACHE / "work"
            work.mkdir(parents=True, exist_ok=True)
            (work / "debian.sources").write_text(sources)
            (work / "apt.conf").write_text(aptconf)
            ca_dir = work / "ca"
            shutil.rmtree(ca_dir, ignore_errors=True)
            ca_dir.mkdir()
            for p in cas:
                shutil.copy2(p, ca_dir / p.name)
            env = dict(os.environ, ROOT=str(work / f"root-{SUITE}"), SUITE=SUITE, MIRROR=mirror,
                       SOURCES=str(work / "debian.sources"), APTCONF=str(work / "apt.conf"), CA_DIR=str(ca_dir),
                       DEB_CACHE=str(CACHE / "debootstrap-debs"), OUT_FULL=str(out["full"]),
                       OUT_SLIM=str(out["slim"]), DEBIAN_FRONTEND="noninteractive")
            self.say(f"debootstrap {SUITE} from {mirror} (cached in {out['full'].parent})")
            self.run_logged(["bash", str(RECIPES / "rootfs.sh")], log, env=env)
            for old in (CACHE / "rootfs").glob(f"{SUITE}-*.tar"):  # drop tarballs of older inputs
                if old not in out.values():
                    old.unlink(missing_ok=True)
            return out

    def build_rootfs_image(self, r: Recipe, h: str, log: Path) -> None:
        tar = self.rootfs_tarballs(log)[r.variant]
        self.import_tar(tar, r, h, log)

    def build_script_image(self, r: Recipe, h: str, log: Path) -> None:
        tar = CACHE / "roots" / f"{safe_name(r.tag)}-{h[:16]}.tar"
        if not tar.is_file():
            tar.parent.mkdir(parents=True, exist_ok=True)
            for old in tar.parent.glob(f"{safe_name(r.tag)}-*.tar"):
                old.unlink(missing_ok=True)
            tmp = tar.with_suffix(".tmp")
            with open(RECIPES / r.script, "rb") as script, open(tmp, "wb") as out:
                self.run_logged(["docker", "run", "--rm", "-i", "-e", "DEBIAN_FRONTEND=noninteractive", r.parent,
                                 "bash", "-s", "--", *r.script_args], log, stdin=script, stdout=out)
            tmp.rename(tar)
        self.import_tar(tar, r, h, log)

    def build_dockerfile_image(self, r: Recipe, h: str, log: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="dockopt-base-") as ctx:
            shutil.copy2(RECIPES / r.dockerfile, Path(ctx) / "Dockerfile")
            for f in r.files:
                shutil.copy2(RECIPES / f, Path(ctx) / f)
            cmd = ["docker", "build", "--force-rm", "-t", r.tag]
            if self.force is True or r.tag in (self.force or ()):
                cmd.append("--no-cache")  # else the builder's cache hands back the same image
            for k, v in r.args:
                cmd += ["--build-arg", f"{k}={v}"]
            for k, v in self.labels(r.tag, h).items():
                cmd += ["--label", f"{k}={v}"]
            self.run_logged([*cmd, ctx], log)

    # -- all of them -------------------------------------------------------
    def run(self, recipes: list[Recipe]) -> bool:
        """Build what is needed, parents before children, `jobs` at a time.
        True when everything is there."""
        children: dict[str, list[str]] = {}
        for r in recipes:
            if r.parent:
                children.setdefault(r.parent, []).append(r.tag)

        def priority(tag: str) -> int:  # longest chain of work hanging below
            return BY_TAG[tag].weight + max((priority(c) for c in children.get(tag, [])), default=0)

        pending = {r.tag: r for r in recipes}
        running: dict[cf.Future, str] = {}
        done: set[str] = set()
        failed: set[str] = set()
        ok = True
        with cf.ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            while pending or running:
                self.skip_doomed(pending, failed)
                ready = [t for t, r in pending.items() if r.parent is None or r.parent in done
                         or r.parent not in BY_TAG]
                ready.sort(key=priority, reverse=True)
                while ready and len(running) < max(1, self.jobs):
                    tag = ready.pop(0)
                    del pending[tag]
                    running[pool.submit(self.ensure, BY_TAG[tag])] = tag
                if not running:
                    break
                finished, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    tag = running.pop(fut)
                    err = fut.exception()
                    if err is None:
                        done.add(tag)
                        continue
                    ok = False
                    failed.add(tag)
                    self.record_failure(tag, err)
        return ok and not failed

    def skip_doomed(self, pending: dict[str, Recipe], failed: set[str]) -> None:
        """Take the recipes whose parent failed out of `pending`: they fail too, as skipped."""
        for tag in list(pending):
            p = pending[tag].parent
            if p in failed:
                failed.add(tag)
                del pending[tag]
                self.results[tag] = Result(tag, f"skipped ({p} failed)")
                for a in BY_TAG[tag].aliases:
                    self.results[a] = Result(a, f"skipped ({p} failed)")

    def record_failure(self, tag: str, err: BaseException) -> None:
        """Note that `tag` failed with `err` (with its traceback when it is not a BuildError)."""
        self.results[tag] = Result(tag, "FAILED")
        for a in BY_TAG[tag].aliases:
            self.results.setdefault(a, Result(a, "FAILED"))
        self.say(f"FAILED {tag}: {err}")
        if not isinstance(err, BuildError):
            import traceback

            traceback.print_exception(err, file=sys.stderr)

    def prune_replaced(self) -> None:
        """Remove the images that rebuilt stand-ins replaced, when nothing else
        uses them (never forced)."""
        ids = list(dict.fromkeys(self.replaced))
        if not ids:
            return
        p = docker("image", "inspect", "--format", "{{json .}}", *ids, check=False, timeout=120)
        infos = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        gone = [i["Id"] for i in infos if not i.get("RepoTags") and labels_of(i).get(LABEL) == "true"]
        if gone:  # images that others built on keep theirs: `rm` refuses those, which is fine
            docker("image", "rm", *gone, check=False, timeout=300)


@contextlib.contextmanager
def exclusive_run():
    """One bench.bases run at a time per cache (others working in the same
    tree may start one concurrently): the second waits, then reuses."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "bases.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("bench.bases: another run is building; waiting for it", file=sys.stderr, flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def human(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n else "-"


def print_table(results: dict[str, Result], out=sys.stdout) -> None:
    rows = [("TAG", "IMAGE ID", "SIZE", "STATUS")]
    for t in [t for r in RECIPE_LIST for t in r.tags]:
        if t in results:
            res = results[t]
            rows.append((t, res.image_id.removeprefix("sha256:")[:12] or "-", human(res.size), res.status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = (c.ljust(w) if i != 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        print("  ".join(cells).rstrip(), file=out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bases", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="tags, aliases or repositories (default: all)")
    ap.add_argument("--force", action="store_true",
                    help="rebuild the named images (all without NAMES) even if unchanged; what they derive from "
                         "is only rebuilt if it changed")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("DOCKOPT_BASES_JOBS", "3")),
                    help="builds at a time (default 3)")
    ap.add_argument("-n", "--dry-run", action="store_true", help="only say what would be built")
    ap.add_argument("--list", action="store_true", help="list the stand-ins and exit")
    a = ap.parse_args(argv)

    if a.list:
        for r in RECIPE_LIST:
            src = r.dockerfile or r.script
            print(f"{r.tag:40} {'from ' + r.parent if r.parent else r.kind:32} {src:20} {' '.join(r.aliases)}")
        return 0
    t0 = time.monotonic()
    try:
        recipes, wanted = select(a.names)
        force: bool | set[str] = False
        if a.force:
            force = True if not a.names else {BY_ANY_TAG[t].tag for t in wanted}
        if docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=60).returncode != 0:
            raise BuildError("the Docker engine does not answer `docker info`; run scripts/docker-up.sh first")
        b = Builder(force=force, jobs=a.jobs, dry_run=a.dry_run)
        with contextlib.nullcontext() if a.dry_run else exclusive_run():
            ok = b.run(recipes)
            if not a.dry_run:
                b.prune_replaced()
    except BuildError as e:
        print(f"bench.bases: ERROR: {e}", file=sys.stderr)
        return 1
    print_table(b.results)
    built = sum(1 for r in b.results.values() if r.status == "built")
    print(f"{len(b.results)} tags, {built} images built, in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    if not ok:
        bad = [t for t, r in b.results.items() if r.status in ("FAILED",) or r.status.startswith("skipped")]
        print(f"bench.bases: ERROR: could not build {', '.join(bad)} (logs in {LOGS})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

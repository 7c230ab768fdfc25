"""The Docker engine the verifier talks to: connection, labels, bookkeeping, cleanup.

Everything a verification creates on the engine is either labelled
`org.dockopt.run=<run id>` or, where the engine gives no way to label it
(intermediate images of the classic builder, BuildKit cache records),
recorded here by id as the build log names it.  `Engine.cleanup()` removes
all of it, and only it: other people's images, containers and cache on the
same engine are never touched.  The ids are also kept in a journal on disk
(journal.py), so that when the engine dies mid-run the next run against it
removes what this one could not (`Engine.sweep_stale()`).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import docker
import docker.errors
import requests.exceptions

from . import journal
from .report import Cleanup

RUN_LABEL = "org.dockopt.run"
DEFAULT_HOST = "unix:///var/run/docker.sock"
CONNECT_TIMEOUT = 10.0     # seconds to reach the engine at all
API_TIMEOUT = 120.0        # default for ordinary API calls (inspect, remove, save chunks)

# Run ids this process created: lets a test session check it left nothing
# behind without being confused by other people's runs on a shared engine.
RUN_IDS: list[str] = []

TRANSPORT_ERRORS = (
    requests.exceptions.RequestException,
    docker.errors.DockerException,
    ConnectionError,
    TimeoutError,
    OSError,
)


class EngineFault(RuntimeError):
    """The engine failed the verification (stopped, out of disk, unreachable): not the file's fault."""


class EngineUnavailable(EngineFault):
    """No Docker engine answers where DOCKER_HOST (or the default socket) points."""


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _unavailable(host: str, reason: object) -> EngineUnavailable:
    return EngineUnavailable(
        f"no Docker engine reachable at {host} ({reason}). Start one "
        "(`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd), "
        "or set DOCKER_HOST to a running engine (e.g. DOCKER_HOST=unix:///run/docker.sock)."
    )


@dataclass
class BuildkitCli:
    """A docker CLI that can drive BuildKit on this engine."""

    path: str
    how: str      # "buildx" or "builtin" (clients before 23.0 carry their own BuildKit client)
    version: str


@dataclass
class Engine:
    """A connected engine plus what one verification run created on it."""

    client: docker.DockerClient
    host: str
    version: str
    api_version: str
    run_id: str
    engine_id: str = ""
    data_root: str = ""      # the engine's DockerRootDir, as it reports it
    images: list[str] = field(default_factory=list)       # creation order
    containers: list[str] = field(default_factory=list)
    # BuildKit cache bookkeeping: ids present before our first BuildKit build,
    # and the (start, end) wall-clock windows of our BuildKit builds.
    cache_before: frozenset[str] | None = None
    buildkit_windows: list[tuple[float, float]] = field(default_factory=list)
    buildkit_texts: list[str] = field(default_factory=list)
    # set when a build was cut short (timeout, Ctrl-C, lost connection): the
    # daemon may still be finishing the step it was in
    interrupted: bool = False
    # values of build arguments: never shown (see redact())
    secrets: tuple[str, ...] = ()
    _cli: BuildkitCli | str | None = None
    _journal: journal.Journal | None = None

    def redact(self, text: str) -> str:
        """`text` with every build-argument value replaced by ***."""
        for value in self.secrets:
            text = text.replace(value, "***")
        return text

    @property
    def labels(self) -> dict[str, str]:
        return {RUN_LABEL: self.run_id}

    @property
    def major(self) -> int:
        try:
            return int(self.version.split(".", 1)[0])
        except ValueError:
            return 0

    # -- bookkeeping -------------------------------------------------------

    def track_image(self, image_id: str | None) -> None:
        if image_id and image_id not in self.images:
            self.images.append(image_id)
            self._record()

    def track_container(self, container_id: str | None) -> None:
        if container_id and container_id not in self.containers:
            self.containers.append(container_id)
            self._record()

    def _record(self) -> None:
        if self._journal is not None:
            self._journal.record(self.images, self.containers)

    def alive(self, timeout: float = 5.0) -> bool:
        """Does the engine still answer?"""
        saved = self.client.api.timeout
        try:
            self.client.api.timeout = timeout
            return bool(self.client.ping())
        except TRANSPORT_ERRORS:
            return False
        finally:
            self.client.api.timeout = saved

    def sweep_stale(self) -> int:
        """Remove what earlier runs that died left on this engine; return how many objects."""
        removed = 0
        for stale in journal.stale_runs(self.engine_id):
            ghost = Engine(client=self.client, host=self.host, version=self.version,
                           api_version=self.api_version, run_id=stale.run_id,
                           images=stale.images, containers=stale.containers)
            result = ghost.cleanup()
            removed += result.images_removed + result.containers_removed
            stale.done(removed_all=not result.leftovers)
        return removed

    # -- BuildKit ----------------------------------------------------------

    def buildkit_cli(self) -> BuildkitCli | str:
        """The docker CLI to build with BuildKit, or why there is none."""
        if self._cli is None:
            self._cli = find_buildkit_cli(self.host)
        return self._cli

    def note_buildkit_build(self, text: str) -> None:
        """Called before each BuildKit build, so its cache records can be found later."""
        if self.cache_before is None:
            self.cache_before = frozenset(self._cache_records().keys())
        self.buildkit_texts.append(text)

    def _cache_records(self) -> dict[str, dict]:
        try:
            df = self.client.df()
        except TRANSPORT_ERRORS:
            return {}
        return {r["ID"]: r for r in (df.get("BuildCache") or [])}

    # -- cleanup -----------------------------------------------------------

    def _settle(self, quiet: float = 1.5, limit: float = 20.0) -> None:
        """After an interrupted build, wait until the daemon stops adding to it.

        A classic build that loses its client finishes the step in flight
        (a COPY commits its image) before it notices; that image is a child
        of one of ours but was never named in the log we read.  Likewise an
        interrupted BuildKit export may still write its (labelled) image.  So:
        adopt children of our images and containers made from them, until
        nothing new has appeared for `quiet` seconds.
        """
        label = f"{RUN_LABEL}={self.run_id}"
        end = time.monotonic() + limit
        last_change = time.monotonic()
        while time.monotonic() < end:
            before = (len(self.images), len(self.containers))
            try:
                rows = self.client.api.images(all=True)
                labelled = set(self._images(label))
                containers = self.client.api.containers(all=True)
            except TRANSPORT_ERRORS:
                return
            mine = {t.split(":")[-1][:12] for t in self.images}
            ours = {r["Id"] for r in rows if r["Id"].split(":")[-1][:12] in mine} | labelled
            grew = True
            while grew:      # children, grandchildren, ... in creation order
                grew = False
                for r in sorted(rows, key=lambda r: r.get("Created", 0)):
                    if r["Id"] not in ours and r.get("ParentId") in ours:
                        ours.add(r["Id"])
                        self.track_image(r["Id"])
                        grew = True
            for iid in labelled:
                self.track_image(iid)
            for c in containers:
                if c.get("ImageID") in ours:
                    self.track_container(c["Id"])
            if (len(self.images), len(self.containers)) != before:
                last_change = time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return
            time.sleep(0.3)

    def cleanup(self) -> Cleanup:
        """Remove every container, image and cache record of this run; report leftovers."""
        containers = images = pruned = 0
        label = f"{RUN_LABEL}={self.run_id}"
        if self.interrupted:
            self._settle()

        ids = list(self.containers)
        try:
            ids += self._containers(label)
        except TRANSPORT_ERRORS:
            pass
        for cid in dict.fromkeys(ids):
            try:
                self.client.api.remove_container(cid, force=True, v=True)
                containers += 1
            except docker.errors.NotFound:
                pass
            except TRANSPORT_ERRORS:
                pass

        # Children before parents: the classic builder chains each step's image
        # on the previous one, and an image with children cannot be removed.
        ids = list(reversed(self.images))
        try:
            ids = self._images(label) + ids
        except TRANSPORT_ERRORS:
            pass
        for iid in dict.fromkeys(ids):
            try:
                deleted = self.client.api.remove_image(iid, force=False, noprune=False)
                images += sum(1 for d in deleted or [] if "Deleted" in d)
            except docker.errors.NotFound:
                pass  # already gone as an untagged parent of an image removed before
            except TRANSPORT_ERRORS:
                pass

        pruned = self._prune_build_cache()
        left = tuple(self.leftovers())
        if self._journal is not None:
            self._journal.close(keep=bool(left))
            self._journal = None
        return Cleanup(images_removed=images, containers_removed=containers,
                       cache_records_pruned=pruned, leftovers=left)

    # The low-level list calls return ids only; the high-level ones inspect
    # every image, which takes seconds on a busy engine.
    def _images(self, label: str | None = None) -> list[str]:
        filters = {"label": label} if label else None
        return list(self.client.api.images(all=True, quiet=True, filters=filters))

    def _containers(self, label: str) -> list[str]:
        return [c["Id"] for c in self.client.api.containers(all=True, filters={"label": label})]

    def leftovers(self) -> list[str]:
        label = f"{RUN_LABEL}={self.run_id}"
        out: list[str] = []
        try:
            out += [f"container {c[:12]}" for c in self._containers(label)]
            out += [f"image {i.split(':')[-1][:12]}" for i in self._images(label)]
            # tracked ids may be the 12-digit short form the classic builder prints
            present = {i.split(":")[-1] for i in self._images()}
            for tracked in self.images:
                short = tracked.split(":")[-1][:12]
                entry = f"image {short}"
                if entry not in out and any(p.startswith(short) for p in present):
                    out.append(entry)
        except TRANSPORT_ERRORS as exc:
            out.append(f"(could not list: {exc})")
        return out

    def _prune_build_cache(self) -> int:
        """Prune the BuildKit cache records our builds made.

        The engine's `label` filter for build cache is accepted but ignored
        (moby leaves it as a TODO), so pruning "by label" would prune
        everybody's cache.  Records are instead chosen by id: created during
        one of our BuildKit builds, absent before the first one, not in use,
        and describing a local source or one of our own RUN commands.  Moby
        matches the `id` filter as a regular expression, so one call per
        batch removes them.
        """
        if self.cache_before is None or not self.buildkit_windows:
            return 0
        commands = _run_commands(self.buildkit_texts)
        chosen = []
        for rid, rec in self._cache_records().items():
            if rid in self.cache_before or rec.get("InUse"):
                continue
            created = _parse_time(rec.get("CreatedAt"))
            if created is None or not any(a - 2 <= created <= b + 2 for a, b in self.buildkit_windows):
                continue
            desc = rec.get("Description") or ""
            if desc.startswith(("local source for ", "fileop target", "from local")) or any(c in desc for c in commands):
                chosen.append(rid)
        pruned = 0
        for start in range(0, len(chosen), 40):
            batch = chosen[start:start + 40]
            pattern = "^(" + "|".join(re.escape(i) for i in batch) + ")$"
            try:
                result = self.client.api.prune_builds(filters={"id": pattern}, all=True)
                pruned += len(result.get("CachesDeleted") or [])
            except TRANSPORT_ERRORS:
                pass
        return pruned


def _run_commands(texts: list[str]) -> list[str]:
    from .features import logical_lines

    out = []
    for text in texts:
        for line in logical_lines(text):
            m = re.match(r"(?i)^RUN\s+(.*)$", line)
            if not m:
                continue
            words = m.group(1).split()
            while words and words[0].startswith("--"):
                words.pop(0)
            cmd = " ".join(words)
            if len(cmd) >= 8:
                out.append(cmd)
    return out


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    # Go prints nanoseconds; Python's fromisoformat wants at most microseconds.
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", value)
    if not m:
        return None
    frac = (m.group(2) or ".0")[:7]
    tz = m.group(3) or "Z"
    tz = "+00:00" if tz == "Z" else tz
    try:
        return datetime.fromisoformat(m.group(1) + frac + tz).timestamp()
    except ValueError:
        return None


def connect(*, host: str | None = None, api_timeout: float = API_TIMEOUT) -> Engine:
    """Connect to `host` (default: what DOCKER_HOST names); raise EngineUnavailable quickly if none."""
    host = host or engine_host()
    try:
        # Both ask the engine for its API version right away, bounded by the
        # short connect timeout; later calls get the longer API timeout.
        if host == engine_host():
            client = docker.from_env(timeout=CONNECT_TIMEOUT)     # honours DOCKER_TLS_VERIFY etc.
        else:
            client = docker.DockerClient(base_url=host, timeout=CONNECT_TIMEOUT)
        client.ping()
        info = client.version()
        details = client.info()
    except TRANSPORT_ERRORS as exc:
        raise _unavailable(host, exc) from None
    client.api.timeout = api_timeout
    run_id = uuid.uuid4().hex
    RUN_IDS.append(run_id)
    engine_id = str(details.get("ID") or host)
    return Engine(client=client, host=host, version=str(info.get("Version", "?")),
                  api_version=str(info.get("ApiVersion", "?")), run_id=run_id, engine_id=engine_id,
                  data_root=str(details.get("DockerRootDir") or ""),
                  _journal=journal.Journal(engine_id, run_id))


def find_buildkit_cli(host: str | None = None) -> BuildkitCli | str:
    """Find a docker CLI that builds with BuildKit against this engine.

    Clients from 23.0 on need the buildx plugin for BuildKit and fail without
    it; older clients carry a BuildKit client of their own.  Hosts often have
    both (a new client on PATH, the distribution's older one in /usr/bin), so
    every candidate is tried.  DOCKOPT_DOCKER_CLI names one explicitly.
    """
    candidates = [os.environ.get("DOCKOPT_DOCKER_CLI"), shutil.which("docker"),
                  "/usr/bin/docker", "/usr/local/bin/docker"]
    seen: set[str] = set()
    tried: list[str] = []
    for cand in candidates:
        if not cand or not os.path.exists(cand):
            continue
        real = os.path.realpath(cand)
        if real in seen:
            continue
        seen.add(real)
        env = dict(os.environ, DOCKER_HOST=host or engine_host())
        version = _cli_output([cand, "version", "--format", "{{.Client.Version}}"], env)
        if _cli_ok([cand, "buildx", "version"], env):
            return BuildkitCli(path=cand, how="buildx", version=version or "?")
        major = _major(version)
        if major is not None and major < 23:
            return BuildkitCli(path=cand, how="builtin", version=version)
        tried.append(f"{cand} (client {version or '?'}, no buildx plugin)")
    if not tried:
        return "no docker CLI found (BuildKit builds go through `docker build`)"
    return ("no docker CLI here can build with BuildKit: " + "; ".join(tried)
            + ". Install the buildx plugin (Debian: docker-buildx) or set DOCKOPT_DOCKER_CLI")


def _cli_ok(argv: list[str], env: dict) -> bool:
    try:
        return subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _cli_output(argv: list[str], env: dict) -> str:
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    # `docker version` exits non-zero when the server part fails but still
    # prints the client version first.
    return proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""


def _major(version: str) -> int | None:
    m = re.match(r"^(\d+)\.", version or "")
    return int(m.group(1)) if m else None

"""What dockopt knows about base images: names, distro releases, toolchains, runtimes, and the
working directory and environment they start a stage with.

Nothing here talks to an engine or a registry: the facts come from the image reference alone
(repository, tag), so they describe the official images as published. An image not listed here
is unknown: its WORKDIR, USER and programs are whatever its authors chose.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# Debian and Ubuntu codenames -> (family, version) and back
DEBIAN_CODENAMES = {"trixie": "13", "bookworm": "12", "bullseye": "11", "buster": "10", "stretch": "9"}
DEBIAN_VERSIONS = {v: k for k, v in DEBIAN_CODENAMES.items()}
UBUNTU_CODENAMES = {"noble": "24.04", "jammy": "22.04", "focal": "20.04", "bionic": "18.04"}
# the Debian release of an official image whose tag names none (the current default variant)
DEFAULT_DEBIAN = "bookworm"


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: ``[registry/]repository[:tag][@digest]``."""

    raw: str
    registry: str | None
    repository: str          # without the registry; "library/" dropped for Docker Hub
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Last path component of the repository (``static-debian12`` for distroless)."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def official(self) -> bool:
        return self.registry is None and "/" not in self.repository

    @property
    def path(self) -> str:
        """Registry and repository, no tag: ``gcr.io/distroless/static-debian12``."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def tag_or_latest(self) -> str:
        return self.tag or "latest"

    def with_tag(self, tag: str | None) -> str:
        base = self.path
        return f"{base}:{tag}" if tag else base


@lru_cache(maxsize=4096)
def parse_image(ref: str) -> ImageRef | None:
    """Parse an image reference; None when it holds variables or is not a reference at all.
    (Every rule asks it of every stage's base: the answer, an immutable value, is kept.)"""
    ref = ref.strip()
    if not ref or "$" in ref or len(ref.split()) != 1:
        return None
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    registry = None
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts[0]
        parts = parts[1:]
    rest = "/".join(parts)
    tag = None
    if ":" in parts[-1]:
        rest, tag = rest.rsplit(":", 1)
    if registry in (None, "docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = None
        rest = rest.removeprefix("library/")
    if not rest:
        return None
    return ImageRef(ref if digest is None else f"{ref}@{digest}", registry, rest.lower(), tag, digest)


# --------------------------------------------------------------------------- distro release

@dataclass(frozen=True)
class Release:
    family: str          # "debian", "ubuntu", "alpine", "distroless", "scratch", "busybox", "unknown"
    codename: str | None  # "bookworm", "jammy", "3.19" for alpine, None when unknown

    @property
    def debian_version(self) -> str | None:
        return DEBIAN_CODENAMES.get(self.codename or "")


_DEBIAN_BASED_OFFICIAL = {
    "golang", "node", "python", "rust", "gcc", "eclipse-temurin", "openjdk", "maven", "gradle",
    "nginx", "httpd", "ruby", "php", "perl", "buildpack-deps", "elixir", "erlang", "haskell",
    "julia", "r-base", "swift", "clojure", "sapmachine", "ibm-semeru-runtimes", "amazoncorretto",
}


def release_of(image: ImageRef) -> Release:
    """The distro family and release an image is built on, as far as its name tells."""
    tag = (image.tag or "").lower()
    for reader in _RELEASE_READERS:
        release = reader(image, tag)
        if release is not None:
            return release
    return Release("unknown", None)


def _minimal_release(image: ImageRef, tag: str) -> Release | None:
    if image.repository == "scratch":
        return Release("scratch", None)
    if image.registry == "gcr.io" and image.repository.startswith("distroless/"):
        m = re.search(r"debian(\d+)", image.name + "-" + tag)
        version = m.group(1) if m else "12"
        return Release("distroless", DEBIAN_VERSIONS.get(version, DEFAULT_DEBIAN))
    if image.name == "busybox":
        return Release("busybox", None)
    return None


def _alpine_release(image: ImageRef, tag: str) -> Release | None:
    if image.name == "alpine":
        m = re.match(r"(\d+\.\d+)", tag)
        return Release("alpine", m.group(1) if m else None)
    if "alpine" in tag:
        m = re.search(r"alpine(\d+\.\d+)", tag)
        return Release("alpine", m.group(1) if m else None)
    return None


def _codename_release(image: ImageRef, tag: str) -> Release | None:
    for code in DEBIAN_CODENAMES:
        if code in tag:
            return Release("debian", code)
    for code in UBUNTU_CODENAMES:
        if code in tag:
            return Release("ubuntu", code)
    return None


def _distro_release(image: ImageRef, tag: str) -> Release | None:
    if image.name == "debian":
        m = re.match(r"(\d+)", tag)
        if m and m.group(1) in DEBIAN_VERSIONS:
            return Release("debian", DEBIAN_VERSIONS[m.group(1)])
        return Release("debian", DEFAULT_DEBIAN if tag in ("", "latest", "stable", "stable-slim") else None)
    if image.name == "ubuntu":
        for code, version in UBUNTU_CODENAMES.items():
            if tag.startswith(version):
                return Release("ubuntu", code)
        return Release("ubuntu", None)
    return None


def _official_release(image: ImageRef, tag: str) -> Release | None:
    if not (image.official and image.name in _DEBIAN_BASED_OFFICIAL):
        return None
    if image.name in ("eclipse-temurin", "sapmachine"):
        # eclipse-temurin's default variant is Ubuntu (jammy/noble)
        return Release("ubuntu", None)
    if image.name == "amazoncorretto":
        return Release("unknown", None)
    return Release("debian", DEFAULT_DEBIAN)


_RELEASE_READERS: tuple[Callable[[ImageRef, str], Release | None], ...] = (
    _minimal_release, _alpine_release, _codename_release, _distro_release, _official_release)


# --------------------------------------------------------------------------- toolchains

# the language whose toolchain an image carries, by repository name
_TOOLCHAIN_IMAGES = {
    "golang": "go", "rust": "rust", "gcc": "c", "buildpack-deps": "c",
    "maven": "java", "gradle": "java", "openjdk": "java", "amazoncorretto": "java",
    "eclipse-temurin": "java", "sapmachine": "java", "ibm-semeru-runtimes": "java",
}


def toolchain_of(image: ImageRef) -> str | None:
    """The language whose compiler the image ships (``go`` for golang), None when none is known.

    JDK-less Java images (``-jre`` tags) and slim/alpine Node/Python images carry no toolchain."""
    name = image.name
    tag = (image.tag or "").lower()
    lang = _TOOLCHAIN_IMAGES.get(name)
    if lang == "java" and "jre" in tag:
        return None
    if lang is None and image.registry in ("docker.io", None) and image.repository.startswith("bitnami/"):
        return None
    return lang


def java_version(image: ImageRef) -> str | None:
    tag = (image.tag or "").lower()
    for pattern in (r"(?:jdk|temurin-|openjdk-|corretto-|java)(\d{1,2})\b", r"^(\d{1,2})(?:\b|[.-])"):
        m = re.search(pattern, tag)
        if m and 8 <= int(m.group(1)) <= 30:
            return m.group(1)
    return None


# --------------------------------------------------------------------------- runtime images

def slim_of(image: ImageRef) -> str | None:
    """The -slim variant of an official node/python image (same release), the image itself when
    it already is slim or alpine; None for others."""
    if not image.official or image.name not in ("node", "python"):
        return None
    tag = image.tag_or_latest
    low = tag.lower()
    if "slim" in low or "alpine" in low:
        return image.with_tag(tag)
    if low == "latest":
        return image.with_tag("slim")
    if image.name == "python":
        # python:3.11 -> 3.11-slim, python:3.11-bookworm -> 3.11-slim-bookworm
        for code in DEBIAN_CODENAMES:
            if low.endswith("-" + code):
                return image.with_tag(tag[: -len(code) - 1] + "-slim-" + code)
            if low == code:
                return image.with_tag("slim-" + code)
        return image.with_tag(tag + "-slim")
    # node:18 -> 18-slim, node:18-bookworm -> 18-bookworm-slim
    return image.with_tag(tag + "-slim")


def debian_slim(release: Release) -> str | None:
    """The small image of the builder's distro release (glibc; a shell; apt)."""
    if release.family in ("debian", "distroless") and release.codename:
        return f"debian:{release.codename}-slim"
    if release.family == "ubuntu" and release.codename:
        return f"ubuntu:{release.codename}"
    if release.family == "alpine":
        return f"alpine:{release.codename}" if release.codename else "alpine"
    return None


def distroless_static(release: Release) -> str:
    version = release.debian_version if release.family in ("debian", "distroless") else None
    return f"gcr.io/distroless/static-debian{version or DEBIAN_CODENAMES[DEFAULT_DEBIAN]}"


def jre_of(image: ImageRef) -> str | None:
    """A JRE image for the Java version of a JDK/build-tool image."""
    version = java_version(image)
    if version is None:
        return None
    tag = (image.tag or "").lower()
    suffix = ""
    for os_tag in ("alpine", "jammy", "noble", "focal", "ubi9-minimal"):
        if os_tag in tag:
            suffix = "-" + os_tag
            break
    return f"eclipse-temurin:{version}-jre{suffix}"


# --------------------------------------------------------------------------- image facts

@dataclass(frozen=True)
class ImageFacts:
    shell: bool | None           # has /bin/sh; None when unknown
    user_setup: str | None       # "useradd", "adduser", "distroless", "scratch", "busybox", or None
    named_user: str | None       # a ready-made non-root user of the image ("node", "nonroot")
    runs_as_root: bool | None    # the image's own USER is root (None when unknown)


_NONROOT_IMAGE_PREFIXES = (
    "bitnami/", "jenkins/", "nginxinc/nginx-unprivileged", "grafana/", "prom/", "sonarqube",
    "cgr.dev/chainguard/", "chainguard/", "quay.io/keycloak", "docker.elastic.co/",
    "gitlab/gitlab-runner", "selenium/", "mcr.microsoft.com/dotnet/nightly",
)


def facts_of(image: ImageRef) -> ImageFacts:
    name = image.name
    tag = (image.tag or "").lower()
    full = image.path
    if image.repository == "scratch":
        return ImageFacts(False, "scratch", None, True)
    if full.startswith("gcr.io/distroless/"):
        nonroot = "nonroot" in tag
        return ImageFacts("debug" in tag, "distroless", "nonroot", not nonroot)
    if any(full.startswith(p) or image.repository.startswith(p) for p in _NONROOT_IMAGE_PREFIXES):
        return ImageFacts(None, None, None, False)
    if name == "busybox":
        return ImageFacts(True, "busybox", None, True)
    rel = release_of(image)
    if rel.family == "alpine":
        return ImageFacts(True, "adduser", "node" if name == "node" else None, True)
    if rel.family in ("debian", "ubuntu") or (image.official and name in _DEBIAN_BASED_OFFICIAL
                                               and name != "amazoncorretto"):
        return ImageFacts(True, "useradd", "node" if name == "node" else None, True)
    return ImageFacts(None, None, None, None)


# the uid:gid of the ready-made users of the images that ship one
_NAMED_USER_IDS = {"node": (1000, 1000), "nonroot": (65532, 65532)}


def user_ids(ref: str, user: str) -> tuple[int, int | None] | None:
    """(uid, gid) of a `USER` value in an image built on `ref`: numbers as written, the image's
    ready-made user by name; None when only the image's passwd file could tell."""
    name, _colon, group = user.partition(":")
    if name.isdigit():
        return int(name), int(group) if group.isdigit() else None
    named = image_facts(ref).named_user
    if named is not None and named == name and (not group or group == name):
        return _NAMED_USER_IDS.get(named)
    return None


def image_facts(ref: str) -> ImageFacts:
    image = parse_image(ref)
    if image is None:
        return ImageFacts(None, None, None, None)
    return facts_of(image)


# programs a runtime image provides, by image name (for checking that a CMD still runs)
RUNTIME_PROGRAMS = {
    "node": {"node", "npm", "npx", "yarn", "corepack"},
    "python": {"python", "python3", "pip", "pip3"},
    "eclipse-temurin": {"java", "jshell", "keytool"},
    "nginx": {"nginx"},
}
POSIX_BASICS = {
    "sh", "bash", "env", "echo", "cat", "ls", "test", "[", "true", "false", "sleep", "exec",
    "printf", "mkdir", "cp", "mv", "rm", "chmod", "chown", "ln", "tail", "head", "grep", "sed",
    "awk", "tee", "date", "id", "whoami", "nproc", "uname", "set", "cd", "export", "trap", "wait",
}


def provides(ref: str, program: str) -> bool:
    """Whether the image has `program` on its PATH (its runtime, plus a POSIX userland when it
    has a shell)."""
    image = parse_image(ref)
    if image is None:
        return False
    base = program.rsplit("/", 1)[-1]
    progs = RUNTIME_PROGRAMS.get(image.name, set())
    if image.name == "python" and re.fullmatch(r"python3(\.\d+)?|pip3(\.\d+)?", base):
        return True
    if base in progs:
        return True
    return bool(facts_of(image).shell and base in POSIX_BASICS)


# --------------------------------------------------------------------------- working directory, environment

DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# the CARGO_HOME of the official rust image
RUST_CARGO_HOME = "/usr/local/cargo"
# the WORKDIR of the images whose Dockerfiles are known: most set none (the engine starts in /)
_WORKDIRS = {"golang": "/go", "httpd": "/usr/local/apache2"}
_ROOT_WORKDIR = frozenset({
    "alpine", "busybox", "debian", "ubuntu", "python", "node", "rust", "gcc", "buildpack-deps",
    "eclipse-temurin", "openjdk", "nginx",
})


def workdir_of(ref: str) -> str | None:
    """The working directory a stage built on `ref` starts in; None when the image is unknown."""
    image = parse_image(ref)
    if image is None:
        return None
    if image.repository == "scratch" or image.path.startswith("gcr.io/distroless/"):
        return "/"
    if not image.official:
        return None
    if image.name in _WORKDIRS:
        return _WORKDIRS[image.name]
    return "/" if image.name in _ROOT_WORKDIR else None


# the SHELL a Windows image starts with (Docker's default on Windows)
WINDOWS_SHELL = ("cmd", "/S", "/C")
_WINDOWS_TAG = re.compile(
    r"(?:^|[-_.])(?:windowsservercore|servercore|nanoserver|windows|ltsc\d{4}|sac\d{4})(?:$|[-_.])")


def is_windows(ref: str) -> bool:
    """The image is a Windows image (its RUNs go to cmd.exe): Microsoft's Windows base images
    (`mcr.microsoft.com/windows/servercore`, `nanoserver`, ...), and images whose repository or tag
    names a Windows variant (`openjdk:8-windowsservercore`, `dotnet/runtime:8.0-nanoserver-ltsc2022`,
    `stefanscherer/node-windows`). A variable in the tag does not hide a Windows repository."""
    image = parse_image(ref if "$" not in ref else ref.split(":", 1)[0])
    if image is None:
        return False
    parts = image.repository.split("/")
    if any(p.startswith(("windows", "nanoserver")) or p.endswith("-windows") for p in parts):
        return True
    return bool(image.tag and _WINDOWS_TAG.search(image.tag.lower()))


def base_env(ref: str) -> dict[str, str]:
    """Variables the image sets that a Dockerfile commonly builds on (PATH, GOPATH, CARGO_HOME)."""
    image = parse_image(ref)
    env = {"PATH": ":".join(DEFAULT_PATH)}
    if image is not None and image.name == "golang":
        env.update(GOPATH="/go", PATH="/go/bin:/usr/local/go/bin:" + env["PATH"])
    if image is not None and image.name == "rust":
        env.update(CARGO_HOME=RUST_CARGO_HOME, PATH=RUST_CARGO_HOME + "/bin:" + env["PATH"])
    return env


# Directories that every Linux base image either lacks or has as a plain directory (no symlink)
# owned by root with mode 0755: what a layer that writes them afresh (`COPY --link`) leaves as
# it was. Not `/bin`, `/lib`, `/sbin` (symlinks into /usr on merged-/usr systems), `/var/run`
# (a symlink to /run), `/tmp` (1777), `/root` (0700), `/home/*` (a user's).
PLAIN_ROOT_DIRS = frozenset({
    "/usr", "/usr/local", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/local/share",
    "/usr/local/include", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/usr/include", "/usr/libexec",
    "/opt", "/etc", "/srv", "/var", "/var/lib",
})

"""The distributions' package managers: one table of the packages builds need, the runtime
libraries of -dev packages, what apt reads and where the managers keep their caches."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..shell import SimpleCommand, parse_tool

__all__ = [
    "APK_CACHES", "APT_CACHE", "APT_CACHE_QUERIES", "APT_CONSUMERS", "APT_LISTS", "APT_LISTS_CLEANUP",
    "APT_NEEDS_UPDATE", "APT_PROGRAMS", "INSTALLING", "PACKAGES", "REMOVING", "RPM_CACHES",
    "SYSTEM_PACKAGE_MANAGERS", "BuildPackage", "build_role", "compiles", "is_build_package", "is_build_tool",
    "programs_of", "removed_again", "runtime_lib", "unknown_dev",
]

# --------------------------------------------------------------------------- apt, apk, rpm

APT_PROGRAMS = frozenset({"apt-get", "apt", "aptitude"})
# apt subcommands that read the package lists
APT_CONSUMERS = frozenset({"install", "reinstall", "build-dep", "source", "download", "satisfy",
                           "upgrade", "dist-upgrade", "full-upgrade"})
# ... and the ones that fail outright (or install nothing) without them
APT_NEEDS_UPDATE = frozenset({"install", "reinstall", "build-dep", "source", "download", "satisfy"})
APT_CACHE_QUERIES = frozenset({"policy", "show", "showpkg", "madison", "search", "depends",
                               "rdepends", "showsrc", "pkgnames", "dump", "dumpavail", "unmet"})
APT_LISTS = "/var/lib/apt/lists"
APT_LISTS_CLEANUP = "rm -rf /var/lib/apt/lists/*"
APT_CACHE = "/var/cache/apt"
APK_CACHES = ("/var/cache/apk", "/etc/apk/cache")
RPM_CACHES = ("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/zypp")


# --------------------------------------------------------------------------- packages builds need

@dataclass(frozen=True)
class BuildPackage:
    """What a package is to a build: `compiler`, `build` (build systems and generators),
    `headers`, `toolchain` (a language's compiler and build tool), `tool` (used while building,
    not a build tool in itself: git, npm, patch), or None (a runtime whose programs matter)."""

    role: str | None
    programs: frozenset[str] = frozenset()     # the programs it provides (its name when empty)


def _table(role: str | None, *names: str) -> dict[str, BuildPackage]:
    return {name: BuildPackage(role) for name in names}


# apt, apk and dnf names
PACKAGES: dict[str, BuildPackage] = {
    **_table("compiler", "gcc", "g++", "cpp", "c++", "clang", "llvm", "lld", "gfortran", "gcc-c++", "binutils",
             "cython", "cython3", "swig", "nasm", "yasm"),
    **_table("build", "make", "cmake", "ninja", "meson", "autoconf", "automake", "libtool", "pkg-config",
             "bison", "flex", "ant", "maven", "gradle"),
    **_table("headers", "musl-dev", "linux-headers", "libc6-dev", "libc-dev", "python3-dev", "python-dev"),
    **_table("toolchain", "golang", "go", "rust", "cargo", "default-jdk-headless"),
    **_table("tool", "git", "npm", "patch", "upx", "upx-ucl", "protobuf-compiler", "dpkg-dev"),
    "gettext": BuildPackage("tool", frozenset({"gettext", "ngettext", "msgfmt", "msgmerge", "xgettext", "msguniq",
                                               "msgcat", "msginit", "msgattrib"})),
    "build-essential": BuildPackage("compiler", frozenset({"gcc", "g++", "cc", "c++", "make"})),
    "build-base": BuildPackage("compiler", frozenset({"gcc", "g++", "cc", "c++", "make"})),
    "gcc": BuildPackage("compiler", frozenset({"gcc", "cc"})),
    "g++": BuildPackage("compiler", frozenset({"g++", "c++"})),
    "golang-go": BuildPackage("toolchain", frozenset({"go"})),
    "golang": BuildPackage("toolchain", frozenset({"go"})),
    "rustc": BuildPackage("toolchain", frozenset({"rustc"})),
    "pkgconf": BuildPackage("build", frozenset({"pkg-config", "pkgconf"})),
    "ninja-build": BuildPackage("build", frozenset({"ninja"})),
    "default-jdk": BuildPackage("toolchain", frozenset({"javac", "java"})),
    "yarnpkg": BuildPackage("tool", frozenset({"yarn", "yarnpkg"})),
    "nodejs": BuildPackage(None, frozenset({"node"})),
}
_PATTERNS = (
    (re.compile(r"^(gcc|g\+\+|clang)-\d+$"), "compiler"),
    (re.compile(r"^openjdk-\d+-jdk(-headless)?$|^java-\d+-openjdk-devel$"), "toolchain"),
    (re.compile(r".*-(dev|devel)$"), "headers"),
)


def build_role(name: str) -> str | None:
    """The package's role in a build (see BuildPackage), None for anything else."""
    known = PACKAGES.get(name)
    if known is not None:
        return known.role
    return next((role for pattern, role in _PATTERNS if pattern.match(name)), None)


def is_build_package(name: str) -> bool:
    """Only a build needs it: the multi-stage split leaves it in the builder."""
    return build_role(name) is not None


def is_build_tool(name: str) -> bool:
    """A compiler, build system, headers or a toolchain (what a final stage should not carry)."""
    return build_role(name) in ("compiler", "build", "headers", "toolchain")


def compiles(name: str) -> bool:
    """A compiler or headers: what building a native extension needs."""
    return build_role(name) in ("compiler", "headers")


def programs_of(name: str) -> frozenset[str]:
    known = PACKAGES.get(name)
    return known.programs if known is not None and known.programs else frozenset({name})


# --------------------------------------------------------------------------- runtime libraries

# runtime libraries of common -dev packages (Debian bookworm names; apk names)
_APT_LIBRARIES: dict[str, str | None] = {
    "libpq-dev": "libpq5", "libxml2-dev": "libxml2", "libxslt1-dev": "libxslt1.1",
    "libjpeg-dev": "libjpeg62-turbo", "libjpeg62-turbo-dev": "libjpeg62-turbo", "zlib1g-dev": None,
    "libffi-dev": "libffi8", "libssl-dev": "libssl3", "libmariadb-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3", "default-libmysqlclient-dev": "libmariadb3",
    "libyaml-dev": "libyaml-0-2", "libpng-dev": "libpng16-16", "libfreetype6-dev": "libfreetype6",
    "libfreetype-dev": "libfreetype6", "libsqlite3-dev": "libsqlite3-0", "libcurl4-openssl-dev": "libcurl4",
    "libldap2-dev": "libldap-2.5-0", "libsasl2-dev": "libsasl2-2", "libbz2-dev": None, "liblzma-dev": None,
    "libreadline-dev": "libreadline8", "libncurses-dev": None, "libncurses5-dev": None,
    "libgeos-dev": "libgeos-c1v5", "libmagic-dev": "libmagic1", "libwebp-dev": "libwebp7",
    "libtiff-dev": "libtiff6", "libopenjp2-7-dev": "libopenjp2-7", "liblcms2-dev": "liblcms2-2",
    "libzmq3-dev": "libzmq5", "libsnappy-dev": "libsnappy1v5", "libgmp-dev": "libgmp10",
    "libkrb5-dev": "libgssapi-krb5-2", "libpcre3-dev": "libpcre3", "libexpat1-dev": None,
    "uuid-dev": None, "libuuid-dev": None, "python3-dev": None, "python-dev": None,
}
# the same for apk (versions that do not depend on the Alpine release only)
_APK_LIBRARIES: dict[str, str | None] = {
    "libffi-dev": "libffi", "libxml2-dev": "libxml2", "libxslt-dev": "libxslt", "postgresql-dev": "libpq",
    "libpq-dev": "libpq", "jpeg-dev": "libjpeg-turbo", "libjpeg-turbo-dev": "libjpeg-turbo", "zlib-dev": None,
    "yaml-dev": "yaml", "freetype-dev": "freetype", "sqlite-dev": "sqlite-libs", "musl-dev": None,
    "linux-headers": None, "python3-dev": None, "libc-dev": None,
}


def runtime_lib(manager: str | None, name: str) -> tuple[bool, str | None]:
    """(known, the runtime library package) of a -dev package for the manager."""
    table = _APK_LIBRARIES if manager == "apk" else _APT_LIBRARIES
    return (name in table), table.get(name)


def unknown_dev(name: str, manager: str | None = None) -> bool:
    """A -dev package whose runtime library is not known (it stays, headers and all)."""
    return not runtime_lib(manager, name)[0] and name not in PACKAGES and name.endswith(("-dev", "-devel"))


# --------------------------------------------------------------------------- installed, then removed

INSTALLING = frozenset({"install", "add"})
REMOVING = frozenset({"purge", "remove", "autoremove", "del", "erase"})
SYSTEM_PACKAGE_MANAGERS = frozenset({"apt-get", "apt", "aptitude", "apk"})


def removed_again(commands: Iterable[SimpleCommand]) -> set[str]:
    """Packages one RUN installs and removes again: `apt-get purge`, `apk del` of a --virtual
    group, and docker-library's `apt-mark auto '.*' ...; apt-get purge --auto-remove`."""
    out: set[str] = set()
    virtuals: dict[str, set[str]] = {}
    installed: set[str] = set()
    auto_marked = False
    for command in commands:
        if command.program == "apt-mark" and command.args and command.args[0].text == "auto":
            auto_marked = True
        tool = parse_tool(command)
        if tool is None:
            continue
        if tool.subcommand in INSTALLING:
            installed |= {p.name for p in tool.packages}
        if auto_marked and tool.manager in ("apt-get", "apt") and (
                tool.subcommand == "autoremove" or (tool.subcommand in ("purge", "remove")
                                                    and tool.has_flag("--auto-remove", "--autoremove"))):
            out |= installed
        if tool.manager == "apk" and tool.subcommand == "add":
            v = tool.flag("-t", "--virtual")
            if v is not None and v.value:
                virtuals[v.value] = {p.name for p in tool.packages}
        if tool.subcommand in REMOVING:
            for p in tool.packages:
                out.add(p.name)
                out |= virtuals.get(p.name, set())
    return out

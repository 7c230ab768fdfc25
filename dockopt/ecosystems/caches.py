"""Where each build tool keeps its download and build caches, given the environment it runs in.

A BuildKit cache mount only helps when it sits on the directory the tool really uses: the
variables that move it (`PIP_CACHE_DIR`, `npm_config_cache`, `GOCACHE`, `CARGO_HOME`, ...), then
`XDG_CACHE_HOME`, then the user's `HOME`. `cache_dirs` answers for one command; None when the
directory is only known at build time (a variable without a known value, a user whose HOME is not
known) or the tool is told not to cache at all.

Two kinds of cache: a *download* cache only saves downloads (pip, npm, yarn, pnpm, apt, Poetry,
uv): nothing reads it but the tool, and an install with an empty one installs the same files.
A *store* is also what later builds read their dependencies from (Go's module cache, Cargo's
registry, Maven's local repository, Gradle's caches): every step that reads it must see the
same mount, and a program that runs the tool at run time (`go run`, `mvn exec:java`) would find
it empty in the image.
"""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from ..facts.state import home_of
from ..shell import SimpleCommand, ToolCommand

__all__ = ["APT_ARCHIVES_KEPT", "CacheUse", "cache_dirs", "cache_tool"]

# apt's downloaded packages, moved out of the directory the Debian images' docker-clean hook
# (`DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb ..." }`) empties after each install
APT_ARCHIVES_KEPT = "/var/cache/apt/dockopt-archives/"


@dataclass(frozen=True)
class CacheUse:
    """What one command needs mounted to keep its caches."""

    tool: str                      # pip, npm, yarn, pnpm, poetry, uv, go, cargo, mvn, gradle, apt
    directories: tuple[str, ...]   # absolute
    store: bool                    # later builds read it (see the module docs)
    locked: bool = False           # the tool locks the directory: mount with sharing=locked


_PROGRAMS = {"cargo": "cargo", "gradle": "gradle", "gradlew": "gradle", "./gradlew": "gradle",
             "mvn": "mvn", "mvnw": "mvn", "./mvnw": "mvn"}
_CARGO_SUBCOMMANDS = frozenset({"build", "b", "install", "fetch", "run", "r", "test", "t", "check", "c",
                                "vendor", "update", "generate-lockfile", "doc"})
_GO_SUBCOMMANDS = frozenset({"build", "install", "test", "vet", "run", "generate", "mod download", "get", "list"})
_INSTALLS = {
    "pip": frozenset({"install", "wheel", "download"}),
    "npm": frozenset({"install", "ci", "i", "add", "update"}),
    "yarn": frozenset({"install", "add", "global add"}),
    "pnpm": frozenset({"install", "add", "i", "fetch"}),
    "poetry": frozenset({"install", "sync", "add", "update"}),
    "uv": frozenset({"sync", "pip install", "pip sync", "add"}),
    "mvn": frozenset(),
}


def cache_tool(command: SimpleCommand, tool: ToolCommand | None) -> str | None:
    """The tool whose caches the command fills, when it fills any."""
    if tool is not None:
        sub = tool.subcommand or ""
        if tool.manager in ("apt-get", "apt") and sub == "install":
            return "apt"
        if tool.manager == "go":
            return "go" if sub in _GO_SUBCOMMANDS else None
        if tool.manager == "mvn":
            return "mvn"
        if tool.manager == "pip" and _local_wheels_only(tool):
            return None
        subs = _INSTALLS.get(tool.manager)
        if subs is not None and sub in subs:
            return tool.manager
        return None
    program = command.program
    name = _PROGRAMS.get(program or "")
    if name == "cargo":
        first = command.args[0].text if command.args else None
        return name if first in _CARGO_SUBCOMMANDS else None
    return name


def _local_wheels_only(tool: ToolCommand) -> bool:
    """`pip install --no-index ... x.whl`: nothing to download and nothing to build, so no cache."""
    operands = [w.text for w in tool.operands]
    return tool.has_flag("--no-index") and bool(operands) and not tool.has_flag("-r", "--requirement") \
        and all(o is not None and o.endswith(".whl") for o in operands)


def _under(base: str | None, *parts: str) -> str | None:
    if not base or "$" in base or not base.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(base, *parts))


def _xdg(env: Mapping[str, str | None], home: str | None, *parts: str) -> str | None:
    if env.get("XDG_CACHE_HOME"):
        return _under(env["XDG_CACHE_HOME"], *parts)
    return _under(home, ".cache", *parts)


def _env(env: Mapping[str, str | None], *names: str) -> tuple[bool, str | None]:
    """(set, value) of the first of `names` the environment sets (value None: unknown)."""
    for name in names:
        if name in env:
            return True, env[name]
    return False, None


def _one(directory: str | None) -> tuple[str, ...] | None:
    return (directory,) if directory else None


def _switchable(env: Mapping[str, str | None], home: str | None, off: str, moved: str, name: str
                ) -> tuple[str, ...] | None:
    """A cache the variable `off` turns off and `moved` moves, else under XDG_CACHE_HOME/`name`."""
    if _env(env, off)[0]:
        return None
    set_, value = _env(env, moved)
    return _one(_under(value) if set_ else _xdg(env, home, name))


def _pip(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    return _switchable(env, home, "PIP_NO_CACHE_DIR", "PIP_CACHE_DIR", "pip")


def _npm(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    set_, value = _env(env, "npm_config_cache", "NPM_CONFIG_CACHE")
    return _one(_under(value) if set_ else _under(home, ".npm"))


def _yarn(env: Mapping[str, str | None], home: str | None, root: bool) -> tuple[str, ...] | None:
    set_, value = _env(env, "YARN_CACHE_FOLDER", "yarn_cache_folder")
    if set_:
        return _one(_under(value))
    # yarn 1 keeps root's cache under /usr/local/share/.cache
    return _one("/usr/local/share/.cache/yarn" if root else _xdg(env, home, "yarn"))


def _pnpm(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    set_, value = _env(env, "npm_config_store_dir", "NPM_CONFIG_STORE_DIR")
    if set_:
        return _one(_under(value))
    data = _under(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else _under(home, ".local", "share")
    return _one(_under(data, "pnpm", "store"))


def _poetry(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    set_, value = _env(env, "POETRY_CACHE_DIR")
    return _one(_under(value) if set_ else _xdg(env, home, "pypoetry"))


def _uv(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    return _switchable(env, home, "UV_NO_CACHE", "UV_CACHE_DIR", "uv")


def _go(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    set_, gocache = _env(env, "GOCACHE")
    build = _under(gocache) if set_ else _xdg(env, home, "go-build")
    set_, modcache = _env(env, "GOMODCACHE")
    if not set_:
        gopath_set, gopath = _env(env, "GOPATH")
        first = (gopath or "").split(":")[0] if gopath_set else None
        modcache = posixpath.join(first, "pkg", "mod") if first else (_under(home, "go", "pkg", "mod") if not gopath_set
                                                                     else None)
    mods = _under(modcache)
    if build is None or mods is None or gocache == "off":
        return None
    return (mods, build)


def _cargo(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    set_, value = _env(env, "CARGO_HOME")
    base = _under(value) if set_ else _under(home, ".cargo")
    if base is None:
        return None
    return (posixpath.join(base, "registry"), posixpath.join(base, "git"))


def _maven(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    if any("maven.repo.local" in (env.get(name) or "") for name in ("MAVEN_OPTS", "MAVEN_ARGS")):
        return None
    return _one(_under(home, ".m2", "repository"))


def _gradle(env: Mapping[str, str | None], home: str | None) -> tuple[str, ...] | None:
    set_, value = _env(env, "GRADLE_USER_HOME")
    base = _under(value) if set_ else _under(home, ".gradle")
    return _one(_under(base, "caches"))


def cache_dirs(tool_name: str, env: Mapping[str, str | None], root: bool) -> CacheUse | None:
    """The cache directories `tool_name` uses with this environment and user (see the module docs)."""
    home = home_of(env, root)
    if tool_name == "apt":
        return CacheUse("apt", ("/var/cache/apt", "/var/lib/apt/lists"), store=False, locked=True)
    finders = {"pip": _pip, "npm": _npm, "pnpm": _pnpm, "poetry": _poetry, "uv": _uv}
    stores = {"go": _go, "cargo": _cargo, "mvn": _maven, "gradle": _gradle}
    if tool_name == "yarn":
        dirs = _yarn(env, home, root)
    elif tool_name in finders:
        dirs = finders[tool_name](env, home)
    elif tool_name in stores:
        dirs = stores[tool_name](env, home)
    else:
        return None
    if dirs is None:
        return None
    return CacheUse(tool_name, dirs, store=tool_name in stores)

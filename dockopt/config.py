"""Settings: where they are found, what they mean, and how CLI flags override them.

A project configures dockopt in ``.dockopt.toml`` (keys at top level) or in
``pyproject.toml`` under ``[tool.dockopt]``.  The file is looked for from the
Dockerfile's directory upwards, nearest first; in each directory
``.dockopt.toml`` wins over ``pyproject.toml``, and a ``pyproject.toml``
without a ``[tool.dockopt]`` table does not count.  The search stops at the
filesystem root or after a directory containing ``.git`` (the repository
root), so a config above the repository never leaks in.

Rule selection follows ruff: ``select`` and ``ignore`` hold codes or code
prefixes (``DO1``, ``DO101``, or ``ALL``); for a given code the most specific
(longest) matching entry decides, and on a tie ``ignore`` wins.
``per-file-ignores`` then switches codes off for matching files, whatever
``select`` says.
"""
from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath, PurePosixPath
from types import MappingProxyType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "ALL",
    "CONFIG_FILENAME",
    "ConfigError",
    "Settings",
    "find_config_file",
    "load_config_file",
    "load_settings",
    "rule_enabled",
]

CONFIG_FILENAME = ".dockopt.toml"
PYPROJECT_FILENAME = "pyproject.toml"
ALL = "ALL"
# the runtime_base key used when a single image is configured for every language
ANY_LANGUAGE = "*"

_CODE_SELECTOR = re.compile(r"^(ALL|[A-Z]+[0-9]*)$")


class ConfigError(Exception):
    """A configuration file that cannot be used; names the file and, where known, the key."""

    def __init__(self, message: str, *, path: Path | None = None, key: str | None = None):
        prefix = f"{path}: " if path is not None else ""
        where = f"key '{key}': " if key is not None else ""
        super().__init__(prefix + where + message)
        self.path = path
        self.key = key


@dataclass(frozen=True)
class Settings:
    """Everything a run is configured with.  Immutable; derive variants with ``merged``."""

    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    # glob (relative to ``project_root``, or a bare file name) -> codes or prefixes
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # language -> runtime image for the multi-stage rewrite; a single configured
    # image is stored under ANY_LANGUAGE ("*")
    runtime_base: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    context: Path | None = None  # build context directory; None: the Dockerfile's directory
    config_path: Path | None = None  # the file these settings came from
    project_root: Path | None = None  # the directory of that file; per-file-ignores are relative to it

    def __post_init__(self) -> None:
        # accept plain lists and dicts from callers, but keep the object immutable
        object.__setattr__(self, "select", tuple(self.select))
        object.__setattr__(self, "ignore", tuple(self.ignore))
        object.__setattr__(
            self, "per_file_ignores", MappingProxyType({k: tuple(v) for k, v in self.per_file_ignores.items()})
        )
        runtime = self.runtime_base
        if isinstance(runtime, str):
            runtime = {ANY_LANGUAGE: runtime}
        object.__setattr__(self, "runtime_base", MappingProxyType(dict(runtime)))

    def merged(self, **overrides: Any) -> Settings:
        """These settings with CLI values applied; a None value means "flag not given".

        Accepts the field names (``select``, ``ignore``, ``unsafe_fixes``,
        ``per_file_ignores``, ``runtime_base``, ``context``); values are
        validated and normalized as in a config file.
        """
        allowed = {"select", "ignore", "unsafe_fixes", "per_file_ignores", "runtime_base", "context"}
        unknown = sorted(set(overrides) - allowed)
        if unknown:
            raise TypeError(f"Settings.merged() got unknown override(s): {', '.join(unknown)}")
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if value is None:
                continue
            key = name.replace("_", "-")
            if name == "context":
                changes[name] = Path(value)
            else:
                changes[name] = _CONVERTERS[key](value, None, key)
        return replace(self, **changes)

    def runtime_image(self, language: str) -> str | None:
        """The configured runtime image for a language, else the all-languages one, else None."""
        return self.runtime_base.get(language) or self.runtime_base.get(ANY_LANGUAGE)


# --------------------------------------------------------------------------- value conversion


def _codes(value: Any, path: Path | None, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        # CLI style: "DO1,DO201"
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError("expected a list of rule codes or prefixes", path=path, key=key)
    codes = tuple(v.strip().upper() for v in value)
    for code in codes:
        if not _CODE_SELECTOR.match(code):
            raise ConfigError(f"'{code}' is not a rule code or prefix (like DO1 or DO101, or ALL)", path=path, key=key)
    return codes


def _bool(value: Any, path: Path | None, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError("expected true or false", path=path, key=key)
    return value


def _per_file_ignores(value: Any, path: Path | None, key: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError('expected a table of glob = ["CODE", ...]', path=path, key=key)
    result = {}
    for glob, codes in value.items():
        result[str(glob)] = _codes(codes, path, f"{key}.{glob}")
    return MappingProxyType(result)


def _runtime_base(value: Any, path: Path | None, key: str) -> Mapping[str, str]:
    if isinstance(value, str):
        return MappingProxyType({ANY_LANGUAGE: value})
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError('expected an image name or a table of language = "image"', path=path, key=key)
    return MappingProxyType({str(k): v for k, v in value.items()})


def _context(value: Any, path: Path | None, key: str) -> Path:
    if not isinstance(value, str):
        raise ConfigError("expected a directory path", path=path, key=key)
    context = Path(value)
    # relative to the config file, not to wherever dockopt happens to run
    return context if context.is_absolute() or path is None else path.parent / context


_CONVERTERS = {
    "select": _codes,
    "ignore": _codes,
    "unsafe-fixes": _bool,
    "per-file-ignores": _per_file_ignores,
    "runtime-base": _runtime_base,
    "context": _context,
}


def _settings_from_table(table: Mapping[str, Any], path: Path, where: str) -> Settings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        converter = _CONVERTERS.get(key)
        if converter is None:
            hint = difflib.get_close_matches(key, _CONVERTERS, n=1)
            snake = key.replace("_", "-")
            if snake in _CONVERTERS:
                hint = [snake]
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"unknown key in {where}{suggestion}", path=path, key=key)
        values[key.replace("-", "_")] = converter(value, path, key)
    return Settings(**values, config_path=path, project_root=path.parent)


# --------------------------------------------------------------------------- discovery


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _dockopt_table(path: Path) -> tuple[Mapping[str, Any], str] | None:
    """The dockopt table of a config file and how to name it, or None for a pyproject without one."""
    data = _read_toml(path)
    if path.name != PYPROJECT_FILENAME:
        return data, "the file"
    tool = data.get("tool")
    if not isinstance(tool, Mapping) or "dockopt" not in tool:
        return None
    table = tool["dockopt"]
    if not isinstance(table, Mapping):
        raise ConfigError("[tool.dockopt] must be a table", path=path, key="tool.dockopt")
    return table, "[tool.dockopt]"


def find_config_file(start: Path) -> Path | None:
    """The nearest config file at or above ``start`` (a Dockerfile or a directory)."""
    directory = start if start.is_dir() else start.parent
    directory = directory.resolve()
    while True:
        candidate = directory / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT_FILENAME
        if pyproject.is_file() and _dockopt_table(pyproject) is not None:
            return pyproject
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def load_config_file(path: Path) -> Settings:
    """Settings from one named file (``.dockopt.toml``-style, or a pyproject with ``[tool.dockopt]``)."""
    path = Path(path)
    found = _dockopt_table(path)
    if found is None:
        raise ConfigError("no [tool.dockopt] table", path=path)
    table, where = found
    return _settings_from_table(table, path, where)


def load_settings(dockerfile: Path) -> Settings:
    """The settings that apply to a Dockerfile: its nearest config file's, else the defaults."""
    path = find_config_file(Path(dockerfile))
    return Settings() if path is None else load_config_file(path)


# --------------------------------------------------------------------------- rule selection


def _specificity(selector: str, code: str) -> int:
    """How specifically a selector names a code: -1 not at all, 0 for ALL, else its length."""
    if selector == ALL:
        return 0
    return len(selector) if code.startswith(selector) else -1


def _most_specific(selectors: Iterable[str], code: str) -> int:
    return max((_specificity(s, code) for s in selectors), default=-1)


def rule_enabled(settings: Settings, code: str, path: str | PurePath | None = None) -> bool:
    """Whether findings of ``code`` are reported for the Dockerfile at ``path``.

    ``path`` may be absolute or relative to the current directory; it is
    matched against per-file-ignores relative to the config file's directory.
    """
    selected = _most_specific(settings.select, code)
    ignored = _most_specific(settings.ignore, code)
    if selected < 0 or ignored >= selected:
        return False
    if path is not None:
        for glob, codes in settings.per_file_ignores.items():
            if _most_specific(codes, code) >= 0 and _path_matches(glob, path, settings.project_root):
                return False
    return True


def _path_matches(glob: str, path: str | PurePath, root: Path | None) -> bool:
    """Ruff-like: a glob without "/" matches the file name, otherwise the path relative to the project."""
    candidate = Path(path)
    if "/" not in glob:
        return _glob_regex(glob).fullmatch(candidate.name) is not None
    relative = candidate
    if root is not None:
        try:
            relative = candidate.resolve().relative_to(root.resolve())
        except ValueError:
            relative = candidate
    text = PurePosixPath(*relative.parts).as_posix() if relative.parts else "."
    return _glob_regex(glob.lstrip("/")).fullmatch(text.lstrip("/")) is not None


_glob_cache: dict[str, re.Pattern[str]] = {}


def _glob_regex(glob: str) -> re.Pattern[str]:
    """``*`` and ``?`` stay within a segment, ``**`` spans segments, ``[...]`` is a class."""
    compiled = _glob_cache.get(glob)
    if compiled is not None:
        return compiled
    out, i, n = [], 0, len(glob)
    while i < n:
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
            else:
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    compiled = re.compile("".join(out), re.DOTALL)
    _glob_cache[glob] = compiled
    return compiled

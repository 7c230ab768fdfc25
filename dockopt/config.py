"""Settings: where they are found, what they mean, and how command-line flags combine with them.

A project configures dockopt in ``.dockopt.toml`` (keys at top level) or in
``pyproject.toml`` under ``[tool.dockopt]``.  The file is looked for from the
Dockerfile's directory upwards, nearest first; in each directory
``.dockopt.toml`` wins over ``pyproject.toml``, and a ``pyproject.toml``
without a ``[tool.dockopt]`` table does not count.  The search stops at the
filesystem root or after a directory containing ``.git`` (the repository
root), so a config above the repository never leaks in.

Rule selection follows ruff.  Selectors are codes or code prefixes (``DO1``,
``DO101``, ``DO``, or ``ALL``).  The selection is resolved layer by layer: the
default (``ALL``), then the config file, then the command line.  In a layer,
for a given code the most specific (longest) matching selector decides, and on
a tie ``ignore`` wins.  A layer with ``select`` replaces what the layers before
it selected (ignores included); a layer with only ``extend-select`` and
``ignore`` adds to and removes from it.  So ``--select`` replaces the
configured selection, ``--extend-select`` adds to it and ``--ignore`` adds to
the configured ignores.  ``per-file-ignores`` then switches codes off for
matching files, whatever was selected; ``extend-per-file-ignores`` (and
``--extend-per-file-ignores``) merge into it, ``--per-file-ignores`` replaces it.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath, PurePosixPath
from types import MappingProxyType
from typing import Any

__all__ = [
    "ALL",
    "CONFIG_FILENAME",
    "LEVELS",
    "ConfigError",
    "RuleSelection",
    "Settings",
    "check_codes",
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
# severities, lowest first; --fail-level names one of them
LEVELS = ("info", "warning", "error")

_CODE_SELECTOR = re.compile(r"^[A-Z][A-Z0-9]*$")


class ConfigError(Exception):
    """A configuration file or flag that cannot be used; names the file (or flag) and the key."""

    def __init__(self, message: str, *, path: Path | None = None, key: str | None = None):
        prefix = f"{path}: " if path is not None else ""
        where = f"key '{key}': " if key is not None and path is not None else (f"{key}: " if key else "")
        super().__init__(prefix + where + message)
        self.path = path
        self.key = key


@dataclass(frozen=True)
class RuleSelection:
    """One layer of rule selection (the defaults, a config file, or the command line)."""

    select: tuple[str, ...] | None = None   # None: this layer does not replace the selection
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    source: str = ""                         # where it came from, for messages

    def verdict(self, code: str) -> bool | None:
        """True/False when a selector of this layer names the code (the most specific decides,
        ignore on a tie), None when none does."""
        selected = _most_specific((*(self.select or ()), *self.extend_select), code)
        ignored = _most_specific(self.ignore, code)
        if selected < 0 and ignored < 0:
            return None
        return selected > ignored


DEFAULT_SELECTION = RuleSelection(select=(ALL,), source="the default")


@dataclass(frozen=True)
class Settings:
    """Everything a run is configured with.  Immutable; derive variants with ``merged``."""

    selection: tuple[RuleSelection, ...] = (DEFAULT_SELECTION,)
    unsafe_fixes: bool = False
    # rules (codes or prefixes) whose unsafe fixes are applied without --verify proving them
    force_fix: tuple[str, ...] = ()
    # glob (relative to ``project_root``, or a bare file name) -> codes or prefixes
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # selector -> severity ("info", "warning", "error"); the most specific selector decides
    severity: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fail_level: str = LEVELS[0]    # findings below it do not make the exit status 1
    exclude: tuple[str, ...] = ()  # gitignore-style patterns skipped by directory walks
    # language -> runtime image for the multi-stage rewrite; a single configured
    # image is stored under ANY_LANGUAGE ("*")
    runtime_base: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    context: Path | None = None  # build context directory; None: the Dockerfile's directory
    # the builder the project builds with: "buildkit" (RUN --mount, heredocs) or "classic"
    target: str = "buildkit"
    config_path: Path | None = None  # the file these settings came from
    project_root: Path | None = None  # the directory of that file; per-file-ignores are relative to it

    def __post_init__(self) -> None:
        # accept plain lists and dicts from callers, but keep the object immutable
        object.__setattr__(self, "selection", tuple(self.selection))
        object.__setattr__(self, "exclude", tuple(self.exclude))
        object.__setattr__(
            self, "per_file_ignores", MappingProxyType({k: tuple(v) for k, v in self.per_file_ignores.items()})
        )
        object.__setattr__(self, "severity", MappingProxyType(dict(self.severity)))
        runtime = self.runtime_base
        if isinstance(runtime, str):
            runtime = {ANY_LANGUAGE: runtime}
        object.__setattr__(self, "runtime_base", MappingProxyType(dict(runtime)))

    def merged(self, **overrides: Any) -> Settings:
        """These settings with command-line values on top; a None value means "flag not given".

        ``select``, ``extend_select`` and ``ignore`` form one new selection layer (see the
        module docs); ``per_file_ignores`` replaces the table and ``extend_per_file_ignores``
        merges into it; ``exclude`` adds patterns; the others replace the configured value.
        Values are validated and normalized as in a config file.
        """
        selection_keys = {"select", "extend_select", "ignore"}
        allowed = selection_keys | {"unsafe_fixes", "force_fix", "per_file_ignores", "extend_per_file_ignores",
                                    "runtime_base", "context", "target", "severity", "fail_level", "exclude"}
        unknown = sorted(set(overrides) - allowed)
        if unknown:
            raise TypeError(f"Settings.merged() got unknown override(s): {', '.join(unknown)}")
        given: dict[str, Any] = {
            name: value if name == "context" else _CONVERTERS[name.replace("_", "-")](
                value, None, "--" + name.replace("_", "-"))
            for name, value in overrides.items() if value is not None}
        changes: dict[str, Any] = {}
        layer = {name: given.pop(name) for name in sorted(selection_keys & set(given))}
        if layer:
            changes["selection"] = (*self.selection, RuleSelection(source="the command line", **layer))
        table = given.pop("per_file_ignores", self.per_file_ignores)
        extra = given.pop("extend_per_file_ignores", None)
        if overrides.get("per_file_ignores") is not None or extra:
            changes["per_file_ignores"] = _merge_tables(table, extra or {})
        if "context" in given:
            given["context"] = Path(given["context"])
        if "exclude" in given:
            given["exclude"] = (*self.exclude, *given["exclude"])
        if "severity" in given:
            given["severity"] = {**self.severity, **given["severity"]}
        return replace(self, **changes, **given)

    def runtime_image(self, language: str) -> str | None:
        """The configured runtime image for a language, else the all-languages one, else None."""
        return self.runtime_base.get(language) or self.runtime_base.get(ANY_LANGUAGE)

    def severity_of(self, code: str, default: str) -> str:
        """The configured severity of a rule (most specific selector), else the rule's own."""
        best, level = -1, default
        for selector, value in self.severity.items():
            spec = _specificity(selector, code)
            if spec > best:
                best, level = spec, value
        return level

    def fails(self, severity: str) -> bool:
        """Whether a finding of this severity makes the exit status 1."""
        return LEVELS.index(severity) >= LEVELS.index(self.fail_level)

    def selectors(self) -> Iterable[tuple[str, str, Path | None]]:
        """(selector, key, config file) of every code this configuration names, for validation."""
        for layer in self.selection[1:]:
            path = self.config_path if layer.source != "the command line" else None
            dash = "" if path is not None else "--"
            for key, values in (("select", layer.select or ()), ("extend-select", layer.extend_select),
                                ("ignore", layer.ignore)):
                for value in values:
                    yield value, dash + key, path
        for glob, codes in self.per_file_ignores.items():
            for value in codes:
                yield value, f"per-file-ignores.{glob}", self.config_path
        for value in self.severity:
            yield value, "severity", self.config_path
        for value in self.force_fix:
            yield value, "force-fix", self.config_path


def _merge_tables(base: Mapping[str, tuple[str, ...]],
                  extra: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    merged = {glob: tuple(codes) for glob, codes in base.items()}
    for glob, codes in extra.items():
        merged[glob] = tuple(dict.fromkeys((*merged.get(glob, ()), *codes)))
    return merged


# --------------------------------------------------------------------------- value conversion


def _codes(value: Any, path: Path | None, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        # command-line style: "DO1,DO201"
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError("expected a list of rule codes or prefixes", path=path, key=key)
    codes = tuple(v.strip().upper() for v in value)
    for code in codes:
        if not _CODE_SELECTOR.match(code):
            raise ConfigError(f"'{code}' is not a rule code or prefix (like DO1 or DO101, or ALL)", path=path, key=key)
    return codes


def _selection(value: Any, path: Path | None, key: str) -> tuple[str, ...]:
    """`select`: an empty one would run no rule at all and pass silently, so it is an error."""
    codes = _codes(value, path, key)
    if not codes:
        raise ConfigError("selects no rule (give codes or prefixes such as DO1, or ALL)", path=path, key=key)
    return codes


def _bool(value: Any, path: Path | None, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError("expected true or false", path=path, key=key)
    return value


def _per_file_ignores(value: Any, path: Path | None, key: str) -> Mapping[str, tuple[str, ...]]:
    if isinstance(value, (list, tuple)) and path is None and all(isinstance(v, str) for v in value):
        # command line: GLOB:CODE[,CODE...], repeatable
        table: dict[str, list[str]] = {}
        for item in value:
            glob, colon, codes = item.rpartition(":")
            if not colon or not glob:
                raise ConfigError(f"expected GLOB:CODES, not {item!r}", key=key)
            table.setdefault(glob, []).extend(c for c in codes.split(",") if c.strip())
        value = table
    if not isinstance(value, Mapping):
        raise ConfigError('expected a table of glob = ["CODE", ...]', path=path, key=key)
    result = {}
    for glob, codes in value.items():
        result[str(glob)] = _selection(codes, path, f"{key}.{glob}")
    return MappingProxyType(result)


def _level(value: Any, path: Path | None, key: str) -> str:
    if not isinstance(value, str) or value.lower() not in LEVELS:
        raise ConfigError(f"expected one of {', '.join(LEVELS)}, not {value!r}", path=path, key=key)
    return value.lower()


def _severity(value: Any, path: Path | None, key: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError('expected a table of CODE = "error" | "warning" | "info"', path=path, key=key)
    out = {}
    for selector, level in value.items():
        [code] = _codes([str(selector)], path, f"{key}.{selector}")
        out[code] = _level(level, path, f"{key}.{selector}")
    return MappingProxyType(out)


def _patterns(value: Any, path: Path | None, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError("expected a list of gitignore-style patterns", path=path, key=key)
    return tuple(value)


def _runtime_base(value: Any, path: Path | None, key: str) -> Mapping[str, str]:
    if isinstance(value, str):
        return MappingProxyType({ANY_LANGUAGE: value})
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError('expected an image name or a table of language = "image"', path=path, key=key)
    return MappingProxyType({str(k): v for k, v in value.items()})


TARGETS = ("buildkit", "classic")


def _target(value: Any, path: Path | None, key: str) -> str:
    if value not in TARGETS:
        raise ConfigError(f"expected one of {', '.join(repr(t) for t in TARGETS)}", path=path, key=key)
    return str(value)


def _context(value: Any, path: Path | None, key: str) -> Path:
    if not isinstance(value, str):
        raise ConfigError("expected a directory path", path=path, key=key)
    context = Path(value)
    # relative to the config file, not to wherever dockopt happens to run
    return context if context.is_absolute() or path is None else path.parent / context


_CONVERTERS: dict[str, Callable[[Any, Path | None, str], Any]] = {
    "select": _selection,
    "extend-select": _codes,
    "ignore": _codes,
    "unsafe-fixes": _bool,
    "force-fix": _codes,
    "per-file-ignores": _per_file_ignores,
    "extend-per-file-ignores": _per_file_ignores,
    "severity": _severity,
    "fail-level": _level,
    "exclude": _patterns,
    "runtime-base": _runtime_base,
    "context": _context,
    "target": _target,
}
_SELECTION_KEYS = ("select", "extend-select", "ignore")


def _settings_from_table(table: Mapping[str, Any], path: Path, where: str) -> Settings:
    values: dict[str, Any] = {}
    layer: dict[str, Any] = {}
    for key, value in table.items():
        converter = _CONVERTERS.get(key)
        if converter is None:
            from difflib import get_close_matches

            hint = get_close_matches(key, _CONVERTERS, n=1)
            snake = key.replace("_", "-")
            if snake in _CONVERTERS:
                hint = [snake]
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"unknown key in {where}{suggestion}", path=path, key=key)
        converted = converter(value, path, key)
        if key in _SELECTION_KEYS:
            layer[key.replace("-", "_")] = converted
        else:
            values[key.replace("-", "_")] = converted
    if "extend_per_file_ignores" in values:
        extra = values.pop("extend_per_file_ignores")
        values["per_file_ignores"] = _merge_tables(values.get("per_file_ignores", {}), extra)
    selection = (DEFAULT_SELECTION, RuleSelection(source=str(path), **layer)) if layer else (DEFAULT_SELECTION,)
    return Settings(selection=selection, **values, config_path=path, project_root=path.parent)


# --------------------------------------------------------------------------- code validation


def check_codes(settings: Settings, known: Collection[str], aliases: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError for a selector that names no rule, with the nearest valid code.

    ``known`` holds every rule code; ``aliases`` maps other tools' codes (hadolint's) to ours,
    so that the message can name the equivalent."""
    for selector, key, path in settings.selectors():
        problem = unknown_code_message(selector, known, aliases)
        if problem:
            raise ConfigError(problem, path=path, key=key)


def unknown_code_message(selector: str, known: Collection[str], aliases: Mapping[str, str] | None = None) -> str | None:
    """None for a selector that names at least one rule, else the error message for it."""
    selector = selector.upper()
    if selector == ALL or any(code.startswith(selector) for code in known):
        return None
    equivalent = (aliases or {}).get(selector)
    if equivalent:
        return f"unknown rule code {selector}: that is hadolint's code; dockopt's equivalent is {equivalent}"
    if re.fullmatch(r"(DL|SC)\d{4}", selector):
        tool = "hadolint" if selector.startswith("DL") else "ShellCheck"
        return (f"unknown rule code {selector}: that is {tool}'s code, and dockopt has no rule for it "
                "(docs/rules.md lists the hadolint codes dockopt matches)")
    # the fewest edits away; on a tie the one sharing the longest start (DO999: DO900, not DO109)
    nearest = min(sorted(known), default=None,
                  key=lambda code: (_edit_distance(selector, code), -_shared_start(selector, code)))
    hint = f" (the nearest is {nearest}; see --list-rules)" if nearest else " (see --list-rules)"
    return f"unknown rule code {selector}{hint}"


def _shared_start(a: str, b: str) -> int:
    """How many leading characters a and b share."""
    return next((i for i, (ca, cb) in enumerate(zip(a, b, strict=False)) if ca != cb), min(len(a), len(b)))


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest one-character insertions, deletions and substitutions
    from a to b (DO1O1 is one from DO101, two from DO112)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


# --------------------------------------------------------------------------- discovery


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
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


def code_matches(code: str, selector: str) -> bool:
    """Whether a selector (a code, a prefix such as DO3, or ALL) names the code."""
    return _specificity(selector, code) >= 0


def rule_enabled(settings: Settings, code: str, path: str | PurePath | None = None) -> bool:
    """Whether findings of ``code`` are reported for the Dockerfile at ``path``.

    The selection layers are applied in order (see the module docs). ``path`` may be absolute
    or relative to the current directory; it is matched against per-file-ignores relative to
    the config file's directory.
    """
    enabled = False
    for layer in settings.selection:
        verdict = layer.verdict(code)
        if layer.select is not None:
            enabled = verdict is True
        elif verdict is not None:
            enabled = verdict
    if not enabled:
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

"""Paths in the image and in the build context, cleaned and compared the way Go and BuildKit do.

Image paths are absolute strings. A path relative to the base image's working directory when
no one knows it (an image whose WORKDIR dockopt does not know, no WORKDIR in the file) is
spelled under `BASE_WORKDIR`, a prefix no Dockerfile can write: such paths still compare with
each other (`COPY . .` then `RUN npm ci` in the same unknown directory), but `known()` is false
for them and no fix may write them out.
"""
from __future__ import annotations

import posixpath
import re

__all__ = [
    "BASE_WORKDIR",
    "STANDARD_DIRS",
    "clean",
    "created_parents",
    "display",
    "go_match",
    "has_vars",
    "has_wildcards",
    "is_remote",
    "is_under",
    "join",
    "known",
    "overlaps",
    "relative",
]

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_GIT = re.compile(r"^(?:git@|[\w.-]+@[\w.-]+:)")

# Directories every Linux base image has (the FHS): no COPY needs to create them.
STANDARD_DIRS = frozenset({
    "/", "/bin", "/etc", "/home", "/lib", "/opt", "/root", "/run", "/sbin", "/srv", "/tmp", "/usr", "/usr/bin",
    "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share",
    "/usr/sbin", "/usr/share", "/var", "/var/cache", "/var/lib", "/var/log", "/var/tmp"})

# The base image's working directory when nothing tells what it is.
BASE_WORKDIR = "/\x00base"


def clean(path: str) -> str:
    """Go's ``path.Clean``: posixpath.normpath, except that Go never keeps two leading slashes."""
    cleaned = posixpath.normpath(path) if path else "."
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def has_wildcards(path: str) -> bool:
    """Whether BuildKit treats a COPY/ADD source as a pattern (``*``, ``?`` or ``[`` not escaped)."""
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?[":
            return True
        i += 1
    return False


class _BadPattern(ValueError):
    """Go's filepath.ErrBadPattern."""


def _go_regex_parts(pattern: str) -> list[str]:
    """A Go ``path.Match`` pattern as Python regex pieces, raising _BadPattern where Go would.

    Go checks the syntax of the whole pattern whatever the name, so validating up front loses nothing.
    """
    parts: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            parts.append("[^/]*")
        elif ch == "?":
            parts.append("[^/]")
        elif ch == "\\":
            if i >= n:
                raise _BadPattern("trailing backslash")
            parts.append(re.escape(pattern[i]))
            i += 1
        elif ch == "[":
            negated, ranges, i = _go_class(pattern, i)
            parts.append(_class_regex(negated, ranges))
        else:
            parts.append(re.escape(ch))
    return parts


def _go_class(pattern: str, i: int) -> tuple[bool, list[tuple[str, str]], int]:
    """(negated, ranges, index after ``]``) of a ``[...]`` class whose body starts at ``i``."""
    n = len(pattern)
    negated = i < n and pattern[i] == "^"
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    while not (i < n and pattern[i] == "]" and ranges):
        lo, i = _class_char(pattern, i)
        hi = lo
        if pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        ranges.append((lo, hi))
    return negated, ranges, i + 1


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly escaped) character of a ``[...]`` class; Go's getEsc."""
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise _BadPattern("bad character class")
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            raise _BadPattern("bad character class")
    ch = pattern[i]
    i += 1
    if i >= n:  # a class must still be closed after this character
        raise _BadPattern("unterminated character class")
    return ch, i


def _class_regex(negated: bool, ranges: list[tuple[str, str]]) -> str:
    # Go accepts reversed ranges (they match nothing); Python's re would reject them.
    parts = "".join(
        f"\\U{ord(lo):08x}" if lo == hi else f"\\U{ord(lo):08x}-\\U{ord(hi):08x}"
        for lo, hi in ranges
        if lo <= hi
    )
    if not parts:
        return r"[\s\S]" if negated else "(?!)"
    return f"[{'^' if negated else ''}{parts}]"


def _go_match_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(_go_regex_parts(pattern)), re.DOTALL)


_go_match_cache: dict[str, re.Pattern[str]] = {}


def go_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*``/``?`` never match ``/``; raises ValueError on a malformed pattern."""
    compiled = _go_match_cache.get(pattern)
    if compiled is None:
        try:
            compiled = _go_match_regex(pattern)
        except _BadPattern as exc:
            raise ValueError(f"syntax error in pattern {pattern!r}: {exc}") from None
        _go_match_cache[pattern] = compiled
    return compiled.fullmatch(name) is not None


def known(path: str | None) -> bool:
    """A path that can be written out: resolved, and not relative to an unknown base WORKDIR."""
    return path is not None and "\x00" not in path


def display(text: str) -> str:
    """`text` with paths under the unknown base WORKDIR written for a reader: `<base WORKDIR>/app`."""
    return text.replace(BASE_WORKDIR, "<base WORKDIR>")


def has_vars(text: str) -> bool:
    return "$" in text


def join(cwd: str | None, path: str | None) -> str | None:
    """The absolute image path `path` names when the working directory is `cwd` (None: unknown)."""
    if path is None or has_vars(path):
        return None
    if path.startswith("/"):
        return clean(path)
    if cwd is None:
        return None
    return clean(cwd + "/" + path)


def is_under(path: str, directory: str) -> bool:
    """`path` is `directory` or lies inside it (a path under the unknown base WORKDIR never lies
    in a known directory: that WORKDIR could be anywhere)."""
    if "\x00" in path and "\x00" not in directory:
        return False
    if directory == "/":
        return path.startswith("/")
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def removes(deleted: str, path: str) -> bool:
    """Deleting `deleted` (a shell glob such as `/var/lib/apt/*` allowed) removes `path`: it is
    `path` or a directory above it. Deleting only what is in `path` (`path/*`) does not."""
    if not has_wildcards(deleted):
        return is_under(path, clean(deleted))
    parts = clean(deleted).split("/")
    names = path.split("/")
    if len(names) < len(parts):
        return False
    try:
        return all(go_match(pattern, name) for pattern, name in zip(parts, names, strict=False))
    except ValueError:
        return True   # a pattern dockopt cannot read may remove anything


def overlaps(a: str, b: str) -> bool:
    return is_under(a, b) or is_under(b, a)


def relative(path: str, directory: str) -> str:
    """`path` relative to `directory` (path must lie under it); '.' for the directory itself."""
    if path == directory:
        return "."
    prefix = "/" if directory == "/" else directory.rstrip("/") + "/"
    return path[len(prefix):]


def is_remote(source: str) -> bool:
    """A COPY/ADD source BuildKit fetches (a URL or a git repository), not a context path."""
    return bool(_URL.match(source) or _GIT.match(source))


def created_parents(dest: str) -> tuple[str, ...]:
    """The directories above `dest` that writing it may create (a COPY creates every missing
    directory above its destination), the standard ones left out."""
    out = []
    parent = posixpath.dirname(dest)
    while parent not in STANDARD_DIRS and parent not in ("", dest):
        out.append(parent)
        dest, parent = parent, posixpath.dirname(parent)
    return tuple(out)

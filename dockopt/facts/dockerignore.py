"""`.dockerignore` as BuildKit reads and applies it, down to the quirks:

* the file is read like moby/patternmatcher's ``ignorefile.ReadAll``: a line
  whose first character is ``#`` is a comment (a ``#`` after leading blanks is
  not), blanks around a pattern and around the text after ``!`` are trimmed,
  each pattern is cleaned like Go's ``filepath.Clean`` and one leading ``/``
  is dropped;
* each pattern is matched like ``patternmatcher.Pattern.match``: the same
  exact / prefix / suffix fast paths and the same translation of ``*``, ``?``,
  ``**``, ``[...]`` and ``\\`` escapes into a regular expression;
* which paths are sent follows the walk in fsutil's ``filterFS.Walk``: a path
  is excluded when the last pattern matching it or one of its parent
  directories is not an exception (``!``), evaluated with the parent's
  per-pattern results like ``MatchesUsingParentResults``; an excluded
  directory is skipped whole unless an exception could re-include something
  under it, and when every exception is a plain prefix that test is the
  prefix check fsutil makes (so ``!**/keep`` does not reach into an excluded
  directory, but ``!node_modules/keep`` does).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from .paths import clean, go_match

__all__ = ["DockerignoreError", "IgnoreMatcher", "IgnorePattern", "read_dockerignore"]

_UTF8_BOM = "\ufeff"


class DockerignoreError(ValueError):
    """A pattern BuildKit would refuse (the build would fail on it)."""

    def __init__(self, reason: str, *, source: Path | None = None, line: int | None = None):
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + reason)
        self.reason = reason
        self.source = source
        self.line = line


def read_dockerignore(text: str) -> list[tuple[int, str]]:
    """The patterns of a .dockerignore file as BuildKit reads them, with their 1-based line numbers.

    Exceptions keep their ``!`` prefix, as in ``ignorefile.ReadAll``.
    """
    if text.startswith(_UTF8_BOM):
        text = text[1:]
    patterns = []
    # Go's bufio.Scanner splits on \n and drops one trailing \r.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if line.startswith("#"):  # checked before trimming, as Docker does
            continue
        pattern = line.strip(_GO_SPACE)
        if not pattern:
            continue
        exception = pattern.startswith("!")
        if exception:
            pattern = pattern[1:].strip(_GO_SPACE)
        if pattern:
            pattern = clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append((number, "!" + pattern if exception else pattern))
    return patterns


# strings.TrimSpace trims Unicode white space; str.strip() would also trim
# \x1c-\x1f, which Go keeps.
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(chr(c) for c in range(0x2000, 0x200B))


class _MatchKind(Enum):
    EXACT = "exact"
    PREFIX = "prefix"  # pattern ends in "**" (nothing else special before it)
    SUFFIX = "suffix"  # pattern starts with "**" (nothing else special after it)
    REGEX = "regex"


# Regex metacharacters that mean nothing in a Go file pattern (patternmatcher's shouldEscape).
_ESCAPED_LITERALS = frozenset(".+()|{}$")
# After a backslash, Go hands "\x" to RE2; these escapes mean the same in Python's re.
_SHARED_REGEX_ESCAPES = frozenset("dDsSwWbBAfnrtv")


@dataclass(frozen=True)
class IgnorePattern:
    """One cleaned .dockerignore pattern, compiled the way patternmatcher compiles it."""

    text: str  # cleaned, without the leading "!"
    exception: bool  # "!pattern": re-includes what earlier patterns excluded
    line: int | None = None  # line in the ignore file, when read from one
    _kind: _MatchKind = field(init=False, repr=False, compare=False)
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kind, regex = _compile_ignore_pattern(self.text)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_regex", regex)

    @classmethod
    def parse(cls, pattern: str, line: int | None = None) -> IgnorePattern:
        """Build from a pattern as ``ignorefile.ReadAll`` returns it (``!`` prefix for exceptions)."""
        text = clean(pattern.strip(_GO_SPACE))  # patternmatcher.New cleans again
        exception = text.startswith("!")
        if exception:
            if len(text) == 1:
                raise DockerignoreError('illegal exclusion pattern: "!"', line=line)
            text = text[1:]
        try:
            go_match(text, ".")  # New() rejects what filepath.Match rejects
        except ValueError as exc:
            raise DockerignoreError(str(exc), line=line) from None
        return cls(text, exception, line)

    def __str__(self) -> str:
        return ("!" if self.exception else "") + self.text

    def matches(self, path: str) -> bool:
        """Whether this pattern matches exactly this slash-separated, cleaned relative path."""
        text = self.text
        if self._kind is _MatchKind.EXACT:
            return path == text
        if self._kind is _MatchKind.PREFIX:
            return path.startswith(text[:-2])
        if self._kind is _MatchKind.SUFFIX:
            suffix = text[2:]
            # "**" alone, or "**foo": a plain suffix test; "**/foo" also matches "foo" itself.
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self._regex is not None
        return self._regex.match(path) is not None

    @property
    def is_plain_prefix(self) -> bool:
        """No wildcard once a trailing ``/**`` or ``/*`` is dropped (fsutil's pruning precondition)."""
        return not any(ch in "*[]?^\\" for ch in self.without_trailing_glob)

    @property
    def without_trailing_glob(self) -> str:
        return self.text.removesuffix("/**").removesuffix("/*")


def _compile_ignore_pattern(pattern: str) -> tuple[_MatchKind, re.Pattern[str] | None]:
    """patternmatcher's Pattern.compile, emitting a Python regex instead of an RE2 one."""
    out = ["^"]
    kind = _MatchKind.EXACT
    i, n = 0, len(pattern)
    first = True
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            fragment, kind, i = _translate_star(pattern, i, kind, first)
        else:
            fragment, regex, i = _translate_char(pattern, i, ch)
            if regex:
                kind = _MatchKind.REGEX
        out.append(fragment)
        first = False
    if kind is not _MatchKind.REGEX:
        return kind, None
    out.append(r"\Z")  # Go's "$"; Python's "$" would also match before a final newline
    try:
        with warnings.catch_warnings():
            # Python warns about "[[" and "--" in classes; RE2 reads them as the literals Python does today.
            warnings.simplefilter("ignore", FutureWarning)
            return kind, re.compile("".join(out))
    except re.error as exc:
        raise DockerignoreError(f"bad pattern {pattern!r}: {exc}") from None


def _translate_star(pattern: str, i: int, kind: _MatchKind, first: bool) -> tuple[str, _MatchKind, int]:
    """The regex for a ``*`` or ``**`` whose first star ends just before ``i``."""
    n = len(pattern)
    if not (i < n and pattern[i] == "*"):
        return "[^/]*", _MatchKind.REGEX, i
    i += 1
    if i < n and pattern[i] == "/":  # "**/" behaves as "**"
        i += 1
    if i < n:
        fragment, kind = "(.*/)?", _MatchKind.REGEX    # any number of directories, including none
    elif kind is _MatchKind.EXACT:
        fragment, kind = "", _MatchKind.PREFIX          # trailing "**" accepts everything, like .gitignore
    else:
        fragment, kind = ".*", _MatchKind.REGEX
    if first:
        kind = _MatchKind.SUFFIX
    return fragment, kind, i


def _translate_char(pattern: str, i: int, ch: str) -> tuple[str, bool, int]:
    """(regex, whether it needs a regex, next index) for the character ``ch`` just before ``i``."""
    if ch == "?":
        return "[^/]", True, i
    if ch in _ESCAPED_LITERALS:
        return "\\" + ch, False, i
    if ch == "\\":
        if i < len(pattern):
            return _translate_escape(pattern[i], pattern), True, i + 1
        return "\\\\", False, i
    if ch in "[]":
        return ch, True, i
    # Handed to RE2 unescaped by Docker too ("^" and "-" keep their regex meaning).
    return ch, False, i


def _translate_escape(ch: str, pattern: str) -> str:
    if not ch.isalnum():
        return re.escape(ch)
    if ch in _SHARED_REGEX_ESCAPES:
        return "\\" + ch
    if ch == "z":
        return r"\Z"
    # RE2 either rejects these (Docker then fails the build) or gives them a meaning
    # (\pN, \x41, octal) nobody writes in an ignore file; refuse rather than guess.
    raise DockerignoreError(f"unsupported escape \\{ch} in pattern {pattern!r}")


# Per-pattern "this pattern matched the parent directory" flags (patternmatcher.MatchInfo).
ParentMatches = tuple[bool, ...]


@dataclass(frozen=True)
class IgnoreMatcher:
    """The ordered patterns of one ignore file and BuildKit's rules for applying them."""

    patterns: tuple[IgnorePattern, ...] = ()
    source: Path | None = None

    @classmethod
    def from_text(cls, text: str, source: Path | None = None) -> IgnoreMatcher:
        compiled = []
        for line, pattern in read_dockerignore(text):
            try:
                compiled.append(IgnorePattern.parse(pattern, line))
            except DockerignoreError as exc:
                raise DockerignoreError(exc.reason, source=source, line=line) from None
        return cls(tuple(compiled), source)

    @property
    def has_exceptions(self) -> bool:
        return any(p.exception for p in self.patterns)

    @property
    def prunes_by_prefix(self) -> bool:
        """fsutil's onlyPrefixExcludeExceptions: every exception is a plain path prefix."""
        return all(p.is_plain_prefix for p in self.patterns if p.exception)

    def match(self, path: str, parent: ParentMatches | None = None) -> tuple[bool, ParentMatches]:
        """Whether ``path`` is excluded, given its parent directory's results (``MatchesUsingParentResults``).

        ``parent`` is None for a top-level entry; the second value is what to pass for its children.
        """
        excluded = False
        matched: list[bool] = []
        for index, pattern in enumerate(self.patterns):
            hit = parent[index] if parent is not None else False
            if not hit:
                # an inclusion cannot change an excluded path, nor an exception an included one
                if pattern.exception != excluded:
                    matched.append(False)
                    continue
                hit = pattern.matches(path)
                if not hit and parent is None and "/" in path:
                    # without the parent's results, test every parent directory (MatchesOrParentMatches)
                    parts = path.split("/")[:-1]
                    hit = any(pattern.matches("/".join(parts[: k + 1])) for k in range(len(parts)))
            matched.append(hit)
            if hit:
                excluded = not pattern.exception
        return excluded, tuple(matched)

    def is_excluded(self, path: str) -> bool:
        """``MatchesOrParentMatches``: the verdict for one path, ignoring directory pruning."""
        return self.match(path)[0]

    def may_reinclude_under(self, directory: str) -> bool:
        """Whether fsutil keeps walking an excluded directory because an exception may match inside."""
        if not self.has_exceptions:
            return False
        if not self.prunes_by_prefix:
            return True  # some exception has a wildcard: fsutil then never skips a directory
        prefix = directory + "/"
        return any((p.without_trailing_glob + "/").startswith(prefix) for p in self.patterns if p.exception)

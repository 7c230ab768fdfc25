"""The build context: which files exist in it and which ones BuildKit sends.

Passes ask questions such as "does package-lock.json exist and is it sent?",
"what does `COPY . /app` bring in?" or "is node_modules sent?".  The answers
depend on `.dockerignore`, so this module reproduces what BuildKit does with
it, down to the quirks:

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

With BuildKit the Dockerfile travels separately from the context, so the
Dockerfile and ``.dockerignore`` get no special treatment here: when
``.dockerignore`` excludes them, ``COPY . /app`` does not copy them.
"""
from __future__ import annotations

import os
import posixpath
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePath

__all__ = [
    "BuildContext",
    "DockerignoreError",
    "IgnoreMatcher",
    "IgnorePattern",
    "go_clean",
    "go_match",
    "has_wildcards",
    "read_dockerignore",
]

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


# --------------------------------------------------------------------------- Go path helpers


def go_clean(path: str) -> str:
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


def _split_go_pattern(pattern: str) -> list[tuple[str, object]]:
    """Tokenize a Go ``path.Match`` pattern, raising _BadPattern where Go would.

    Tokens: ("star", None), ("any", None) for ``?``, ("lit", char) and
    ("class", (negated, [(lo, hi), ...])).  Go checks the syntax of the whole
    pattern whatever the name, so validating up front loses nothing.
    """
    tokens: list[tuple[str, object]] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            tokens.append(("star", None))
            i += 1
        elif ch == "?":
            tokens.append(("any", None))
            i += 1
        elif ch == "\\":
            if i + 1 >= n:
                raise _BadPattern("trailing backslash")
            tokens.append(("lit", pattern[i + 1]))
            i += 2
        elif ch == "[":
            i += 1
            negated = i < n and pattern[i] == "^"
            if negated:
                i += 1
            ranges: list[tuple[str, str]] = []
            while True:
                if i < n and pattern[i] == "]" and ranges:
                    i += 1
                    break
                lo, i = _class_char(pattern, i)
                hi = lo
                if pattern[i] == "-":
                    hi, i = _class_char(pattern, i + 1)
                ranges.append((lo, hi))
            tokens.append(("class", (negated, ranges)))
        else:
            tokens.append(("lit", ch))
            i += 1
    return tokens


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
    out = []
    for kind, value in _split_go_pattern(pattern):
        if kind == "star":
            out.append("[^/]*")
        elif kind == "any":
            out.append("[^/]")
        elif kind == "lit":
            out.append(re.escape(value))  # type: ignore[arg-type]
        else:
            out.append(_class_regex(*value))  # type: ignore[misc]
    return re.compile("".join(out), re.DOTALL)


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


# --------------------------------------------------------------------------- .dockerignore


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
            pattern = go_clean(pattern)
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
        text = go_clean(pattern.strip(_GO_SPACE))  # patternmatcher.New cleans again
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
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":  # "**/" behaves as "**"
                    i += 1
                if i >= n:
                    # trailing "**" accepts everything, like .gitignore
                    if kind is _MatchKind.EXACT:
                        kind = _MatchKind.PREFIX
                    else:
                        out.append(".*")
                        kind = _MatchKind.REGEX
                else:
                    # any number of directories, including none
                    out.append("(.*/)?")
                    kind = _MatchKind.REGEX
                if first:
                    kind = _MatchKind.SUFFIX
            else:
                out.append("[^/]*")
                kind = _MatchKind.REGEX
        elif ch == "?":
            out.append("[^/]")
            kind = _MatchKind.REGEX
        elif ch in _ESCAPED_LITERALS:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                escaped = pattern[i]
                i += 1
                out.append(_translate_escape(escaped, pattern))
                kind = _MatchKind.REGEX
            else:
                out.append("\\\\")
        elif ch in "[]":
            out.append(ch)
            kind = _MatchKind.REGEX
        else:
            # Handed to RE2 unescaped by Docker too ("^" and "-" keep their regex meaning).
            out.append(ch)
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
_ParentMatches = tuple[bool, ...]


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

    def match(self, path: str, parent: _ParentMatches | None = None) -> tuple[bool, _ParentMatches]:
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


# --------------------------------------------------------------------------- the context


def _normalize(relpath: str | PurePath) -> str | None:
    """A context-relative slash path, cleaned; None when it leaves the context."""
    text = str(relpath)
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    cleaned = go_clean(text)
    if cleaned == ".." or cleaned.startswith("../"):
        return None
    # "/app" means the context's "app", as in a COPY source
    return cleaned.lstrip("/") or "."


@dataclass(frozen=True)
class BuildContext:
    """A build context directory as BuildKit will see it.

    ``dockerfile`` (optional) is the Dockerfile's path: a ``<Dockerfile>.dockerignore``
    next to it takes precedence over the context's ``.dockerignore``.
    """

    root: Path
    dockerfile: Path | None = None
    dockerignore_path: Path | None = field(init=False)
    matcher: IgnoreMatcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        root = Path(self.root)
        object.__setattr__(self, "root", root)
        if not root.is_dir():
            raise NotADirectoryError(f"build context {root} is not a directory")
        ignore_file = self._find_ignore_file()
        object.__setattr__(self, "dockerignore_path", ignore_file)
        if ignore_file is None:
            matcher = IgnoreMatcher()
        else:
            text = ignore_file.read_bytes().decode("utf-8", errors="surrogateescape")
            matcher = IgnoreMatcher.from_text(text, ignore_file)
        object.__setattr__(self, "matcher", matcher)

    def _find_ignore_file(self) -> Path | None:
        if self.dockerfile is not None:
            specific = Path(str(self.dockerfile) + ".dockerignore")
            if specific.is_file():
                return specific
        default = self.root / ".dockerignore"
        return default if default.is_file() else None

    @property
    def patterns(self) -> tuple[str, ...]:
        """The ignore patterns as BuildKit reads them (cleaned, ``!`` for exceptions), in order."""
        return tuple(str(p) for p in self.matcher.patterns)

    # ---------------------------------------------------------------- questions about one path

    def exists(self, relpath: str | PurePath) -> bool:
        """Whether the path exists in the context directory, sent or not (a dangling symlink exists)."""
        path = _normalize(relpath)
        if path is None:
            return False
        return os.path.lexists(self.root / path)

    def is_sent(self, relpath: str | PurePath) -> bool:
        """Whether BuildKit would transfer this path (so that COPY/ADD can see it).

        Answers from the patterns alone, so also for paths that do not exist
        ("would it be sent if it existed"); combine with exists().  An excluded
        directory still counts as sent when some file under it is re-included,
        because BuildKit then transfers the directory too.
        """
        path = _normalize(relpath)
        if path is None:
            return False
        if path == ".":
            return True
        verdict = self._walk_verdict(path)
        if verdict is None:
            return False  # a parent directory is skipped whole
        excluded, parent_info = verdict
        if not excluded:
            return True
        full = self.root / path
        if full.is_dir() and not full.is_symlink() and self.matcher.may_reinclude_under(path):
            return next(self._walk(path, parent_info), None) is not None
        return False

    def _walk_verdict(self, path: str) -> tuple[bool, _ParentMatches] | None:
        """Follow fsutil's walk down to ``path``: (excluded, its match info), or None if pruned above it."""
        parts = path.split("/")
        info: _ParentMatches | None = None
        excluded = False
        for depth in range(len(parts)):
            current = "/".join(parts[: depth + 1])
            excluded, info = self.matcher.match(current, info)
            is_last = depth == len(parts) - 1
            if excluded and not is_last and not self.matcher.may_reinclude_under(current):
                return None
        assert info is not None
        return excluded, info

    # ---------------------------------------------------------------- walking

    def sent_files(self, under: str | PurePath = ".") -> Iterator[str]:
        """Every non-directory entry BuildKit would transfer, as context-relative slash paths.

        Walks lazily in BuildKit's order (depth first, names sorted), never
        descending into an excluded directory that no exception could
        re-include from.  Symlinks are listed, not followed.  ``under`` limits
        the walk to one directory of the context.
        """
        start = _normalize(under)
        if start is None:
            return
        if start == ".":
            yield from self._walk("", None)
            return
        verdict = self._walk_verdict(start)
        if verdict is None:
            return
        excluded, info = verdict
        full = self.root / start
        if full.is_dir() and not full.is_symlink():
            if excluded and not self.matcher.may_reinclude_under(start):
                return
            yield from self._walk(start, info)
        elif not excluded and os.path.lexists(full):
            yield start

    def _walk(self, directory: str, info: _ParentMatches | None) -> Iterator[str]:
        try:
            with os.scandir(self.root / directory if directory else self.root) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for entry in entries:
            path = f"{directory}/{entry.name}" if directory else entry.name
            excluded, child_info = self.matcher.match(path, info)
            if entry.is_dir(follow_symlinks=False):
                if excluded and not self.matcher.may_reinclude_under(path):
                    continue
                yield from self._walk(path, child_info)
            elif not excluded:
                yield path

    # ---------------------------------------------------------------- COPY sources

    def glob(self, pattern: str) -> list[str]:
        """The context paths a COPY/ADD source names, among those BuildKit sends.

        Without wildcards this is the path itself when it is sent and exists.
        With wildcards each path segment is matched with Go's ``path.Match``
        (``**`` is no different from ``*`` here, unlike in .dockerignore).
        Results are context-relative slash paths in walk order; directories
        are returned as directories (COPY then copies what is sent under them).
        """
        source = pattern.lstrip("/") or "."
        if not has_wildcards(source):
            path = _normalize(source)
            if path is None:
                return []
            return [path] if self.exists(path) and self.is_sent(path) else []
        cleaned = go_clean(source)
        if cleaned == ".." or cleaned.startswith("../"):
            return []
        candidates = [""]
        for segment in cleaned.split("/"):
            expanded: list[str] = []
            for base in candidates:
                if has_wildcards(segment):
                    expanded.extend(self._matching_children(base, segment))
                else:
                    path = f"{base}/{segment}" if base else segment
                    if os.path.lexists(self.root / path) and self.is_sent(path):
                        expanded.append(path)
            candidates = expanded
        return candidates

    def copied_files(self, source: str) -> Iterator[str]:
        """The files ``COPY <source> ...`` brings in: glob() matches, directories expanded to what is sent."""
        for match in self.glob(source):
            full = self.root / match if match != "." else self.root
            if full.is_dir() and not full.is_symlink():
                yield from self.sent_files(match)
            else:
                yield match

    def _matching_children(self, base: str, segment: str) -> Iterator[str]:
        directory = self.root / base if base else self.root
        if directory.is_symlink() or not directory.is_dir():
            return
        for name in sorted(os.listdir(directory)):
            if go_match(segment, name):
                path = f"{base}/{name}" if base else name
                if self.is_sent(path):
                    yield path

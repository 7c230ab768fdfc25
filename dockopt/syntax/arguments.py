"""How BuildKit reads an instruction line: keyword, flags, words, JSON arrays, heredoc markers.

Everything here follows the behaviour of BuildKit's Dockerfile parser (directives, continuation,
comment lines, flag extraction, word splitting, JSON arrays, heredoc detection), so that dockopt
sees each file exactly as `docker build` does. The code is written for this project; the rules it
implements are BuildKit's.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

# Go's unicode.IsSpace (Python's str.isspace also accepts \x1c-\x1f, which Go does not).
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
            "\u2028\u2029\u202f\u205f\u3000")
GO_SPACE_SET = frozenset(GO_SPACE)
# Go regexp's \s and BuildKit's reWhitespace ([\t\v\f\r ]+)
_RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
RE_DIRECTIVE = re.compile(r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z", re.S)
KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
RE_HEREDOC = re.compile(r"(\d*)<<(-?)([^<]*)\Z", re.S)

INSTRUCTIONS = frozenset({
    "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
    "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
})
HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})


class RuleError(ValueError):
    """An input BuildKit's parser rejects; the syntax layer adds the location."""


def lstrip_go(s: str) -> str:
    return s.lstrip(GO_SPACE)


def trim_go(s: str) -> str:
    return s.strip(GO_SPACE)


def is_go_space(ch: str) -> bool:
    return ch in GO_SPACE_SET


_CONTINUATION: dict[str, re.Pattern[str]] = {}


def continuation_regex(escape: str) -> re.Pattern[str]:
    """The escape char as the last non-blank char of a line continues it, unless it is escaped."""
    rx = _CONTINUATION.get(escape)
    if rx is None:
        e = re.escape(escape)
        rx = re.compile(rf"(?:(?<=[^{e}])|^){e}[ \t]*\Z", re.S)
        _CONTINUATION[escape] = rx
    return rx


# ---------------------------------------------------------------------------------------------
# splitting an instruction line


def split_command(line: str) -> tuple[str, str]:
    """Keyword (as written) and the rest of a logical line (flags still included)."""
    parts = _RE_WHITESPACE.split(trim_go(line), maxsplit=1)
    return parts[0], (parts[1] if len(parts) == 2 else "")


def extract_flags(rest: str) -> tuple[list[str], str]:
    """Leading `--flag[=value]` words, and what follows them (BuildKit's extractBuilderFlags).

    BuildKit walks bytes here, so a multi-byte UTF-8 char is seen byte by byte."""
    if not rest.lstrip(GO_SPACE).startswith("--"):
        return [], rest
    return _FlagReader(rest.encode("utf-8", "surrogateescape")).read()


def _bytes_to_str(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


class _FlagReader:
    """extractBuilderFlags over the bytes of a line: blank-separated words while they start with
    `--`, quotes and backslash escapes removed; a bare `--` ends the flags."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.words: list[str] = []

    def read(self) -> tuple[list[str], str]:
        data = self.data
        n = len(data)
        while self.pos < n:
            if is_go_space(chr(data[self.pos])):
                self.pos += 1
                continue
            if data[self.pos] != 0x2D or self.pos + 1 == n or data[self.pos + 1] != 0x2D:
                return self.words, _bytes_to_str(data[self.pos:])
            if self._word():
                return self.words, _bytes_to_str(data[self.pos:])
        return self.words, ""

    def _word(self) -> bool:
        """Read one flag word up to a blank; True when it is a bare `--` (the flags end)."""
        data = self.data
        n = len(data)
        word = bytearray()
        blank_ok = False
        quote = 0
        while self.pos < n:
            ch = data[self.pos]
            if not quote and is_go_space(chr(ch)):
                if bytes(word) == b"--":
                    return True
                self.pos += 1
                break
            if ch == quote or (not quote and ch in (0x27, 0x22)):
                quote = 0 if quote else ch
                blank_ok = True
                self.pos += 1
                continue
            if ch == 0x5C:
                self.pos += 1
                if self.pos == n:
                    break                  # a trailing backslash is dropped
                ch = data[self.pos]
            word.append(ch)
            self.pos += 1
        if self.pos >= n and bytes(word) == b"--":
            return False                   # `--` alone at the end is no flag
        if blank_ok or word:
            self.words.append(_bytes_to_str(bytes(word)))
        return False


def parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's parseWords: split on blanks, keeping quotes and escapes in the words."""
    return _WordSplitter(rest, escape).split()


class _WordSplitter:
    def __init__(self, text: str, escape: str) -> None:
        self.text = text
        self.escape = escape
        self.pos = 0

    def split(self) -> list[str]:
        words: list[str] = []
        text = self.text
        while self.pos < len(text):
            if text[self.pos] in GO_SPACE_SET:
                self.pos += 1
                continue
            word, blank_ok = self._word()
            if blank_ok or word:
                words.append(word)
        return words

    def _word(self) -> tuple[str, bool]:
        """One word up to a blank outside quotes, quotes and escapes kept; whether it had quotes."""
        text, escape = self.text, self.escape
        n = len(text)
        word: list[str] = []
        blank_ok = False
        quote = ""
        while self.pos < n:
            ch = text[self.pos]
            if not quote and ch in GO_SPACE_SET:
                self.pos += 1
                break
            if not quote and ch in ("'", '"'):
                quote = ch
                blank_ok = True
            elif quote and ch == quote:
                quote = ""
            if ch == escape and quote != "'":
                if self.pos + 1 == n:
                    self.pos += 1          # a trailing escape is dropped
                    break
                word.append(ch)
                self.pos += 1
                ch = text[self.pos]
            word.append(ch)
            self.pos += 1
        return "".join(word), blank_ok


# ---------------------------------------------------------------------------------------------
# JSON arrays


def _reject_constant(name: str) -> None:
    raise ValueError(name)  # NaN/Infinity are not JSON to Go


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json_array(rest: str) -> list[str] | None:
    """The strings of a JSON array form, or None when the text is not a JSON array.

    Like Go's json.Decoder, only the first JSON value is read; trailing text is ignored.
    Raises RuleError for a JSON array that holds anything but strings."""
    rest = lstrip_go(rest)
    if not rest.startswith("["):
        return None
    try:
        value, _end = _DECODER.raw_decode(rest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise RuleError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


# ---------------------------------------------------------------------------------------------
# what an instruction's arguments mean


@dataclass(frozen=True, slots=True)
class Parsed:
    """BuildKit's reading of one logical line."""

    keyword: str                 # as written
    flags: tuple[str, ...]       # e.g. ('--mount=type=cache,target=/x',), quotes removed
    args: str                    # the text after the flags, trimmed
    values: tuple[str, ...]      # the node chain after the keyword (JSON items, words, k/v ...)
    json: bool
    sub: Parsed | None = None  # ONBUILD's instruction
    separators: tuple[str, ...] = ()  # ENV/LABEL: '=' or '' (legacy) for each pair


def parse_line(line: str, escape: str) -> Parsed:
    keyword, rest = split_command(line)
    flags, rest = extract_flags(rest)
    args = trim_go(rest)
    kw = keyword.lower()
    if kw == "onbuild":
        return Parsed(keyword, tuple(flags), args, (), False, parse_line(args, escape) if args else None)
    reader = _READERS.get(kw)
    if reader is None:
        # BuildKit keeps an empty node for what it does not know
        return Parsed(keyword, tuple(flags), args, ("",), False)
    values, is_json, seps = reader(args, escape)
    return Parsed(keyword, tuple(flags), args, values, is_json, None, seps)


_Values = tuple[tuple[str, ...], bool, tuple[str, ...]]   # values, JSON form, ENV/LABEL separators


def _command(args: str, escape: str) -> _Values:
    """RUN, CMD, ENTRYPOINT, SHELL: a JSON array, else the text as one value."""
    if not args:
        return (), False, ()
    arr = parse_json_array(args)
    return ((args,), False, ()) if arr is None else (tuple(arr), True, ())


def _json_or_words(args: str, escape: str) -> _Values:
    """ADD, COPY, VOLUME: a JSON array, else the blank-separated words."""
    arr = parse_json_array(args)
    return (tuple(_split_blanks(args)), False, ()) if arr is None else (tuple(arr), True, ())


def _words(args: str, escape: str) -> _Values:
    return tuple(_split_blanks(args)), False, ()


def _string(args: str, escape: str) -> _Values:
    return ((args,) if args else ()), False, ()


def _arg(args: str, escape: str) -> _Values:
    return tuple(parse_words(args, escape)), False, ()


def _name_values(args: str, escape: str, key: str) -> _Values:
    values, seps = _parse_name_val(args, key, escape)
    return values, False, seps


def _health(args: str, escape: str) -> _Values:
    values, is_json = _parse_health(args, escape)
    return values, is_json, ()


_READERS: dict[str, Callable[[str, str], _Values]] = {
    **dict.fromkeys(("run", "cmd", "entrypoint", "shell"), _command),
    **dict.fromkeys(("add", "copy", "volume"), _json_or_words),
    **dict.fromkeys(("expose", "from"), _words),
    **dict.fromkeys(("maintainer", "stopsignal", "user", "workdir"), _string),
    "arg": _arg,
    "env": lambda args, escape: _name_values(args, escape, "ENV"),
    "label": lambda args, escape: _name_values(args, escape, "LABEL"),
    "healthcheck": _health,
}


def _split_blanks(args: str) -> list[str]:
    return _RE_WHITESPACE.split(args) if args else []


def _parse_name_val(args: str, key: str, escape: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words = parse_words(args, escape)
    if not words:
        return (), ()
    if "=" not in words[0]:
        parts = _RE_WHITESPACE.split(args, maxsplit=1)
        if len(parts) < 2:
            raise RuleError(f"{key} must have two arguments")
        return (parts[0], parts[1]), ("",)
    values: list[str] = []
    for word in words:
        if "=" not in word:
            raise RuleError(f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value")
        k, v = word.split("=", 1)
        values += (k, v)
    return tuple(values), ("=",) * len(words)


def _parse_health(args: str, escape: str) -> tuple[tuple[str, ...], bool]:
    sep = 0
    while sep < len(args) and args[sep] not in GO_SPACE_SET:
        sep += 1
    if sep == 0:
        return (), False
    nxt = sep
    while nxt < len(args) and args[nxt] in GO_SPACE_SET:
        nxt += 1
    typ, cmd = args[:sep], args[nxt:]
    if not cmd:
        return (typ,), False
    arr = parse_json_array(cmd)
    if arr is None:
        return (typ, cmd), False
    return (typ, *arr), True


def can_contain_heredoc(parsed: Parsed) -> bool:
    """A RUN, COPY or ADD in shell form (also under ONBUILD): its line may open heredocs."""
    p = parsed.sub if (parsed.keyword.lower() == "onbuild" and parsed.sub is not None) else parsed
    return p.keyword.lower() in HEREDOC_INSTRUCTIONS and not p.json


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a",
               "\b": "\\b", "\f": "\\f", "\v": "\\v"}


def go_quote(s: str) -> str:
    """Go's %q of a string (strconv.Quote), enough for messages and AST dumps."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\ufffd")  # Go holds no surrogates: invalid UTF-8 reads as U+FFFD
        elif not ch.isprintable() and o >= 0x80:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


"""How BuildKit reads an instruction line: keyword, flags, words, JSON arrays, heredoc markers.

Everything here follows the behaviour of BuildKit's Dockerfile parser (directives, continuation,
comment lines, flag extraction, word splitting, JSON arrays, heredoc detection), so that dockopt
sees each file exactly as `docker build` does. The code is written for this project; the rules it
implements are BuildKit's.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Go's unicode.IsSpace (Python's str.isspace also accepts \x1c-\x1f, which Go does not).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
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


_CONTINUATION = {}


def continuation_regex(escape: str) -> re.Pattern:
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
    data = rest.encode("utf-8", "surrogateescape")
    words: list[str] = []
    word = bytearray()
    phase = 0  # 0 spaces, 1 word, 2 quote
    quote = 0
    blank_ok = False
    n = len(data)
    pos = 0
    while pos <= n:
        ch = data[pos] if pos < n else 0
        if phase == 0:
            if pos == n:
                break
            if is_go_space(chr(ch)):
                pos += 1
                continue
            if ch != 0x2D or pos + 1 == n or data[pos + 1] != 0x2D:
                return words, _bytes_to_str(data[pos:])
            phase = 1
        if phase in (1, 2) and pos == n:
            if bytes(word) != b"--" and (blank_ok or word):
                words.append(_bytes_to_str(bytes(word)))
            break
        if phase == 1:
            if is_go_space(chr(ch)):
                phase = 0
                if bytes(word) == b"--":
                    return words, _bytes_to_str(data[pos:])
                if blank_ok or word:
                    words.append(_bytes_to_str(bytes(word)))
                word = bytearray()
                blank_ok = False
                pos += 1
                continue
            if ch in (0x27, 0x22):
                quote = ch
                blank_ok = True
                phase = 2
                pos += 1
                continue
            if ch == 0x5C:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = data[pos]
            word.append(ch)
            pos += 1
            continue
        # phase == 2: inside quotes
        if ch == quote:
            phase = 1
            pos += 1
            continue
        if ch == 0x5C:
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            ch = data[pos]
        word.append(ch)
        pos += 1
    return words, ""


def _bytes_to_str(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's parseWords: split on blanks, keeping quotes and escapes in the words."""
    words: list[str] = []
    word: list[str] = []
    phase = 0
    quote = ""
    blank_ok = False
    n = len(rest)
    pos = 0
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == 0:
            if pos == n:
                break
            if ch in GO_SPACE_SET:
                pos += 1
                continue
            phase = 1
        if pos == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == 1:
            if ch in GO_SPACE_SET:
                phase = 0
                if blank_ok or word:
                    words.append("".join(word))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch == "'" or ch == '"':
                quote = ch
                blank_ok = True
                phase = 2
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # in quotes
        if ch == quote:
            phase = 1
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


# ---------------------------------------------------------------------------------------------
# JSON arrays


def _reject_constant(name: str):
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
    values: tuple[str, ...] = ()
    is_json = False
    sub = None
    seps: tuple[str, ...] = ()
    if kw in ("run", "cmd", "entrypoint", "shell"):
        if args:
            arr = parse_json_array(args)
            if arr is None:
                values = (args,)
            else:
                values, is_json = tuple(arr), True
    elif kw in ("add", "copy", "volume"):
        arr = parse_json_array(args)
        if arr is None:
            values = tuple(_split_blanks(args))
        else:
            values, is_json = tuple(arr), True
    elif kw in ("expose", "from"):
        values = tuple(_split_blanks(args))
    elif kw in ("maintainer", "stopsignal", "user", "workdir"):
        values = (args,) if args else ()
    elif kw == "arg":
        values = tuple(parse_words(args, escape))
    elif kw in ("env", "label"):
        values, seps = _parse_name_val(args, kw.upper(), escape)
    elif kw == "healthcheck":
        values, is_json = _parse_health(args, escape)
    elif kw == "onbuild":
        if args:
            sub = parse_line(args, escape)
    else:
        values = ("",)  # BuildKit keeps an empty node for what it does not know
    return Parsed(keyword, tuple(flags), args, values, is_json, sub, seps)


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


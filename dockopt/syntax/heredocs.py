"""The heredocs an instruction line opens, found the way BuildKit finds them: the line split into
shell words (quotes and escapes as BuildKit's shell lexer reads them, no variables expanded) and
every `<<WORD` among them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .arguments import GO_SPACE_SET, RE_HEREDOC, RuleError

__all__ = ["HeredocMarker", "heredoc_markers"]


@dataclass(frozen=True, slots=True)
class HeredocMarker:
    name: str
    chomp: bool        # <<- strips leading tabs
    expand: bool       # unquoted: variables in the body are expanded
    fd: int


def heredoc_markers(line: str) -> list[HeredocMarker]:
    """The heredocs a RUN/COPY/ADD line opens, in order (BuildKit's heredocsFromLine)."""
    if "<<" not in line:
        return []
    try:
        words = _shell_words(line, raw_quotes=True, raw_escapes=True)
    except RuleError:
        return []  # BuildKit ignores a line it cannot split: no heredocs
    out = []
    for word in words:
        m = RE_HEREDOC.match(word)
        if not m:
            continue
        marker = _heredoc_from_match(m)
        if marker is not None:
            out.append(marker)
    return out


def _heredoc_from_match(m: re.Match[str]) -> HeredocMarker | None:
    fd = int(m.group(1)) if m.group(1) else 0
    chomp = m.group(2) == "-"
    rest = m.group(3)
    if not rest:
        return None
    words = _shell_words(rest, raw_quotes=False, raw_escapes=False)  # errors propagate
    if len(words) != 1:
        return None
    raw = _shell_words(rest, raw_quotes=True, raw_escapes=False)
    if len(raw) != len(words):
        raise RuleError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    word, word_raw = words[0], raw[0]
    expand = (word.count("'") + word.count('"')) == (word_raw.count("'") + word_raw.count('"'))
    return HeredocMarker(word, chomp, expand, fd)


class _Words:
    __slots__ = ("in_word", "word", "words")

    def __init__(self) -> None:
        self.word: list[str] = []
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in GO_SPACE_SET:
            if self.in_word and self.word:
                self.words.append("".join(self.word))
                self.word = []
                self.in_word = False
        else:
            self.word.append(ch)
            self.in_word = True

    def add_raw(self, s: str) -> None:
        self.word.append(s)
        self.in_word = True

    def finish(self) -> list[str]:
        if self.word and "".join(self.word):
            self.words.append("".join(self.word))
            self.word = []
            self.in_word = False
        return self.words


class _ShellLexer:
    """BuildKit's shell word splitter as used for heredoc detection: no environment, unset
    variables kept as written."""

    def __init__(self, text: str, raw_quotes: bool, raw_escapes: bool):
        self.s = text
        self.i = 0
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        if self.i < len(self.s):
            ch = self.s[self.i]
            self.i += 1
            return ch
        return ""

    def stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            return self._stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _stop_on(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while self.peek() != "":
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                return "".join(result), words.finish()
            if ch in ("$", "'", '"'):
                tmp = self.dollar() if ch == "$" else self.single_quote() if ch == "'" else self.double_quote()
                result.append(tmp)
                if ch == "$":
                    for c in tmp:
                        words.add_char(c)
                else:
                    words.add_raw(tmp)
            elif not self._plain(result, words):
                break
        if stop:
            raise RuleError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def _plain(self, result: list[str], words: _Words) -> bool:
        """A character outside quotes (a backslash escapes the next one); False at the end."""
        ch = self.next()
        if ch == "\\":
            if self.raw_escapes:
                words.add_raw(ch)
                result.append(ch)
            ch = self.next()
            if ch == "":
                return False
            words.add_raw(ch)
        else:
            words.add_char(ch)
        result.append(ch)
        return True

    def _open(self) -> list[str]:
        """Step over an opening quote (kept when quotes stay raw)."""
        ch = self.next()
        return [ch] if self.raw_quotes else []

    def single_quote(self) -> str:
        out = self._open()
        while True:
            ch = self.next()
            if ch == "":
                raise RuleError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        out = self._open()
        while True:
            p = self.peek()
            if p == "":
                raise RuleError("unexpected end of statement while looking for matching double-quote")
            if p == '"':
                ch = self.next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if p == "$":
                out.append(self.dollar())
                continue
            out.append(self._double_quoted_char())

    def _double_quoted_char(self) -> str:
        """One character inside double quotes: a backslash escapes only `"`, `$` and itself."""
        ch = self.next()
        if ch != "\\":
            return ch
        q = self.peek()
        kept = ch if self.raw_escapes else ""
        if q in ('"', "$", "\\") and q != "":
            return kept + self.next()
        return kept + ch if self.raw_escapes else ch

    def name(self) -> str:
        out: list[str] = []
        while self.peek() != "":
            ch = self.peek()
            if not out and ch.isdigit():
                while self.peek() != "" and self.peek().isdigit():
                    out.append(self.next())
                return "".join(out)
            if not out and ch in "@*#?-$!0":
                return self.next()
            if not (ch.isalpha() or ch.isdigit() or ch == "_"):
                break
            out.append(self.next())
        return "".join(out)

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            return "$" + name if name else "$"
        self.next()
        p = self.peek()
        if p == "":
            raise RuleError("syntax error: missing '}'")
        if p in "{}:":
            raise RuleError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        chs = ch
        if ch == "}":
            return "${" + name + "}"
        if ch == ":":
            ch = self.next()
            chs += ch
        if chs.startswith(":") or (ch and ch in "+-?#%"):
            word = self._until("}", ch in "#%", "syntax error: missing '}'")
            return "${" + name + chs + word + "}"
        if ch == "/" and chs == "/":
            if self.peek() == "/":
                self.next()
            pattern = self._until("/", True, "syntax error: missing '/' in ${}")
            repl = self._until("}", True, "syntax error: missing '}'")
            return "${" + name + "/" + pattern + "/" + repl + "}"
        raise RuleError(f"unsupported modifier ({chs}) in substitution")

    def _until(self, stop: str, raw_escapes: bool, missing: str) -> str:
        """The text up to `stop`; `missing` when the text ends first."""
        try:
            return self.stop_on(stop, raw_escapes)[0]
        except RuleError:
            if self.peek() == "":
                raise RuleError(missing) from None
            raise


def _shell_words(text: str, raw_quotes: bool, raw_escapes: bool) -> list[str]:
    lexer = _ShellLexer(text, raw_quotes, raw_escapes)
    return lexer.stop_on("", raw_escapes)[1]

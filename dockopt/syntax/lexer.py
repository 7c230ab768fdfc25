"""The line lexer that feeds the grammar: sorts physical lines into kinds as BuildKit reads them.

Whether a line is a directive, a comment, the start of an instruction, a continuation line or a
heredoc body depends on state no context-free lexer has: the escape character a `# escape=`
directive chose, whether the previous line ended in it, and the delimiters a heredoc opened. This
module keeps that state while walking the lines once, checks each logical line with BuildKit's
rules (so what BuildKit rejects is rejected here, with its location) and hands Lark one token per
physical line.
"""
from __future__ import annotations

from collections.abc import Iterator

from lark import Token

from . import arguments, heredocs
from . import nodes as n
from .errors import ParseError


class LineToken(Token):
    """A Lark token for a run of whole lines; it carries the lines with their kinds and, for an
    instruction, BuildKit's reading of it."""

    __slots__ = ("info", "lines")
    lines: list[n.Line]
    info: object


def _token(kind: str, lines: list[n.Line], info: object = None) -> LineToken:
    first = lines[0]
    # the value is only shown in Lark's messages; the lines hold the text
    tok = LineToken(kind, kind, start_pos=first.start, line=first.number, column=1)
    tok.lines = lines
    tok.info = info
    return tok


class InstructionInfo:
    __slots__ = ("escape", "logical", "markers", "parsed", "pieces")

    def __init__(self, parsed: arguments.Parsed, logical: str, pieces: tuple[tuple[int, int], ...],
                 markers: tuple[heredocs.HeredocMarker, ...], escape: str) -> None:
        self.parsed = parsed
        self.logical = logical
        self.pieces = pieces
        self.markers = markers
        self.escape = escape


def split_lines(text: str, offset: int) -> list[tuple[str, int]]:
    """Physical lines as BuildKit's scanner sees them: split after each LF only (a lone CR is
    not a line break), newline kept; (line text, file offset)."""
    out = []
    pos = offset
    parts = text.split("\n")
    last = parts.pop()
    for part in parts:
        line = part + "\n"
        out.append((line, pos))
        pos += len(line)
    if last:
        out.append((last, pos))
    return out


class _Reader:
    """The lines of one file, read once from the top, and what the directives set."""

    def __init__(self, text: str, offset: int) -> None:
        self.lines = split_lines(text, offset)
        self.i = 0
        self.escape = "\\"
        self.continuation = arguments.continuation_regex(self.escape)
        self.directives_done = False
        self.seen: set[str] = set()

    @property
    def done(self) -> bool:
        return self.i >= len(self.lines)

    def next(self) -> tuple[str, int, int]:
        """(line text, file offset, 1-based line number) of the next line."""
        raw, start = self.lines[self.i]
        self.i += 1
        return raw, start, self.i

    def directive(self, raw: str, start: int, number: int, body: str) -> LineToken | None:
        """The directive token of a line, None when the line ends the directives."""
        m = arguments.RE_DIRECTIVE.match(body)
        name = m.group(1).lower() if m else None
        if m is None or name not in arguments.KNOWN_DIRECTIVES:
            self.directives_done = True
            return None
        if name in self.seen:
            raise ParseError(f"only one {name} parser directive can be used", number, 1)
        self.seen.add(name)
        if name == "escape":
            value = m.group(2)
            if value not in ("\\", "`"):
                raise ParseError(f"invalid escape token '{value}' does not match ` or \\", number, 1)
            self.escape = value
            self.continuation = arguments.continuation_regex(value)
        return _token("DIRECTIVE", [n.Line(n.DIRECTIVE, raw, start, number)], (name, m.group(2)))

    def instruction(self, raw: str, start: int, number: int, content: str, body: str
                    ) -> tuple[LineToken, tuple[heredocs.HeredocMarker, ...]]:
        """An instruction: its first line, then continuation lines while the escape char ends one."""
        indent = len(content) - len(body)
        m = self.continuation.search(body)
        length = m.start() if m else len(body)
        toks = [n.Line(n.INSTR_OPEN if m else n.INSTR, raw, start, number)]
        pieces = [(start + indent, start + indent + length)]
        logical = [body[:length]]
        if m:
            self.continuation_lines(toks, pieces, logical)
        line = "".join(logical)
        try:
            parsed = arguments.parse_line(line, self.escape)
            markers = heredocs.heredoc_markers(line) if arguments.can_contain_heredoc(parsed) else []
        except arguments.RuleError as exc:
            raise ParseError(str(exc), number, 1) from None
        info = InstructionInfo(parsed, line, tuple(pieces), tuple(markers), self.escape)
        return _token("INSTRUCTION", toks, info), tuple(markers)

    def continuation_lines(self, toks: list[n.Line], pieces: list[tuple[int, int]], logical: list[str]) -> None:
        while not self.done:
            raw, start, number = self.next()
            content = raw.rstrip("\r\n")
            stripped = arguments.lstrip_go(content)
            if stripped.startswith("#"):
                toks.append(n.Line(n.CONT_COMMENT, raw, start, number))
                continue
            if not stripped:
                toks.append(n.Line(n.CONT_BLANK, raw, start, number))
                continue
            m = self.continuation.search(content)
            length = m.start() if m else len(content)
            toks.append(n.Line(n.CONT if m else n.CONT_LAST, raw, start, number))
            pieces.append((start, start + length))
            logical.append(content[:length])
            if not m:
                return

    def heredoc_body(self, marker: heredocs.HeredocMarker, first_number: int) -> LineToken:
        """The lines of one heredoc, up to its terminator."""
        body_lines: list[n.Line] = []
        while True:
            if self.done:
                raise ParseError("unterminated heredoc", first_number, 1)
            raw, start, number = self.next()
            candidate = raw.rstrip("\r\n")
            if marker.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == marker.name:
                body_lines.append(n.Line(n.HEREDOC_END, raw, start, number))
                return _token("HEREDOC", body_lines, marker)
            body_lines.append(n.Line(n.HEREDOC_LINE, raw, start, number))


def lex(text: str, offset: int = 0) -> Iterator[LineToken]:
    """Tokens for `text` (the file without its BOM, which starts at file offset `offset`)."""
    reader = _Reader(text, offset)
    saw_instruction = False
    trivia: list[n.Line] = []
    while not reader.done:
        raw, start, number = reader.next()
        content = raw.rstrip("\r\n")
        body = arguments.lstrip_go(content)
        if not reader.directives_done:
            directive = reader.directive(raw, start, number, body)
            if directive is not None:
                yield directive
                continue
        if not body or body[0] == "#":
            trivia.append(n.Line(n.COMMENT if body else n.BLANK, raw, start, number))
            continue
        if trivia:
            yield _token("TRIVIA", trivia)
            trivia = []
        saw_instruction = True
        token, markers = reader.instruction(raw, start, number, content, body)
        yield token
        # heredoc bodies follow the instruction, one after the other
        for marker in markers:
            yield reader.heredoc_body(marker, number)
    if trivia:
        yield _token("TRIVIA", trivia)
    if not saw_instruction:
        raise ParseError("file with no instructions", max(len(reader.lines), 1), 1)

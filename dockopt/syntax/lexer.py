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


def _token(kind: str, lines: list, info=None) -> LineToken:
    first = lines[0]
    # the value is only shown in Lark's messages; the lines hold the text
    tok = LineToken(kind, kind, start_pos=first.start, line=first.number, column=1)
    tok.lines = lines
    tok.info = info
    return tok


class InstructionInfo:
    __slots__ = ("escape", "logical", "markers", "parsed", "pieces")

    def __init__(self, parsed, logical, pieces, markers, escape):
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


def lex(text: str, offset: int = 0) -> Iterator[LineToken]:
    """Tokens for `text` (the file without its BOM, which starts at file offset `offset`)."""
    lines = split_lines(text, offset)
    escape = "\\"
    continuation = arguments.continuation_regex(escape)
    directives_done = False
    seen: set[str] = set()
    count = len(lines)
    i = 0
    saw_instruction = False
    trivia: list[n.Line] = []
    Line = n.Line
    while i < count:
        raw, start = lines[i]
        number = i + 1
        i += 1
        content = raw.rstrip("\r\n")
        body = arguments.lstrip_go(content)
        if not directives_done:
            m = arguments.RE_DIRECTIVE.match(body)
            name = m.group(1).lower() if m else None
            if name in arguments.KNOWN_DIRECTIVES:
                if name in seen:
                    raise ParseError(f"only one {name} parser directive can be used", number, 1)
                seen.add(name)
                if name == "escape":
                    value = m.group(2)
                    if value not in ("\\", "`"):
                        raise ParseError(f"invalid escape token '{value}' does not match ` or \\", number, 1)
                    escape = value
                    continuation = arguments.continuation_regex(escape)
                yield _token("DIRECTIVE", [Line(n.DIRECTIVE, raw, start, number)], (name, m.group(2)))
                continue
            directives_done = True
        if not body:
            trivia.append(Line(n.BLANK, raw, start, number))
            continue
        if body[0] == "#":
            trivia.append(Line(n.COMMENT, raw, start, number))
            continue
        if trivia:
            yield _token("TRIVIA", trivia)
            trivia = []

        # an instruction: its first line, then continuation lines while the escape char ends one
        saw_instruction = True
        indent = len(content) - len(body)
        m = continuation.search(body)
        toks: list[n.Line] = []
        pieces: list[tuple[int, int]] = []
        if m:
            piece_len = m.start()
            pieces.append((start + indent, start + indent + piece_len))
            logical = [body[:piece_len]]
            ended = False
            toks.append(Line(n.INSTR_OPEN, raw, start, number))
        else:
            pieces.append((start + indent, start + indent + len(body)))
            logical = [body]
            ended = True
            toks.append(Line(n.INSTR, raw, start, number))
        first_number = number
        while not ended and i < count:
            raw, start = lines[i]
            number = i + 1
            i += 1
            content = raw.rstrip("\r\n")
            stripped = arguments.lstrip_go(content)
            if stripped.startswith("#"):
                toks.append(Line(n.CONT_COMMENT, raw, start, number))
                continue
            if not stripped:
                toks.append(Line(n.CONT_BLANK, raw, start, number))
                continue
            m = continuation.search(content)
            if m:
                piece_len = m.start()
                toks.append(Line(n.CONT, raw, start, number))
            else:
                piece_len = len(content)
                ended = True
                toks.append(Line(n.CONT_LAST, raw, start, number))
            pieces.append((start, start + piece_len))
            logical.append(content[:piece_len])
        line = "".join(logical)
        try:
            parsed = arguments.parse_line(line, escape)
            markers = heredocs.heredoc_markers(line) if arguments.can_contain_heredoc(parsed) else []
        except arguments.RuleError as exc:
            raise ParseError(str(exc), first_number, 1) from None
        yield _token("INSTRUCTION", toks, InstructionInfo(parsed, line, tuple(pieces), tuple(markers), escape))

        # heredoc bodies follow the instruction, one after the other
        for marker in markers:
            name = marker.name
            body_lines: list[n.Line] = []
            while True:
                if i >= count:
                    raise ParseError("unterminated heredoc", first_number, 1)
                raw, start = lines[i]
                number = i + 1
                i += 1
                candidate = raw.rstrip("\r\n")
                if marker.chomp:
                    candidate = candidate.lstrip("\t")
                if candidate == name:
                    body_lines.append(Line(n.HEREDOC_END, raw, start, number))
                    break
                body_lines.append(Line(n.HEREDOC_LINE, raw, start, number))
            yield _token("HEREDOC", body_lines, marker)

    if trivia:
        yield _token("TRIVIA", trivia)
    if not saw_instruction:
        raise ParseError("file with no instructions", max(count, 1), 1)

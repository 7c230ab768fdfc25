"""`parse(text) -> Dockerfile`: the line lexer feeding the LALR grammar, and the tree builder."""
from __future__ import annotations

import functools
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from lark import Lark, Transformer
from lark.exceptions import LarkError
from lark.lexer import Lexer

from . import nodes as n
from .errors import ParseError
from .heredocs import HeredocMarker
from .lexer import InstructionInfo, LineToken, lex

# what the grammar's rules hand the builder: an instruction with its heredocs, or a line token
_Item = tuple[tuple[n.Line, ...], InstructionInfo, tuple[n.Heredoc, ...]] | LineToken
_Parts = tuple[list[n.Line], tuple[n.Instruction, ...], tuple[n.Line, ...], tuple[n.Directive, ...]]

BOM = "\ufeff"


def grammar_text() -> str:
    """The grammar shipped in the wheel (dockopt/grammar/), or the repository's grammar/."""
    # a plain path, not importlib.resources: the package is installed as files, and the import
    # of importlib.resources costs a single-file run more than reading the grammar does
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "grammar" / "dockerfile.lark", here.parent / "grammar" / "dockerfile.lark"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(f"dockerfile.lark is neither in {here / 'grammar'} nor in {here.parent / 'grammar'}")


class _Lines:
    """What the Lark front end is handed: the file without BOM, and where it starts."""

    __slots__ = ("offset", "text")

    def __init__(self, text: str, offset: int):
        self.text = text
        self.offset = offset


class LineLexer(Lexer):
    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, data: _Lines, *_args: Any) -> Iterator[LineToken]:  # type: ignore[override]
        return lex(data.text, data.offset)


class _Builder(Transformer[LineToken, _Parts]):
    """Turns the parse into immutable nodes; runs inline with the LALR parser (no parse tree)."""

    @staticmethod
    def _append(children: list[Any]) -> list[Any]:
        if not children:
            return []
        items, item = children
        items.append(item)
        return cast("list[Any]", items)

    directives = body = heredocs = _append

    def start(self, children: list[list[_Item]]) -> _Parts:
        items = children[0] + children[1]
        header: list[n.Line] = []
        directives: list[n.Directive] = []
        instructions: list[n.Instruction] = []
        pending: tuple[n.Line, ...] = ()
        for item in items:
            if isinstance(item, tuple):
                lines, info, heredocs = item
                instructions.append(n.Instruction(
                    leading=pending, lines=lines, escape=info.escape, parsed=info.parsed,
                    logical=info.logical, pieces=info.pieces, heredocs=heredocs,
                ))
                pending = ()
            elif item.type == "TRIVIA":
                pending = tuple(item.lines)
            else:  # DIRECTIVE
                line = item.lines[0]
                header.append(line)
                name, value = cast("tuple[str, str]", item.info)
                directives.append(n.Directive(name, value, line))
        return header, tuple(instructions), pending, tuple(directives)

    def instruction(self, children: list[Any]) -> tuple[tuple[n.Line, ...], InstructionInfo, tuple[n.Heredoc, ...]]:
        head: LineToken = children[0]
        info = cast(InstructionInfo, head.info)
        lines = list(head.lines)
        heredocs = []
        for tok in children[1]:
            marker, group = cast(HeredocMarker, tok.info), tok.lines
            body_lines, end = group[:-1], group[-1]
            body = "".join(ln.text for ln in body_lines)
            body_start = body_lines[0].start if body_lines else end.start
            heredocs.append(n.Heredoc(marker.name, marker.chomp, marker.expand, marker.fd, body, body_start, end))
            lines += group
        return tuple(lines), info, tuple(heredocs)


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=LineLexer,
        transformer=_Builder(),
        maybe_placeholders=False,
        cache=True,  # the grammar analysis is stored in the temp dir and reused
    )


def warm_up() -> None:
    """Load the grammar's parser now (worker processes forked after this share it)."""
    _lark()


def parse(text: str) -> n.Dockerfile:
    """Parse Dockerfile text. Raises ParseError for what BuildKit's parser rejects."""
    if not isinstance(text, str):
        raise TypeError("parse() takes str; decode bytes with dockopt.io.read_dockerfile")
    bom = BOM if text.startswith(BOM) else ""
    body = text[len(bom):]
    # the tree holds only acyclic objects; without this pause the cyclic collector re-scans the
    # growing heap again and again, which makes big files quadratic
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        header, instructions, footer, directives = cast(_Parts, _lark().parse(_Lines(body, len(bom))))
    except ParseError:
        raise
    except LarkError as exc:  # the line lexer only emits sequences the grammar accepts
        raise ParseError(f"internal parser error: {exc}") from None
    finally:
        if gc_was_enabled:
            gc.enable()
    escape = next((d.value for d in directives if d.name == "escape"), "\\")
    return n.Dockerfile(bom, tuple(header), instructions, footer, escape, directives)

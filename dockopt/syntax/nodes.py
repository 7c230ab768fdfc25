"""The concrete syntax tree: immutable nodes that own their bytes.

A `Dockerfile` is its BOM, its directive lines, its instructions (each owning the comment and
blank lines just above it, LibCST's `leading_lines`) and the trivia after the last instruction.
Printing the lines in order gives back the input exactly. Everything finer (keyword, flags,
arguments, heredoc bodies) is read from the lines on demand.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from . import arguments

# kinds of physical line (the grammar's terminal names)
DIRECTIVE = "DIRECTIVE"
COMMENT = "COMMENT"
BLANK = "BLANK"
INSTR = "INSTR"
INSTR_OPEN = "INSTR_OPEN"
CONT = "CONT"
CONT_COMMENT = "CONT_COMMENT"
CONT_BLANK = "CONT_BLANK"
CONT_LAST = "CONT_LAST"
HEREDOC_LINE = "HEREDOC_LINE"
HEREDOC_END = "HEREDOC_END"


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line, its newline included ("" at the end of a file without one)."""

    kind: str
    text: str
    start: int      # offset of the line in the file text (BOM included)
    number: int     # 1-based, as BuildKit counts lines

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def content(self) -> str:
        """The line without its line ending (BuildKit trims trailing CR and LF)."""
        return self.text.rstrip("\r\n")

    @property
    def newline(self) -> str:
        return self.text[len(self.content):]


@dataclass(frozen=True, slots=True)
class Directive:
    name: str       # lower case: syntax, escape, check
    value: str
    line: Line


@dataclass(frozen=True, slots=True)
class Flag:
    """A `--name=value` flag as BuildKit reads it (quotes and escapes removed)."""

    name: str
    value: str | None   # None for a bare `--link`

    def __str__(self) -> str:
        return f"--{self.name}" if self.value is None else f"--{self.name}={self.value}"

    @classmethod
    def parse(cls, raw: str) -> Flag:
        """`--name=value` (or a bare `--name`) as BuildKit's flag parser reads it."""
        name, eq, value = raw[2:].partition("=")
        return cls(name, value if eq else None)


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    chomp: bool          # <<-: leading tabs are stripped from the body
    expand: bool         # unquoted delimiter: variables in the body are expanded
    fd: int              # 3<<EOF: the file descriptor, 0 when none was given
    body: str            # the raw body lines, newlines included, as BuildKit stores them
    body_start: int      # offset of the body in the file text
    terminator: Line

    @property
    def body_end(self) -> int:
        return self.body_start + len(self.body)

    @property
    def content(self) -> str:
        """The text the heredoc gives the command (tabs stripped for <<-)."""
        if not self.chomp:
            return self.body
        return "".join(part.lstrip("\t") for part in self.body.splitlines(keepends=True))


@dataclass(frozen=True, eq=False)
class Instruction:
    """One instruction: its physical lines plus the trivia lines directly above it."""

    leading: tuple[Line, ...]            # comments and blank lines above, owned by this node
    lines: tuple[Line, ...]              # first line, continuation lines, heredoc lines
    escape: str
    parsed: arguments.Parsed
    logical: str                         # the logical line BuildKit builds from the lines
    pieces: tuple[tuple[int, int], ...]  # file spans that make up `logical`, in order
    heredocs: tuple[Heredoc, ...] = ()

    # -- where it is ------------------------------------------------------------------------
    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def leading_start(self) -> int:
        return self.leading[0].start if self.leading else self.start

    @property
    def start_line(self) -> int:
        return self.lines[0].number

    @property
    def end_line(self) -> int:
        """The last line BuildKit counts for it (heredoc terminators included)."""
        return self.lines[-1].number

    @property
    def column(self) -> int:
        """1-based column of the keyword on the first line."""
        first = self.lines[0]
        return len(first.content) - len(arguments.lstrip_go(first.content)) + 1

    # -- what it says -----------------------------------------------------------------------
    @cached_property
    def keyword(self) -> str:
        """Upper case, as Docker's documentation writes it (`RUN`, `COPY`, ...)."""
        return self.parsed.keyword.upper()

    @cached_property
    def source(self) -> str:
        """The instruction's own bytes (without the leading trivia)."""
        return "".join(line.text for line in self.lines)

    @cached_property
    def full_source(self) -> str:
        return "".join(line.text for line in self.leading) + self.source

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(Flag.parse(raw) for raw in self.parsed.flags)

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    @property
    def is_json(self) -> bool:
        return self.parsed.json

    @property
    def values(self) -> tuple[str, ...]:
        return self.parsed.values

    @cached_property
    def args_offset(self) -> int:
        """Offset in `logical` where the arguments (after keyword and flags) start."""
        logical = self.logical
        body = arguments.lstrip_go(logical)
        pos = len(logical) - len(body)
        pos += len(self.parsed.keyword)
        if self.parsed.args:
            idx = logical.find(self.parsed.args, pos)
            if idx >= 0:
                return idx
        return len(logical)

    @property
    def args(self) -> str:
        """The text after keyword and flags, trimmed (for shell form: the command)."""
        return self.parsed.args

    @property
    def command(self) -> str | None:
        """RUN/CMD/ENTRYPOINT in shell form: the command text; None in exec form."""
        if self.is_json:
            return None
        return self.parsed.args

    @property
    def onbuild(self) -> arguments.Parsed | None:
        """For ONBUILD, the reading of the wrapped instruction."""
        return self.parsed.sub

    @property
    def comments(self) -> tuple[str, ...]:
        """Comment lines attached to it: the ones above and those inside the continuation."""
        out = [ln for ln in self.leading if ln.kind == COMMENT]
        out += [ln for ln in self.lines if ln.kind == CONT_COMMENT]
        return tuple(arguments.lstrip_go(ln.content)[1:].strip() for ln in out)

    def logical_to_offset(self, pos: int) -> int:
        """The file offset of position `pos` of `logical` (a position at the end maps to the
        end of the last piece)."""
        starts = self._piece_logical_starts
        i = bisect.bisect_right(starts, pos) - 1
        if i < 0:
            return self.start
        a, b = self.pieces[i]
        return min(a + (pos - starts[i]), b) if i + 1 < len(starts) else a + (pos - starts[i])

    def logical_span(self, start: int, end: int) -> tuple[int, int]:
        """File span of logical[start:end]; it may cross continuation lines."""
        if end <= start:
            p = self.logical_to_offset(start)
            return p, p
        return self.logical_to_offset(start), self.logical_to_offset(end - 1) + 1

    @cached_property
    def _piece_logical_starts(self) -> list[int]:
        out, pos = [], 0
        for a, b in self.pieces:
            out.append(pos)
            pos += b - a
        return out

    def __repr__(self) -> str:
        return f"<Instruction {self.keyword} lines {self.start_line}-{self.end_line}>"


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    from_: Instruction
    instructions: tuple[Instruction, ...]   # after FROM, up to the next FROM

    @property
    def name(self) -> str | None:
        vals = self.from_.values
        if len(vals) >= 3 and vals[1].lower() == "as":
            return vals[2]
        return None

    @property
    def base(self) -> str:
        return self.from_.values[0] if self.from_.values else ""

    @property
    def platform(self) -> str | None:
        f = self.from_.flag("platform")
        return f.value if f else None


@dataclass(frozen=True, eq=False)
class Dockerfile:
    """A parsed Dockerfile. `to_source()` gives back the input exactly."""

    bom: str
    header: tuple[Line, ...]               # directive lines
    instructions: tuple[Instruction, ...]
    footer: tuple[Line, ...]               # trivia after the last instruction
    escape: str
    directives: tuple[Directive, ...]

    def to_source(self) -> str:
        return self.source

    @cached_property
    def source(self) -> str:
        parts = [self.bom]
        parts += [ln.text for ln in self.header]
        for ins in self.instructions:
            parts += [ln.text for ln in ins.leading]
            parts += [ln.text for ln in ins.lines]
        parts += [ln.text for ln in self.footer]
        return "".join(parts)

    def __str__(self) -> str:
        return self.source

    def directive(self, name: str) -> str | None:
        for d in self.directives:
            if d.name == name:
                return d.value
        return None

    @property
    def syntax(self) -> str | None:
        return self.directive("syntax")

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        out: list[Stage] = []
        current: Instruction | None = None
        body: list[Instruction] = []
        for ins in self.instructions:
            if ins.keyword == "FROM":
                if current is not None:
                    out.append(Stage(len(out), current, tuple(body)))
                current, body = ins, []
            elif current is not None:
                body.append(ins)
        if current is not None:
            out.append(Stage(len(out), current, tuple(body)))
        return tuple(out)

    def stage_of(self, ins: Instruction) -> Stage | None:
        for st in self.stages:
            if st.from_ is ins or any(i is ins for i in st.instructions):
                return st
        return None

    @cached_property
    def lines(self) -> tuple[Line, ...]:
        out = list(self.header)
        for ins in self.instructions:
            out += ins.leading
            out += ins.lines
        out += self.footer
        return tuple(out)

    def walk(self) -> Iterator[Instruction]:
        return iter(self.instructions)

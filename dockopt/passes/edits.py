"""Where things sit in an instruction's text, and the one continuation style fixes write in."""
from __future__ import annotations

import re
from collections import Counter

from ..syntax import Dockerfile, Instruction

__all__ = ["continuation_indent", "flag_span", "keyword_span", "last_operand_span", "leading_and"]

DEFAULT_INDENT = "    "


def keyword_span(ins: Instruction) -> tuple[int, int]:
    start = ins.start + ins.column - 1
    return start, start + len(ins.parsed.keyword)


def flag_span(ins: Instruction, name: str) -> tuple[int, int] | None:
    """File span of the `--name...` flag as written (None when absent or not found)."""
    logical = ins.logical
    kw_end = logical.lower().find(ins.parsed.keyword.lower()) + len(ins.parsed.keyword)
    pattern = re.compile(r"(?<=\s)--" + re.escape(name) + r"(?:=(?:\"[^\"]*\"|'[^']*'|\S)*)?(?=\s|$)", re.I)
    m = pattern.search(logical, kw_end)
    if m is None or m.start() >= ins.args_offset:
        return None
    return ins.logical_span(m.start(), m.end())


def last_operand_span(ins: Instruction) -> tuple[int, int] | None:
    """File span of the destination operand of a shell-form COPY/ADD, when it is a plain word."""
    if ins.is_json or not ins.values:
        return None
    logical = ins.logical.rstrip()
    m = re.search(r"(\S+)$", logical)
    if m is None or m.group(1) != ins.values[-1] or m.start() < ins.args_offset:
        return None
    return ins.logical_span(m.start(1), m.end(1))


def continuation_indent(tree: Dockerfile) -> str:
    """The indentation the file uses most for continuation lines (4 spaces when it has none)."""
    seen: Counter[str] = Counter()
    for ins in tree.instructions:
        for ln in ins.lines:
            if ln.kind in ("CONT", "CONT_LAST"):
                content = ln.content
                ws = content[:len(content) - len(content.lstrip(" \t"))]
                if ws:
                    seen[ws] += 1
    return seen.most_common(1)[0][0] if seen else DEFAULT_INDENT


def leading_and(tree: Dockerfile) -> bool:
    """The file continues its RUNs with `&&` leading the next line (`\\` then `    && b`) more often
    than at the end of the line (`a && \\`): fixes that join commands write it the same way."""
    leading = trailing = 0
    for ins in tree.instructions:
        for ln in ins.lines:
            content = ln.content.strip()
            if ln.kind in ("CONT", "CONT_LAST") and content.startswith("&&"):
                leading += 1
            if ln.kind in ("INSTR_OPEN", "CONT") and content[:-1].rstrip().endswith("&&"):
                trailing += 1
    return leading > trailing

"""BuildKit's own parser (through the `dockerfile` package) as the oracle for dockopt's reading."""
from __future__ import annotations

from typing import Any

import dockerfile

from dockopt.syntax import Dockerfile, arguments


def oracle_view(text: str) -> list[tuple[Any, ...]]:
    """BuildKit's reading, as plain tuples."""
    return [
        (c.cmd, c.sub_cmd, c.json, c.original, c.start_line, c.end_line, tuple(c.flags), tuple(c.value),
         tuple((h.name, h.file_descriptor, h.content) for h in c.heredocs))
        for c in dockerfile.parse_string(text)
    ]


def dockopt_view(tree: Dockerfile) -> list[tuple[Any, ...]]:
    """dockopt's reading in the same shape as `oracle_view`."""
    out: list[tuple[Any, ...]] = []
    for ins in tree.instructions:
        p = ins.parsed
        target = p
        sub_cmd = None
        if p.keyword.lower() == "onbuild" and p.sub is not None:
            target = p.sub
            sub_cmd = p.sub.keyword
        values = target.values
        original = ins.logical
        heredocs: tuple[tuple[Any, ...], ...] = ()
        if sub_cmd is None and ins.heredocs:
            # BuildKit appends the heredoc bodies and delimiters to the node's original text
            original += "\n" + "".join(h.body + h.name + "\n" for h in ins.heredocs)
            heredocs = tuple((h.name, h.fd, h.body) for h in ins.heredocs)
        out.append((
            p.keyword or None, sub_cmd, target.json, original or None, ins.start_line, ins.end_line,
            p.flags, tuple(values), heredocs,
        ))
    return out


__all__ = ["arguments", "dockopt_view", "oracle_view"]


def dump(tree: Dockerfile) -> str:
    """dockopt's tree in the s-expression form of BuildKit's `result` test files."""
    out = []
    for ins in tree.instructions:
        out.append("(" + _dump_node(ins.parsed) + ")\n")
    return "".join(out)


def _dump_node(p: arguments.Parsed) -> str:
    s: str = p.keyword.lower()
    if p.flags:
        s += " [" + " ".join(arguments.go_quote(f) for f in p.flags) + "]"
    if p.sub is not None:
        s += " (" + _dump_node(p.sub) + ")"
    elif p.keyword.lower() in ("env", "label") and p.values:
        for i in range(0, len(p.values), 2):
            sep = p.separators[i // 2]
            s += " " + " ".join(arguments.go_quote(v) for v in (p.values[i], p.values[i + 1], sep))
    else:
        for v in p.values:
            s += " " + arguments.go_quote(v)
    return s.strip()

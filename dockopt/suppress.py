"""Inline suppressions: `# dockopt: ignore=CODE[,CODE]` above an instruction, `# dockopt: ignore-file`."""
from __future__ import annotations

import re

from .syntax import Dockerfile, Instruction

SUPPRESS_LINE = re.compile(r"#\s*dockopt:\s*ignore\s*=\s*([A-Za-z0-9_, ]+)", re.I)
SUPPRESS_FILE = re.compile(r"#\s*dockopt:\s*ignore-file\b", re.I)


def file_suppressed(tree: Dockerfile) -> bool:
    return any(SUPPRESS_FILE.search(line.text) for line in tree.lines
               if line.kind in ("COMMENT", "CONT_COMMENT", "DIRECTIVE"))


def suppressed_codes(ins: Instruction) -> frozenset[str]:
    """Codes silenced by a `# dockopt: ignore=...` comment on the line just above `ins`."""
    if not ins.leading or ins.leading[-1].kind != "COMMENT":
        return frozenset()
    m = SUPPRESS_LINE.search(ins.leading[-1].text)
    if not m:
        return frozenset()
    return frozenset(c.strip().upper() for c in m.group(1).split(",") if c.strip())

"""Run the passes over one Dockerfile, honouring selection and inline suppressions."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding
from .passes import ALL_PASSES
from .passes.base import Context, Pass
from .suppress import file_suppressed, suppressed_codes
from .syntax import Dockerfile


def code_matches(code: str, selectors: Sequence[str]) -> int:
    """Length of the longest selector that is a prefix of `code` (0 when none is)."""
    best = 0
    for sel in selectors:
        sel = sel.strip().upper()
        if sel == "ALL":
            best = max(best, 1)
        elif sel and code.startswith(sel):
            best = max(best, len(sel) + 1)
    return best


def enabled(code: str, select: Sequence[str] | None, ignore: Sequence[str] | None) -> bool:
    """ruff's rule: the most specific selector wins; on a tie, ignore wins."""
    s = code_matches(code, select) if select else 1
    i = code_matches(code, ignore or ())
    return s > 0 and s > i


@dataclass
class Linter:
    passes: Sequence[type[Pass]] = field(default_factory=lambda: list(ALL_PASSES))
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    is_enabled: Callable[[str], bool] | None = None   # overrides select/ignore (config-aware)

    def active(self) -> list[Pass]:
        check = self.is_enabled or (lambda code: enabled(code, self.select, self.ignore))
        return [p() for p in self.passes if check(p.code)]

    def run(self, tree: Dockerfile, path: Path | None = None, context_dir: Path | None = None,
            settings=None, pending_files: dict | None = None) -> list[Finding]:
        if file_suppressed(tree):
            return []
        ctx = Context(tree, path=path, context_dir=context_dir, settings=settings,
                      pending_files=dict(pending_files or {}))
        by_line = {ins.start_line: suppressed_codes(ins) for ins in tree.instructions}
        out: list[Finding] = []
        for p in self.active():
            for f in p.check(ctx):
                if f.code in by_line.get(f.line, ()):
                    continue
                out.append(f)
        out.sort(key=lambda f: (f.line, f.column, f.code))
        return out

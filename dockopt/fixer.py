"""Apply fixes to a fixed point, and refuse any result that is not a valid, stable Dockerfile.

Each round lints the current text, applies the fixes whose spans do not overlap (in file
order; a fix that overlaps an earlier one waits for the next round), and parses the result
again. The loop stops when no applicable fix is left. A result that does not parse, or a loop
that does not settle within MAX_ROUNDS, is an internal error and the input is kept as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding, Fix, Safety
from .lint import Linter
from .syntax import ParseError, parse

MAX_ROUNDS = 12


class FixerError(Exception):
    """The fixes produced something dockopt will not write (a bug in a pass)."""


@dataclass
class FixResult:
    original: str
    text: str
    applied: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)   # after the last round
    unsafe_held_back: int = 0
    files: dict[str, str] = field(default_factory=dict)      # side files to write: path -> text

    @property
    def changed(self) -> bool:
        return self.text != self.original or bool(self.files)


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    if fix is None or not (fix.edits or fix.files):
        return False
    if fix.safety is Safety.SAFE:
        return True
    return unsafe and fix.safety is Safety.UNSAFE


def apply_fixes(text: str, fixes: list[Fix]) -> tuple[str, list[int]]:
    """Apply the non-overlapping fixes (whole fixes only); returns the text and which were used."""
    chosen: list[int] = []
    taken: list[tuple[int, int]] = []
    files_taken: set[str] = set()
    # file order; of fixes starting at one place the widest goes first (a merge of several
    # instructions before the edits inside one of them, which the next round redoes on the merge)
    order = sorted(range(len(fixes)), key=lambda i: (fixes[i].span[0], -fixes[i].span[1]))
    for i in order:
        spans = [(e.start, e.end) for e in fixes[i].edits]
        paths = {w.path for w in fixes[i].files}
        if any(_overlaps(s, t) for s in spans for t in taken) or paths & files_taken:
            continue
        chosen.append(i)
        taken += spans
        files_taken |= paths
    edits = sorted((e for i in chosen for e in fixes[i].edits), key=lambda e: (e.start, e.end))
    out, pos = [], 0
    for e in edits:
        out.append(text[pos:e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out), chosen


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # two insertions at one point conflict too: their order would be arbitrary
    if a[0] == a[1] or b[0] == b[1]:
        return a[0] <= b[1] and b[0] <= a[1]
    return a[0] < b[1] and b[0] < a[1]


def fix_text(text: str, linter: Linter, *, unsafe: bool = False, path: Path | None = None,
             context_dir: Path | None = None, settings=None) -> FixResult:
    result = FixResult(original=text, text=text)
    tree = parse(text)
    for _round in range(MAX_ROUNDS):
        findings = linter.run(tree, path=path, context_dir=context_dir, settings=settings,
                              pending_files=result.files)
        fixable = [f for f in findings if applicable(f.fix, unsafe)]
        if not fixable:
            result.remaining = findings
            result.unsafe_held_back = sum(
                1 for f in findings if f.fix is not None and f.fix.safety is Safety.UNSAFE and not unsafe)
            break
        new_text, used = apply_fixes(tree.source, [f.fix for f in fixable])
        new_files = {w.path: w.text for i in used for w in fixable[i].fix.files}
        if new_text == tree.source and all(result.files.get(k) == v for k, v in new_files.items()):
            raise FixerError(f"fixes of {', '.join(sorted({f.code for f in fixable}))} changed nothing")
        result.files.update(new_files)
        try:
            tree = parse(new_text)
        except ParseError as exc:
            codes = ", ".join(sorted({fixable[i].code for i in used}))
            raise FixerError(f"fixes of {codes} produced an invalid Dockerfile ({exc}); file left unchanged") from None
        result.applied += [fixable[i] for i in used]
        result.text = new_text
    else:
        raise FixerError(f"fixes did not settle after {MAX_ROUNDS} rounds; file left unchanged")
    return result

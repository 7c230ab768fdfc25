"""Apply fixes to a fixed point, and refuse any result that is not a valid, stable Dockerfile.

Each round lints the current text, applies the fixes whose spans do not overlap (in file
order; a fix that overlaps an earlier one waits for the next round), and parses the result
again. The loop stops when no applicable fix is left. A result that does not parse, or a loop
that does not settle within MAX_ROUNDS, is an internal error and the input is kept as it was.

Findings of the second round on are computed on an intermediate rewrite; their positions are
mapped back through the edits of the rounds before, so that every finding a run reports is
located in the user's file: the input, or (for what remains after --write) the written result.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .findings import Edit, FileWrite, Finding, Fix, Safety
from .lint import Linter, check_buildable
from .syntax import Dockerfile, ParseError, parse

MAX_ROUNDS = 12


class FixerError(Exception):
    """The fixes produced something dockopt will not write (a bug in a pass)."""


class PositionMap:
    """Offsets of a rewrite, mapped back to the text the edits were applied to."""

    def __init__(self, edits: Sequence[Edit]):
        # (start in the new text, end of the inserted text in it, the edit)
        self._spans: list[tuple[int, int, Edit]] = []
        delta = 0
        for e in sorted(edits, key=lambda e: (e.start, e.end)):
            start = e.start + delta
            self._spans.append((start, start + len(e.text), e))
            delta += len(e.text) - (e.end - e.start)
        self._starts = [s for s, _, _ in self._spans]

    def back(self, offset: int, *, end: bool = False) -> int:
        """The offset in the old text; one inside replaced text maps to where the replaced
        text began (or ended, for the end of a span)."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return offset
        new_start, new_end, e = self._spans[i]
        if offset < new_end or (offset == new_end and new_start == new_end and end):
            return e.end if end else e.start
        return e.end + (offset - new_end)


class Lines:
    """Line and column <-> offset for one text (lines end at "\\n", as BuildKit counts them)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def offset(self, line: int, column: int = 1) -> int:
        line = min(max(line, 1), len(self.starts))
        return min(self.starts[line - 1] + column - 1, len(self.text))

    def line_end(self, line: int) -> int:
        line = min(max(line, 1), len(self.starts))
        return self.starts[line] - 1 if line < len(self.starts) else len(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


@dataclass
class Round:
    """One round of the loop: the text it linted and the edits it applied to it."""

    text: str
    edits: list[Edit]


@dataclass
class FixResult:
    original: str
    text: str
    # the findings on the input (what a report lists), located in the input
    findings: list[Finding] = field(default_factory=list)
    # the findings whose fixes --write applies, every round's, located in the input
    applied: list[Finding] = field(default_factory=list)
    # what is left after the last round, located in the result
    remaining: list[Finding] = field(default_factory=list)
    # of `findings`: those whose rule's fix is applied at their place (indices)
    planned: set[int] = field(default_factory=set)
    # of `findings`: those the result no longer has (fixed, or made moot by other fixes)
    resolved: set[int] = field(default_factory=set)
    unsafe_held_back: int = 0
    files: dict[str, str] = field(default_factory=dict)      # side files to write: path -> text
    rounds: list[Round] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.original or bool(self.files)


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and fix.applies(unsafe)


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
    edits = _edits_of(fixes, chosen)
    out, pos = [], 0
    for e in edits:
        out.append(text[pos:e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out), chosen


def _edits_of(fixes: list[Fix], chosen: list[int]) -> list[Edit]:
    return sorted((e for i in chosen for e in fixes[i].edits), key=lambda e: (e.start, e.end))


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # two insertions at one point conflict too: their order would be arbitrary
    if a[0] == a[1] or b[0] == b[1]:
        return a[0] <= b[1] and b[0] <= a[1]
    return a[0] < b[1] and b[0] < a[1]


def fix_text(text: str, linter: Linter, *, unsafe: bool = False, path: Path | None = None,
             context_dir: Path | None = None, settings: Any = None, tree: Dockerfile | None = None,
             accept: Callable[[Finding], bool] | None = None) -> FixResult:
    """Fix `text` to a fixed point; `tree` is its parse when the caller has it already.

    `accept`, given a finding located in `text`, says whether its fix may be applied (None: every
    applicable fix is); the verifier uses it to build a rewrite from a chosen set of fixes."""
    result = FixResult(original=text, text=text)
    tree = tree if tree is not None else parse(text)
    for _round in range(MAX_ROUNDS):
        findings = linter.run(tree, path=path, context_dir=context_dir, settings=settings,
                              pending_files=result.files)
        if not result.rounds:
            result.findings = findings
        fixable = [f for f in findings if applicable(f.fix, unsafe)
                   and (accept is None or accept(_relocate(f, result.rounds)))]
        if not fixable:
            result.remaining = findings
            break
        new_text, used = apply_fixes(tree.source, [f.fix for f in fixable if f.fix is not None])
        new_files = {w.path: w.text for i in used for w in _files_of(fixable[i])}
        if new_text == tree.source and all(result.files.get(k) == v for k, v in new_files.items()):
            raise FixerError(f"fixes of {', '.join(sorted({f.code for f in fixable}))} changed nothing")
        result.files.update(new_files)
        try:
            tree = parse(new_text)
            check_buildable(tree)
        except ParseError as exc:
            codes = ", ".join(sorted({fixable[i].code for i in used}))
            raise FixerError(f"fixes of {codes} produced an invalid Dockerfile ({exc}); file left unchanged") from None
        result.rounds.append(Round(result.text, _edits_of([f.fix for f in fixable if f.fix is not None], used)))
        result.applied += [_relocate(fixable[i], result.rounds[:-1], keep_edits=len(result.rounds) == 1)
                           for i in used]
        result.text = new_text
    else:
        raise FixerError(f"fixes did not settle after {MAX_ROUNDS} rounds; file left unchanged")
    _judge(result, unsafe)
    return result


def _files_of(finding: Finding) -> tuple[FileWrite, ...]:
    return finding.fix.files if finding.fix is not None else ()


def _relocate(finding: Finding, rounds: Sequence[Round], *, keep_edits: bool = False) -> Finding:
    """The finding, computed on the text after `rounds`, located in the first round's text.

    Its fix's edits refer to the intermediate text; they are kept only for a finding of the
    first round (keep_edits), since no file on disk holds the text they would apply to."""
    if not rounds:
        return finding
    after = Lines(_text_after(rounds))
    start = after.offset(finding.line, finding.column)
    end = after.line_end(finding.end_line or finding.line)
    for r in reversed(rounds):
        back = PositionMap(r.edits)
        start, end = back.back(start), back.back(end, end=True)
    before = Lines(rounds[0].text)
    line, column = before.position(start)
    end_line = before.position(max(end - 1, start))[0] if finding.end_line is not None else None
    fix = finding.fix
    if fix is not None and not keep_edits:
        fix = replace(fix, edits=())
    return replace(finding, line=line, column=column, end_line=end_line, fix=fix)


def _text_after(rounds: Sequence[Round]) -> str:
    last = rounds[-1]
    out, pos = [], 0
    for e in last.edits:
        out.append(last.text[pos:e.start])
        out.append(e.text)
        pos = e.end
    out.append(last.text[pos:])
    return "".join(out)


def _span(finding: Finding, lines: Lines) -> tuple[int, int]:
    return lines.offset(finding.line, finding.column), lines.line_end(finding.end_line or finding.line)


def _judge(result: FixResult, unsafe: bool) -> None:
    """Which findings on the input --write fixes, and which it resolves."""
    if not result.rounds:
        result.unsafe_held_back = sum(1 for f in result.findings if _held_back(f, unsafe))
        return
    lines = Lines(result.original)
    left = [_relocate(f, result.rounds) for f in result.remaining]
    applied_spans = [(f.code, _span(f, lines)) for f in result.applied]
    left_spans = [(f.code, _span(f, lines)) for f in left]
    for index, finding in enumerate(result.findings):
        start, _end = _span(finding, lines)
        if any(code == finding.code and a <= start <= b for code, (a, b) in applied_spans):
            result.planned.add(index)
        if not any(code == finding.code and a <= start <= b for code, (a, b) in left_spans):
            result.resolved.add(index)
    result.unsafe_held_back = sum(1 for i, f in enumerate(result.findings)
                                  if i not in result.resolved and _held_back(f, unsafe))


def _held_back(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and finding.fix.safety is Safety.UNSAFE and not unsafe

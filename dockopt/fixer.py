"""Apply fixes to a fixed point, and refuse any result that is not a valid, stable Dockerfile.

Each round lints the current text, applies the fixes whose spans do not overlap (in file
order; a fix that overlaps an earlier one waits for the next round), and parses the result
again. The loop stops when no applicable fix is left. A result that does not parse, or a loop
that does not settle within MAX_ROUNDS, is an internal error and the input is kept as it was.

The whole fix set is judged together (DESIGN.md invariant 6): a round whose result makes a
rebuild after a source edit re-run more build steps than the round's input did is redone without
the fixes responsible, and those are reported without a fix, with the reason. Steps are counted
by `facts.rebuild` (`work_steps`: copies between stages left out), for the source files
`facts.source_edits` picks. Fixes that need a build's proof (DO301, DO401) are left to `--verify`.

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

from .facts import FileFacts, source_edits
from .findings import Edit, FileWrite, Finding, Fix, Safety
from .lint import Linter, check_buildable
from .lint import by_code as rule_by_code
from .passes.base import Context
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
    # fixes left out because the rewrite would re-run more steps after a source edit:
    # (code, line, column) in the input -> why
    refused: dict[tuple[str, int, int], str] = field(default_factory=dict)

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


def _refusal(tree: Dockerfile) -> ParseError | None:
    """Why BuildKit refuses the file (None: it does not)."""
    try:
        check_buildable(tree)
    except ParseError as exc:
        return exc
    return None


def fix_text(text: str, linter: Linter, *, unsafe: bool = False, path: Path | None = None,
             context_dir: Path | None = None, settings: Any = None, tree: Dockerfile | None = None,
             accept: Callable[[Finding], bool] | None = None) -> FixResult:
    """Fix `text` to a fixed point; `tree` is its parse when the caller has it already.

    `accept`, given a finding located in `text`, says whether its fix may be applied (None: every
    applicable fix is); the verifier uses it to build a rewrite from a chosen set of fixes."""
    result = FixResult(original=text, text=text)
    tree = tree if tree is not None else parse(text)
    judge = RebuildJudge(path, context_dir, linter, settings)
    facts: FileFacts | None = None  # the facts of `tree` with `result.files`, when the judge has them
    refused = _refusal(tree)   # what BuildKit already refuses in the input is not a fix's doing
    for _round in range(MAX_ROUNDS):
        ctx = facts if isinstance(facts, Context) and facts.tree is tree and facts.pending_files == result.files \
            else linter.context(tree, path, context_dir, settings, result.files)
        findings = linter.run(tree, path=path, context_dir=context_dir, settings=settings,
                              pending_files=result.files, ctx=ctx)
        if not result.rounds:
            result.findings = findings
        fixable = [f for f in findings if applicable(f.fix, unsafe)
                   and (accept is None or accept(_relocate(f, result.rounds)))
                   and _key(_relocate(f, result.rounds)) not in result.refused]
        if not fixable:
            result.remaining = findings
            break
        fixable = _without_superseded(tree, fixable)
        new_text, used, new_files, facts = _apply_judged(tree, fixable, result, judge, ctx)
        if not used:
            continue        # every fix of the round was refused: the next round lints again
        if new_text == tree.source and all(result.files.get(k) == v for k, v in new_files.items()):
            raise FixerError(f"fixes of {', '.join(sorted({f.code for f in fixable}))} changed nothing")
        result.files.update(new_files)
        try:
            tree = facts.tree if facts is not None else parse(new_text)
            problem = _refusal(tree)
            if problem is not None and problem.message != (refused.message if refused else None):
                raise problem
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
    _mark_refused(result)
    return result


class RebuildJudge:
    """What a rebuild after a source edit re-runs, before and after a round's fixes.

    Each round is judged against the text it was applied to, so that no round, and hence no
    rewrite, re-runs more steps than its input. The fixes of rules that need a build's proof
    (`Pass.needs_proof`: a multi-stage split, a non-root user) are applied only by `--verify`,
    which builds both versions and measures the rebuild itself; they are not judged here."""

    def __init__(self, path: Path | None, context_dir: Path | None, linter: Linter | None = None,
                 settings: Any = None):
        self.path = path
        self.context_dir = context_dir
        self.linter = linter
        self.settings = settings

    def facts(self, text: str, files: dict[str, str], tree: Dockerfile | None = None,
              known: FileFacts | None = None) -> FileFacts | None:
        """The facts of `text` with the side files `files`; `known`, the facts of `tree` with
        some files, is answered again when those are the files (its facts are computed once).
        With the linter, they are the rules' context too, which the next round reuses."""
        if tree is None or tree.source != text:
            try:
                tree = parse(text)
            except ParseError:
                return None
        if known is not None and known.tree is tree and known.pending_files == files:
            return known
        if self.linter is not None:
            return self.linter.context(tree, self.path, self.context_dir, self.settings, files)
        return FileFacts(tree, self.path, self.context_dir, dict(files))

    def worse(self, before: FileFacts | None, after: FileFacts | None) -> str | None:
        """Why `after` re-runs more steps than `before` after some source edit (None: it does not)."""
        if before is None or after is None:
            return None
        reads = [r for facts in (before, after) for ins in facts.tree.instructions
                 for r in facts.inputs(ins).context_reads]
        for probe in source_edits(reads, before.files):
            steps_before, steps_after = before.rebuild.work_steps(probe), after.rebuild.work_steps(probe)
            if steps_after > steps_before:
                return (f"with it, an edit of {probe} would re-run {steps_after} build steps instead of "
                        f"{steps_before} (a rewrite must not make a rebuild after a source edit slower)")
        return None


def _exempt(finding: Finding) -> bool:
    return bool(getattr(rule_by_code().get(finding.code), "needs_proof", False))


def _apply_judged(tree: Dockerfile, fixable: list[Finding], result: FixResult, judge: RebuildJudge,
                  known: FileFacts | None = None) -> tuple[str, list[int], dict[str, str], FileFacts | None]:
    """Apply the round's fixes; when the result re-runs more steps after a source edit than the
    round's input (with the fixes that need a build's proof applied), leave out the fixes
    responsible (recorded in `result.refused`) and apply the rest. Also returns the facts of
    the result when the judgement made them (`known`: the facts of `tree` with `result.files`)."""
    while True:
        new_text, used, new_files = _applied(tree, fixable, list(range(len(fixable))))
        exempt = [i for i in used if _exempt(fixable[i])]
        if len(exempt) == len(used):
            return new_text, used, new_files, None
        base = judge.facts(*_with_files(_applied(tree, fixable, exempt), result), tree=tree, known=known)
        after = judge.facts(new_text, {**result.files, **new_files})
        why = judge.worse(base, after)
        if why is None:
            return new_text, used, new_files, after
        culprits = _responsible(tree, fixable, used, exempt, base, result, judge) or \
            [i for i in used if i not in exempt]
        for i in culprits:
            result.refused[_key(_relocate(fixable[i], result.rounds))] = why
        fixable = [f for k, f in enumerate(fixable) if k not in culprits]


def _without_superseded(tree: Dockerfile, fixable: list[Finding]) -> list[Finding]:
    """`fixable` without the findings whose fix another finding's fix on the same instruction
    makes unneeded (`Pass.supersedes`). Should that fix not be applied after all, the next round
    finds them again."""
    rules = rule_by_code()
    starts = [ins.start_line for ins in tree.instructions]

    def instruction(f: Finding) -> int:
        return bisect.bisect_right(starts, f.line) - 1

    covered = {(code, instruction(f)) for f in fixable
               for code in getattr(rules.get(f.code), "supersedes", ())}
    if not covered:
        return fixable
    return [f for f in fixable if (f.code, instruction(f)) not in covered]


def _applied(tree: Dockerfile, fixable: list[Finding], indices: list[int]) -> tuple[str, list[int], dict[str, str]]:
    """The text with the fixes of `fixable[i]` for i in `indices` applied, which of `fixable`
    were used, and the side files they write."""
    fixes: list[Fix] = [f for f in (fixable[i].fix for i in indices) if f is not None]
    text, chosen = apply_fixes(tree.source, fixes)
    used = [indices[k] for k in chosen]
    return text, used, {w.path: w.text for i in used for w in _files_of(fixable[i])}


def _with_files(applied: tuple[str, list[int], dict[str, str]], result: FixResult) -> tuple[str, dict[str, str]]:
    return applied[0], {**result.files, **applied[2]}


def _responsible(tree: Dockerfile, fixable: list[Finding], used: list[int], exempt: list[int],
                 base: FileFacts | None, result: FixResult, judge: RebuildJudge) -> list[int]:
    """The judged fixes that make the rebuild worse on their own; else the one whose removal mends it."""
    judged = [i for i in used if i not in exempt]

    def worse_with(indices: list[int]) -> bool:
        after = judge.facts(*_with_files(_applied(tree, fixable, [*exempt, *indices]), result))
        return judge.worse(base, after) is not None

    alone = [i for i in judged if worse_with([i])]
    if alone:
        return alone
    return next(([i] for i in judged if not worse_with([k for k in judged if k != i])), [])


def _key(finding: Finding) -> tuple[str, int, int]:
    return finding.code, finding.line, finding.column


def _mark_refused(result: FixResult) -> None:
    """The refused fixes are reported without a fix, with the reason. Fixes that need a build's proof (DO301, DO401) are
left to `--verify`."""
    if not result.refused:
        return

    def strip(finding: Finding, located: Finding) -> Finding:
        why = result.refused.get(_key(located))
        if why is None or finding.fix is None:
            return finding
        return replace(finding, fix=None, message=f"{finding.message} (not fixed: {why})")

    result.findings = [strip(f, f) for f in result.findings]
    result.remaining = [strip(f, _relocate(f, result.rounds)) for f in result.remaining]


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

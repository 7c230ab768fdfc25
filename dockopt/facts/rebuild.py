"""What a rebuild re-runs when one file of the build context changes, as BuildKit decides it.

BuildKit keys a `COPY`/`ADD` of the context (and a `RUN --mount=type=bind` of it) on the content
of the files it reads: when a file it reads changes, that step runs again, and so does every
step after it in its stage (their cache keys chain on it), every stage built `FROM` that stage,
and, in a stage that reads an affected stage (`COPY --from`, `RUN --mount=from=`), the step that
reads it and everything after it. A stage the target does not need is not built at all, and a
stage that depends on nothing affected comes from the cache. The model is static: it assumes a
step that runs again produces different files (BuildKit may find a `COPY --from` unchanged and
reuse the steps after it; the model never counts on that), so it gives an upper bound that is
exact for the common case of a source edit.

A *step* is what BuildKit shows as one vertex of the build: `RUN`, `COPY`, `ADD` and `WORKDIR`
(`ENV`, `ARG`, `LABEL`, ... only change the image configuration and `FROM` is the base).

    model = facts.rebuild                 # a RebuildModel, one per FileFacts
    model.reruns("src/app.py")            # the instructions that run again, in file order
    model.steps("src/app.py")             # how many of them are steps
    model.work_steps("src/app.py")        # the same, copies between stages left out
    model.first_reader(stage, "src/app.py")   # the instruction of a stage that reads the path first
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..syntax import Instruction, Stage
from .effects import ContextRead, Effects
from .files import ContextFiles
from .paths import clean, go_match, has_wildcards, is_under
from .stages import StageGraph

__all__ = ["SOURCE_PROBE", "STEP_KEYWORDS", "RebuildModel", "count_steps", "read_matches", "source_edits"]

STEP_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
# without a context at hand: a source file that only a copy of the whole context takes in
SOURCE_PROBE = ".dockopt-source-edit/file"
_PROBES_PER_READ = 200


def read_matches(read: ContextRead, path: str) -> bool:
    """The context read takes in `path` (a context-relative file path): its source is the whole
    context, the path itself, a directory above it, or a pattern naming one of those."""
    source = read.source
    if source in (".", "") or "$" in source:
        return True       # the whole context, or a source only known at build time
    if not has_wildcards(source):
        return is_under(path, clean(source))
    pattern = source.split("/")
    parts = path.split("/")
    if len(parts) < len(pattern):
        return False
    try:
        return all(go_match(p, name) for p, name in zip(pattern, parts[:len(pattern)], strict=True))
    except ValueError:
        return True       # a pattern BuildKit refuses: the build fails anyway; count it as a reader


@dataclass(eq=False)
class RebuildModel:
    """Which instructions re-run after an edit of one context path (see the module docs).

    `effects` answers what an instruction reads (`FileFacts.effects`); `sent` whether BuildKit
    sends a context path at all (an excluded file never invalidates anything); `target` the
    stage built (the last one by default)."""

    graph: StageGraph
    effects: Callable[[Instruction], Effects]
    sent: Callable[[str], bool] = field(default=lambda _path: True)
    target: Stage | None = None
    _memo: dict[str, tuple[Instruction, ...]] = field(default_factory=dict, repr=False)

    # -- which stages are built --------------------------------------------------------------
    def built(self) -> list[Stage]:
        """The stages a build of the target runs, in file order (all of them when a reference is
        only known at build time)."""
        graph = self.graph
        target = self.target or graph.final
        if target is None:
            return []
        if target is graph.final and graph.needed is not None:
            return [st for st in graph.stages if st.index in graph.needed]
        needed = {target.index}
        todo = [target]
        while todo:
            st = todo.pop()
            refs = [graph.parent(st), *graph.copied_from(st)]
            for ref in refs:
                if ref is not None and ref.index not in needed:
                    needed.add(ref.index)
                    todo.append(ref)
        return [st for st in graph.stages if st.index in needed]

    # -- the answer for one path -------------------------------------------------------------
    def reads(self, ins: Instruction, path: str) -> bool:
        """`ins` reads context path `path` (a COPY/ADD of the context whose operands are not
        known counts as reading everything)."""
        eff = self.effects(ins)
        return any(read_matches(r, path) for r in eff.context_reads) or _unknown_context_copy(ins, eff)

    def takes_context(self, ins: Instruction) -> bool:
        """`ins` takes in files of the build context (a rebuild after editing one re-runs it)."""
        eff = self.effects(ins)
        return bool(eff.context_reads) or _unknown_context_copy(ins, eff)

    def reads_context(self, stage: Stage) -> bool:
        """The stage, or a stage it builds on or copies from, takes files from the build context:
        a source edit may change what it holds."""
        seen: set[int] = set()
        todo = [stage]
        while todo:
            st = todo.pop()
            if st.index in seen:
                continue
            seen.add(st.index)
            if any(self.takes_context(ins) for ins in st.instructions):
                return True
            todo.extend(ref for ref in (self.graph.parent(st), *self.graph.copied_from(st)) if ref is not None)
        return False

    def first_reader(self, stage: Stage, path: str) -> Instruction | None:
        """The first instruction of `stage` that reads context path `path` (not its ancestors')."""
        return next((ins for ins in stage.instructions if self.reads(ins, path)), None)

    def reruns(self, path: str) -> tuple[Instruction, ...]:
        """The instructions a rebuild of the target runs again after `path` changed, file order."""
        path = clean(path.lstrip("/"))
        found = self._memo.get(path)
        if found is None:
            found = self._memo[path] = tuple(self._reruns(path)) if self.sent(path) else ()
        return found

    def steps(self, path: str) -> int:
        """How many build steps (RUN, COPY, ADD, WORKDIR) re-run after `path` changed."""
        return count_steps(self.reruns(path))

    def work_steps(self, path: str) -> int:
        """The steps that re-run after `path` changed, copies between stages (`COPY --from`) left
        out: a multi-stage split adds one such copy of a build output, which costs a file copy,
        not a build. What the fixer compares (DESIGN.md invariant 6)."""
        return count_steps(ins for ins in self.reruns(path) if ins.flag("from") is None)

    def _reruns(self, path: str) -> Iterable[Instruction]:
        affected: set[int] = set()
        for stage in self.built():
            start = self._start(stage, path, affected)
            if start is None:
                continue
            affected.add(stage.index)
            yield from stage.instructions[start:]

    def _start(self, stage: Stage, path: str, affected: set[int]) -> int | None:
        """Index of the first instruction of `stage` that runs again (None: the stage is cached)."""
        parent = self.graph.parent(stage)
        if parent is not None and parent.index in affected:
            return 0
        for k, ins in enumerate(stage.instructions):
            if self.reads(ins, path):
                return k
            for value, _source in self.effects(ins).stage_reads:
                ref = self.graph.ref(value, stage.index)
                if (ref is not None and ref.index in affected) or (ref is None and "$" in value and affected):
                    return k      # a stage only known at build time may be an affected one
        return None


def _unknown_context_copy(ins: Instruction, eff: Effects) -> bool:
    """A COPY/ADD of the context whose operands are not known: it may read any context file."""
    return not eff.modelled and ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and not ins.heredocs


def count_steps(instructions: Iterable[Instruction]) -> int:
    """How many of the instructions BuildKit shows as build steps."""
    return sum(1 for ins in instructions if ins.keyword in STEP_KEYWORDS)


def source_edits(reads: Iterable[ContextRead], files: ContextFiles) -> tuple[str, ...]:
    """Context paths that stand for an edit of the project's source, for comparing what two
    versions of a Dockerfile re-run after one (pass the context reads of both).

    A source file is one the Dockerfile takes in only in bulk (the whole context, a directory, a
    pattern), never by name: the files a COPY names one by one are its manifests and
    configuration. With the context at hand, the first such file each bulk read takes in (by
    path order); without it, `SOURCE_PROBE`, which only a copy of the whole context takes in."""
    reads = list(reads)
    if not files.available:
        bulk = any(r.source in (".", "") or "$" in r.source for r in reads)
        return (SOURCE_PROBE,) if bulk else ()
    named = {r.source for r in reads if not has_wildcards(r.source) and files.is_file(r.source)}
    out: dict[str, None] = {}
    for read in reads:
        if read.source in named:
            continue
        candidates: list[str] = []
        for match in read.matches or ():
            if files.is_dir(match) or match in (".", ""):
                candidates += files.sent_files(match, limit=_PROBES_PER_READ)
            elif files.sent_file(match):
                candidates.append(match)
        pool = sorted(c for c in candidates if c not in named)
        if pool:
            out.setdefault(pool[0])
    return tuple(out)

"""Run the steps that change rarely before the copy of the build context.

## What it does
Finds a `RUN` below a `COPY`/`ADD` of the build context (`COPY . .`, `COPY src/ /app/src`, or a
`RUN --mount=type=bind` of it) that reads nothing that copy brought in: a system package install
(`apt-get install`, `apk add`), a `useradd`, a tool downloaded with `curl`, a `pip install` or
`npm install -g` of fixed package names. It moves the `RUN` above the first copy of the context
it can cross, with its comments, and keeps the order of everything else.

What the `RUN` reads and writes, and what every instruction it crosses reads and writes, comes
from the facts layer (the shell model and the ecosystems' installers). The `RUN` moves only when
it reads nothing the crossed instructions write, none of them reads what it writes, and no two
of them write the same place (two installs into `/usr` keep their order), and it writes nothing
into a directory the copy may create (`COPY .rc /home/user/.rc` makes `/home/user`; directories
every base image has, and the working directory, are not counted). A copy through a symbolic
link an earlier `RUN` made is never crossed. An `ENV` or `ARG`
between the copy and the `RUN` moves up with it, in its order, when nothing it crosses refers to
the variable and no `RUN` it crosses would start to see it; otherwise the `RUN` stays. A `RUN`
crosses a `WORKDIR` only when it names no relative path (and does not `cd` to one); it never
crosses a `USER`, a `SHELL` or a `VOLUME`. A `RUN` that writes a file a later `RUN` deletes (a
temporary file) stays: merged with that `RUN` (DO101), its bytes leave no layer behind, which
saves more than a cached step.

## Why is this bad?
BuildKit re-runs every step after a `COPY` whose files changed. With the whole source copied
first, editing any source file re-runs the package installs, user creation and downloads below
it, although none of them reads the source: every rebuild pays for them again. Above the copy
they stay cached until the base image or the step itself changes.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home app
CMD ["python", "app.py"]
```
Use instead:
```dockerfile
FROM python:3.12-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home app
COPY . .
CMD ["python", "app.py"]
```

## Fix safety
Safe when every command of the moved `RUN` and of each `RUN` it crosses is known to the shell
model (and the ecosystems' installers), and the checks above hold: the same commands run on the
same files, with the same variables, directory, user and shell; only their order against steps
they share nothing with changes. The moved `RUN` may land right below another package install;
DO101 then merges the two when that saves a layer. The fixer also checks the whole rewrite: it
never makes a rebuild after a source edit re-run more steps than the original.

No fix when the `RUN` runs a command dockopt does not model (a script of the project, an
unknown binary): it may read the copied files. The finding says which command and leaves the
move to you; a `RUN` that runs inside the copied directory, or names a copied file, is not
reported at all.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from ..facts import Access, Effects
from ..facts.paths import is_under, join, known, overlaps
from ..findings import Edit, Finding, Fix, Safety
from ..suppress import suppressed_codes
from ..syntax import Instruction, Stage
from .base import Context, Pass, newline_of

# instructions a RUN never moves above: what it does depends on them
_BARRIERS = {"USER": "the user it runs as", "SHELL": "the shell it runs in",
             "VOLUME": "whether its changes to the volume are kept", "FROM": "its stage"}
_DEFINITIONS = frozenset({"ENV", "ARG"})


@dataclass
class _Move:
    run: int                      # index in the stage of the RUN that moves
    above: int                    # index of the context copy it moves above
    carried: list[int]            # ENV/ARG that move with it, in order


class _Blocked(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Scheduler(Pass):
    code = "DO206"
    name = "stable-steps-first"
    summary = "A RUN that reads nothing of the build context runs after a copy of it: move it above"

    def check(self, ctx: Context) -> Iterable[Finding]:
        for stage in ctx.tree.stages:
            yield from self._stage(ctx, stage)

    def _stage(self, ctx: Context, stage: Stage) -> Iterable[Finding]:
        body = stage.instructions
        readers = [k for k, ins in enumerate(body) if ctx.rebuild.takes_context(ins)]
        if not readers:
            return
        moves: list[_Move] = []
        moved: set[int] = set()
        reports: list[Finding] = []
        for x in range(readers[0] + 1, len(body)):
            run = body[x]
            if run.keyword != "RUN" or x in readers or self.code in suppressed_codes(run):
                continue
            effects = ctx.effects(run)
            if _deleted_later(ctx, body[x + 1:], effects):
                continue     # merged with the RUN that deletes it (DO101), its files leave no layer
            move = _first_move(ctx, body, readers, x, moved, effects)
            if move is not None and effects.modelled:
                moves.append(move)
                moved.update([x, *move.carried])
            elif move is not None:
                report = self._unmodelled(ctx, body, move, effects)
                if report is not None:
                    reports.append(report)
        if moves:
            fix = _fix(ctx, body, moves)
            for m in moves:
                yield self.finding(body[m.run], _message(body, m), fix)
        yield from reports

    def _unmodelled(self, ctx: Context, body: tuple[Instruction, ...], move: _Move,
                    effects: Effects) -> Finding | None:
        """A report without fix for a RUN the shell model cannot read, unless it plainly reads
        the copied files (it runs in the copied directory, or names one)."""
        run = body[move.run]
        dests = [w.path for k in range(move.above, move.run) if ctx.rebuild.takes_context(body[k])
                 for w in ctx.effects(body[k]).writes]
        steps = ctx.steps(run)
        path_dirs = (ctx.state(run).value("PATH") or "").split(":")
        for step in steps:
            if step.cwd is None or any(is_under(step.cwd, d) or (step.cwd != "/" and is_under(d, step.cwd))
                                       for d in dests):
                return None     # it runs in the copied tree, or in the project directory around it
            words = [w.text for w in step.command.argv]
            name = step.command.name
            if name is not None and "/" not in name:
                words += [f"{directory}/{name}" for directory in path_dirs if directory.startswith("/")]
            for word in words:
                if word and not word.startswith("/") and not known(step.cwd):
                    return None     # a relative path in a directory only the base image knows
                path = join(step.cwd, word) if word else None
                if path is None or any(overlaps(path, d) for d in dests):
                    return None
        if not steps:
            return None
        copy = body[move.above]
        why = "; ".join(effects.unmodelled)
        return self.finding(run, f"{_short(run)} runs after {_short(copy)} (line {copy.start_line}) and may not "
                            f"read the copied files, but {why}: dockopt cannot tell whether it reads them. If it "
                            f"does not, move it above line {copy.start_line}, so that a source edit does not "
                            "re-run it")


def _deleted_later(ctx: Context, later: tuple[Instruction, ...], effects: Effects) -> bool:
    """A later RUN of the stage deletes something the RUN writes: a temporary file, whose bytes
    only leave the image when the two RUNs are one layer; moved above the copy, it would stay."""
    return any(_overlap(d, w) for ins in later if ins.keyword == "RUN"
               for d in ctx.effects(ins).deletes for w in effects.writes)


def _first_move(ctx: Context, body: tuple[Instruction, ...], readers: list[int], x: int, moved: set[int],
                effects: Effects) -> _Move | None:
    """The move of the RUN at `x` above the earliest copy of the context it can cross."""
    for c in (r for r in readers if r < x):
        try:
            return _Move(x, c, _plan(ctx, body, c, x, moved, effects))
        except _Blocked:
            continue
    return None


def _plan(ctx: Context, body: tuple[Instruction, ...], c: int, x: int, moved: set[int],
          effects: Effects) -> list[int]:
    """The ENV/ARG that move with the RUN at `x` above the instruction at `c` (what moved
    already is above it); raises _Blocked when the RUN cannot move there."""
    crossed = [k for k in range(c, x) if k not in moved]
    carried = [k for k in crossed if body[k].keyword in _DEFINITIONS]
    for k in crossed:
        if k not in carried:
            _cross(ctx, body[k], effects)
    for k in carried:
        names = _defined(body[k])
        for j in crossed:
            if j >= k or j in carried:
                continue
            ins = body[j]
            if ins.keyword == "RUN" or names & ctx.effects(ins).env_reads:
                raise _Blocked(f"{_short(ins)} (line {ins.start_line}) would see {', '.join(sorted(names))}")
    return carried


def _cross(ctx: Context, ins: Instruction, effects: Effects) -> None:
    """Raises _Blocked when a RUN of `effects` cannot move above `ins`."""
    kw = ins.keyword
    if kw in _BARRIERS:
        raise _Blocked(f"{_short(ins)} (line {ins.start_line}) sets {_BARRIERS[kw]}")
    if kw == "WORKDIR" and effects.uses_cwd:
        raise _Blocked(f"it uses the directory {_short(ins)} (line {ins.start_line}) sets")
    other = ctx.effects(ins)
    if not other.modelled:
        raise _Blocked(f"{_short(ins)} (line {ins.start_line}) is not modelled")
    clash = _clash(effects, other)
    if clash is not None:
        raise _Blocked(clash)


def _clash(moving: Effects, other: Effects) -> str | None:
    """Why the two cannot swap: one reads what the other writes, or both write one place."""
    mine = moving.writes + moving.deletes
    theirs = other.writes + other.deletes
    for reads, writes in ((moving.reads, theirs), (other.reads, mine), (mine, theirs)):
        for r in reads:
            for w in writes:
                if _overlap(r, w):
                    return f"both use {r.path}"
    for w in mine:
        if any(is_under(c, posixpath.dirname(w.path)) for c in other.created):
            return f"{w.path} may be in a directory the other creates"
    return None


def _overlap(a: Access, b: Access) -> bool:
    return overlaps(a.path, b.path)


def _defined(ins: Instruction) -> frozenset[str]:
    if ins.keyword == "ARG":
        return frozenset(w.partition("=")[0] for w in ins.values)
    return frozenset(ins.values[0::2])


def _short(ins: Instruction) -> str:
    text = " ".join(ins.logical.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _message(body: tuple[Instruction, ...], move: _Move) -> str:
    run, copy = body[move.run], body[move.above]
    message = (f"{_short(run)} reads nothing {_short(copy)} (line {copy.start_line}) brings in, yet runs after it: "
               f"every edit of those files re-runs it; move it above line {copy.start_line}")
    if move.carried:
        lines = ", ".join(str(body[k].start_line) for k in move.carried)
        message += f" (with the {'/'.join(sorted({body[k].keyword for k in move.carried}))} at line {lines})"
    return message


def _fix(ctx: Context, body: tuple[Instruction, ...], moves: list[_Move]) -> Fix:
    """One fix for the stage: each moved RUN (and what it carries) cut from its place and put,
    in the original order, above the copy it crosses."""
    nl = newline_of(ctx.tree)
    edits: list[Edit] = []
    inserted: dict[int, list[Instruction]] = {}
    for m in moves:
        for k in sorted([*m.carried, m.run]):
            inserted.setdefault(m.above, []).append(body[k])
            edits.append(Edit(body[k].leading_start, body[k].end, ""))
    for above, moved in inserted.items():
        at = body[above].leading_start
        # BuildKit needs no blank line after a heredoc's terminator, hadolint's parser does: one goes
        # wherever a moved instruction would follow a heredoc, or be followed, without one
        prev: Instruction | None = body[above - 1] if above > 0 and body[above - 1].end == at else None
        text = ""
        for ins in moved:
            source = ins.full_source if ins.full_source.endswith(("\n", "\r")) else ins.full_source + nl
            gap = nl if prev is not None and prev.heredocs and not source.startswith(("\n", "\r")) else ""
            text += gap + source
            prev = ins
        if moved[-1].heredocs and body[above].start == at:
            text += nl
        edits.append(Edit(at, at, text))
    edits.sort(key=lambda e: (e.start, e.end))
    names = ", ".join(f"line {body[m.run].start_line}" for m in moves)
    return Fix(f"Move the RUN at {names} above the copy of the build context", Safety.SAFE, tuple(edits))

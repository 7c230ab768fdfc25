"""A RUN deletes what `COPY .` just copied: exclude it in .dockerignore instead.

## What it does
Finds `COPY . <dir>` (or `ADD .`) followed by a `RUN` whose first command is an `rm` of paths
the copy just brought in from the build context (`rm -rf tests docs .github`), and adds those
paths to the ignore file the build uses. When the `rm` deleted nothing else, it goes too (the
whole RUN, or the first command of a `&&` / `;` list). Needs the build context.

## Why is this bad?
Deleting in a later layer does not make the image smaller: the files stay in the `COPY` layer
below, sent to the builder and stored in every image. Any edit to them (a test, a doc page)
also invalidates the `COPY .` layer and re-runs every step after it, though the image never
keeps them.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN rm -rf tests docs
RUN pip install --no-cache-dir .
```
Add to `.dockerignore`:
```text
tests
docs
```
and drop the `RUN rm -rf tests docs`.

## Fix safety
Safe when no build step reads what is excluded: the path is a directory or file sent from the
context, deleted right after the copy (nothing ran in between), no other `COPY`/`ADD` source,
bind mount or file a build step runs or reads names it or a directory around it (the same
evidence DO204 uses), every `COPY .` of the file is followed by the same deletion, and no
exception (`!pattern`) of the ignore file re-includes it. When other Dockerfiles lie in the
context, the entries go to `<Dockerfile name>.dockerignore` (a copy of the shared file plus the
entries), as DO204 does, so the other builds keep their context. The `rm` is kept when it may
also delete something that did not come from the context: another operand, a glob, an earlier
step that wrote there, or a base image dockopt does not know (not an official image or
`scratch`); a kept `rm` must have `-f` (it would fail on the missing path), otherwise there is
no fix. Names that DO204 handles (`.git`, `node_modules`, caches, ...) are left to it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..facts.images import parse_image
from ..facts.paths import is_under, join, known, relative
from ..findings import Edit, FileWrite, Finding, Fix, Safety
from ..shell import SimpleCommand, parse_rm
from ..syntax import Instruction
from .base import Context, Pass
from .copies import copy_op, human_size
from .copy_chown import CopyChown, leading_command
from .dockerignore import (
    Dockerignore,
    IgnoreTarget,
    Junk,
    append_entries,
    context_names,
    excluded_by,
    ignore_target,
    junk_name,
)

_QUIET = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL",
                    "MAINTAINER", "USER", "SHELL"})
_PLAIN = re.compile(r"^[\w][\w.@+-]*(?:/[\w.@+-]+)*$")   # a context path an ignore line names as it is
_COMMENT = "Deleted right after COPY . (dockopt DO208)"


@dataclass
class _Plan:
    copy: Instruction
    run: Instruction
    rm: SimpleCommand
    rest: int | None                                     # where the RUN goes on after the rm
    force: bool
    rels: dict[str, str] = field(default_factory=dict)   # context path -> image path it was copied to
    others: list[str] = field(default_factory=list)      # operands that are not (only) context copies


class IgnoreDeleted(Pass):
    code = "DO208"
    name = "ignore-deleted"
    summary = "A RUN deletes what COPY . just copied: exclude it in .dockerignore instead"
    needs_context = True
    fires_on = ("rm ",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        whole = [i for i in ctx.tree.instructions if Dockerignore._copies_all(i)]
        if not whole or not ctx.files.available:
            return
        target = ignore_target(ctx)
        if target is None:
            return
        plans = [self._plan(ctx, w) for w in whole]
        # a path goes only when every copy of the whole context is followed by its deletion:
        # otherwise a stage that keeps it may use it
        common = set.intersection(*(set(p.rels) if p is not None else set() for p in plans))
        named = context_names(ctx)
        for plan in plans:
            if plan is None or not plan.rels:
                continue
            free = sorted(r for r in plan.rels if r in common and not self._read(r, named, target))
            if free:
                yield self._finding(ctx, plan, free, target)

    # -- what the RUN after the copy deletes ------------------------------------------------------
    def _plan(self, ctx: Context, copy: Instruction) -> _Plan | None:
        op = copy_op(copy)
        stage = ctx.stage(copy)
        if op is None or stage is None:
            return None
        dest = join(ctx.state(copy).cwd, op.dest)
        if dest is None or not known(dest):
            return None
        after = stage.instructions[stage.instructions.index(copy) + 1:]
        run = next((x for x in after if x.keyword not in _QUIET), None)
        if run is None or run.keyword != "RUN" or run.flags:
            return None
        cmd, rest = leading_command(ctx.script(run))
        rm = parse_rm(cmd) if cmd is not None else None
        if cmd is None or rm is None:
            return None
        step = next((s for s in ctx.steps(run) if s.command is cmd), None)
        if step is None:
            return None
        plan = _Plan(copy, run, cmd, rest, rm.force)
        for word in rm.paths:
            text = word.text
            path = join(step.cwd, text) if text is not None and not any(c in text for c in "*?[") else None
            rel = self._context_path(ctx, run, dest, path) if path is not None and known(path) else None
            if rel is None:
                plan.others.append(word.raw)
            else:
                plan.rels[rel] = path or ""
        return plan

    @staticmethod
    def _context_path(ctx: Context, run: Instruction, dest: str, path: str) -> str | None:
        """The context path whose copy the RUN deletes at `path`; None when it is not one that an
        ignore line can name, or one DO204 deals with."""
        if path == dest or not is_under(path, dest):
            return None
        rel = ctx.context_origin(run, path)
        if rel is None or rel == "." or rel != relative(path, dest) or not _PLAIN.match(rel):
            return None
        if not ctx.files.sent(rel) or any(junk_name(part) for part in rel.split("/")):
            return None
        return rel

    @staticmethod
    def _read(rel: str, named: list[str], target: IgnoreTarget) -> bool:
        """A build step reads the path (or the file wants it kept): it must stay in the context."""
        if any(n not in (".", "") and is_under(rel, n.rstrip("/")) for n in named):
            return True   # another COPY of a directory around it (or a script in it) would lose it
        return Dockerignore._conflicts(Junk(rel, rel, "deleted"), named, target.matcher)

    # -- the fix -----------------------------------------------------------------------------
    def _finding(self, ctx: Context, plan: _Plan, free: list[str], target: IgnoreTarget) -> Finding:
        size = sum(ctx.files.tree_size(r)[0] for r in free)
        script = ctx.script(plan.run)
        rm_text = script.text[plan.rm.start:plan.rm.end].strip() if script is not None else "rm"
        where = target.write_path.name
        message = (f"`{rm_text[:60]}` deletes {', '.join(free)} ({human_size(size)}) right after `COPY .` "
                   f"at line {plan.copy.start_line} copied {'them' if len(free) > 1 else 'it'}: they stay in "
                   f"the COPY layer, and an edit to them re-runs that COPY and every step after it; "
                   f"exclude them in {where}")
        if target.shared:
            message += f" ({', '.join(target.shared[:3])} may build with the same context)"
        kept = len(free) < len(plan.rels) or bool(plan.others) or not self._only_copied(ctx, plan, free)
        if kept and not plan.force:
            return self.finding(plan.run, message + "; no fix: the rm, which must stay, has no -f and would "
                                "fail once the paths are excluded")
        base = target.current or ""
        text = append_entries(base, free, target.current is None, _COMMENT)
        done = excluded_by(text, target.write_path, free)
        if done != free:
            return self.finding(plan.run, message + "; no fix: the entries would not exclude them")
        edits: tuple[Edit, ...] = ()
        if not kept:
            drop = (CopyChown._remove(plan.run) if plan.rest is None
                    else CopyChown._drop_first(ctx, plan.run, plan.rest))
            if drop is None:
                kept = True
                if not plan.force:
                    return self.finding(plan.run, message + "; no fix: the rm cannot be taken out of the RUN "
                                        "and has no -f")
            else:
                edits = (drop,)
        title = f"Exclude {', '.join(free)} in {where}" + ("" if kept else " and drop the rm")
        if kept:
            message += " (the rm stays: it may also delete files that did not come from the context)"
        return self.finding(plan.run, message,
                            Fix(title, Safety.SAFE, edits, (FileWrite(str(target.write_path), text),)))

    @staticmethod
    def _only_copied(ctx: Context, plan: _Plan, free: list[str]) -> bool:
        """What the rm deletes came from the context alone: no earlier step wrote there and the base
        image is one dockopt knows holds nothing there (official images, scratch)."""
        stage = ctx.stage(plan.copy)
        if stage is None:
            return False
        base = ctx.graph.base_image(stage)
        image = parse_image(base) if base != "scratch" else None
        if base != "scratch" and (image is None or not image.official):
            return False
        for x in ctx.graph.before(plan.copy):
            effects = ctx.effects(x)
            if not effects.modelled:
                return False
            for r in free:
                path = plan.rels[r]
                if any(is_under(a.path, path) or (a.tree and is_under(path, a.path) and a.path != "/")
                       for a in (*effects.writes, *effects.deletes)):
                    return False
        return True


__all__ = ["IgnoreDeleted"]

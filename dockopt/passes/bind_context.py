"""A build stage copies the build context into a layer only for the RUN right after it: mount it.

## What it does
In a file that builds with BuildKit (the `target` setting, `"buildkit"` by default, or
BuildKit-only syntax), finds a `COPY` of the build context (`COPY . .`, `COPY src/ /build`) in a
stage whose layers no image keeps (a build stage that other stages only copy files from), when
the next instruction is the `RUN` that uses those files and nothing after it reads them: no later
instruction of the stage, and no `COPY --from` or mount of another stage, touches the destination.
The fix drops the `COPY` and gives the `RUN` a bind mount of the same files at the same place:
`RUN --mount=type=bind,source=.,target=/src,rw ...`.

## Why is this bad?
A `COPY` is a build step that writes the whole context into a layer. In a build stage that layer
is thrown away: only what later stages copy out of the stage (a binary, a wheel directory, a
static site) reaches an image. After a source edit BuildKit runs the `COPY` and then the `RUN`;
with the mount only the `RUN` runs, and nothing is written into a layer nobody keeps. A
multi-stage build then re-runs no more steps after a source edit than the single-stage file it
came from (the build `RUN` and the runtime's copy of its output, against the `COPY` and the `RUN`).

## Example
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/server .

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/server /server
```
Use instead:
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
RUN --mount=type=bind,source=.,target=/src,rw go build -o /out/server .

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/server /server
```

## Fix safety
Safe: BuildKit shows the `RUN` the same files at the same paths, with the same owner (root), modes
and times as the `COPY` wrote them (both read the context after `.dockerignore`), and `rw` lets the
`RUN` write under the mount as it could into the copy; what it writes there is dropped when it
ends, and nothing after it reads that place. Only what the `RUN` writes elsewhere (`/out/server`
above) stays in the stage. The fix is offered only when all of this is known:

- no image keeps the stage's layers (other stages only `COPY --from` it or mount it; none is built
  `FROM` it, and it is not the last stage);
- the `COPY` has one source of the context and no flags but `--link`, and its destination is a
  directory no base image fills (`/src`, `/build`, a `WORKDIR` under `/usr/src`, `/home`, `/opt`,
  `/srv` or `/go/src`), into which no earlier step wrote anything but the same context files at
  the same place (`COPY go.mod go.sum ./` above `COPY . .`): a mount hides what was there;
- no later instruction of the stage touches the destination (each is modelled), and no other
  stage reads the stage's files there;
- the `RUN` has no mount there already, and does not delete or move the destination itself or a
  directory above it (`rm -rf /go` after building in `/go/src/app`): a mount point cannot go.

When the `RUN` runs a program dockopt does not model (`make`, a build script), it cannot tell
that the program leaves the directory itself in place: the fix is then unsafe.

A file that names a frontend without `RUN --mount` (`# syntax=` older than 1.2, another frontend)
is left alone.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterable

from ..facts.frontend import frontend_supports
from ..facts.paths import clean, is_under, join, known, overlaps
from ..findings import Edit, Finding, Fix, Safety
from ..syntax import Instruction, Stage
from .base import Context, Pass
from .cache_mounts import targets_buildkit
from .copies import copy_op, dest_is_dir, plain_word
from .edits import keyword_span

_MOUNT = (1, 2)                       # dockerfile release with RUN --mount
_STANDARD_TOP = frozenset({"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media",
                           "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var"})
# standard directories an application directory may sit under (a base image fills the directory
# itself, not a new one below it)
_APP_PARENTS = ("/usr/src", "/home", "/opt", "/srv", "/go/src")
_GLOB = frozenset("*?[")


class BindContext(Pass):
    code = "DO209"
    name = "bind-context-in-build-stage"
    summary = "A build stage copies the context into a layer only for the next RUN: bind-mount it there"
    severity = "info"

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not targets_buildkit(ctx) or not frontend_supports(ctx.tree.syntax, _MOUNT):
            return
        if any(ins.keyword == "ONBUILD" for ins in ctx.tree.instructions):
            return
        graph = ctx.graph
        for stage in graph.stages:
            if graph.ships(stage) or graph.descendants(stage):
                continue
            body = stage.instructions
            for k, ins in enumerate(body[:-1]):
                if ins.keyword == "COPY" and body[k + 1].keyword == "RUN":
                    found = self._finding(ctx, stage, ins, body[k + 1], body[k + 2:])
                    if found is not None:
                        yield found

    def _finding(self, ctx: Context, stage: Stage, copy: Instruction, run: Instruction,
                 later: tuple[Instruction, ...]) -> Finding | None:
        mount = self._mount(ctx, copy)
        if mount is None:
            return None
        source, target = mount
        if self._used_after(ctx, stage, run, later, target):
            return None
        effects = ctx.effects(run)
        _start, end = keyword_span(run)
        flag = f"--mount=type=bind,source={source},target={target},rw"
        edits = (Edit(copy.start, run.leading_start, ""), Edit(end, end, " " + flag))
        message = (f"`COPY {' '.join(copy.values)}` writes the build context into a layer of a build stage no image "
                   f"keeps, only for the RUN on line {run.start_line}: bind-mount it there ({flag}), and a "
                   "source edit re-runs one step fewer")
        if not effects.modelled:
            message += (f" (unsafe: {'; '.join(effects.unmodelled)}: dockopt cannot tell that it leaves {target} "
                        "itself in place, which a mount point needs)")
        return self.finding(copy, message, Fix("Bind-mount the context in the RUN instead of copying it",
                                               Safety.SAFE if effects.modelled else Safety.UNSAFE, edits))

    def _mount(self, ctx: Context, copy: Instruction) -> tuple[str, str] | None:
        """(source, target) of the bind mount that shows the RUN what the COPY wrote, where no
        earlier step wrote anything a mount would hide."""
        op = copy_op(copy)
        if op is None or copy.heredocs or not op.flag_names <= {"link"} or len(op.sources) != 1:
            return None
        source = op.sources[0]
        if not _plain_path(source) or not _plain_path(op.dest):
            return None
        dest = join(ctx.state(copy).cwd, op.dest)
        if dest is None or not known(dest):
            return None
        source = clean(source.lstrip("/") or ".") or "."
        if ctx.copies_directory(source):
            target = clean(dest)
        elif ctx.files.available and ctx.files.exists(source):
            target = clean(join(dest, posixpath.basename(source)) or "") if dest_is_dir(op) else clean(dest)
        else:
            return None
        if not _own_directory(target) or not _plain_path(target):
            return None
        if not self._nothing_there_before(ctx, copy, source, target):
            return None
        return source, target

    def _used_after(self, ctx: Context, stage: Stage, run: Instruction, later: tuple[Instruction, ...],
                    target: str) -> bool:
        """Something needs the copy after the RUN, or its files outside a mount: a mount there
        already, a later step of the stage or another stage that reads the place, a RUN that
        deletes or moves the directory itself (`rm -rf /go`: a mount point cannot go)."""
        if any(m.target is not None and overlaps(m.target, target) for m in ctx.mounts(run)):
            return True
        for x in later:
            effects = ctx.effects(x)
            if not effects.modelled or effects.touches(target) or (
                    effects.uses_cwd and overlaps(ctx.state(x).cwd or "/", target)):
                return True
        if self._read_by_other_stages(ctx, stage, target):
            return True
        return ctx.effects(run).removes(target) is not None

    @staticmethod
    def _nothing_there_before(ctx: Context, copy: Instruction, source: str, target: str) -> bool:
        """Nothing earlier in the image wrote under `target`, but for copies of the same context
        files to the same place (a dependency manifest copied above the source)."""
        for x in ctx.graph.before(copy):
            if x.keyword in ("COPY", "ADD"):
                if not _same_files(ctx, x, source, target) and any(
                        overlaps(w.path, target) for w in ctx.effects(x).writes):
                    return False
                if not ctx.effects(x).modelled:
                    return False
                continue
            effects = ctx.effects(x)
            if x.keyword == "RUN" and not effects.modelled:
                return False
            if any(overlaps(w.path, target) and clean(w.path) != target for w in effects.writes):
                return False
        return True

    @staticmethod
    def _read_by_other_stages(ctx: Context, stage: Stage, target: str) -> bool:
        graph = ctx.graph
        for other in graph.stages:
            if other is stage:
                continue
            for ins in other.instructions:
                for value, path in ctx.inputs(ins).stage_reads:
                    if "$" in value:
                        return True
                    if graph.ref(value, other.index) is stage and overlaps(clean("/" + path.lstrip("/")), target):
                        return True
        return False


def _same_files(ctx: Context, ins: Instruction, source: str, target: str) -> bool:
    """A COPY of context files that puts each where the bind mount of `source` at `target` shows it."""
    op = copy_op(ins)
    if op is None or ins.heredocs or op.flag_names - {"link"}:
        return False
    dest = join(ctx.state(ins).cwd, op.dest)
    if dest is None or not known(dest):
        return False
    for s in op.sources:
        s = clean(s.lstrip("/") or ".") or "."
        if "$" in s or (source != "." and not is_under(s, source)):
            return False
        rel = s if source == "." else posixpath.relpath(s, source)
        if ctx.copies_directory(s):
            landing = clean(dest)
        elif dest_is_dir(op):
            landing = clean(join(dest, posixpath.basename(s)) or "")
        else:
            landing = clean(dest)
        if landing != clean(join(target, rel) or ""):
            return False
    return True


def _plain_path(path: str) -> bool:
    return plain_word(path) and "$" not in path and "," not in path and "=" not in path and not (_GLOB & set(path))


def _own_directory(target: str) -> bool:
    """A directory no base image fills: one outside the standard tree, or an application directory
    below one of the standard places for them."""
    parts = [p for p in target.split("/") if p]
    if not parts:
        return False
    if parts[0] not in _STANDARD_TOP and parts[0] != "go":
        return True
    return any(is_under(target, parent) and clean(target) != parent
               and (parent != "/home" or len(parts) >= 3) for parent in _APP_PARENTS)


__all__ = ["BindContext"]

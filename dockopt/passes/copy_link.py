"""`COPY --from` without `--link`: BuildKit copies again whenever a layer below it changes.

## What it does
In a file that builds with BuildKit (the `target` setting, `"buildkit"` by default, or
BuildKit-only syntax) and whose frontend has `--link` (dockerfile 1.4+; every BuildKit engine
of Docker 23 and newer, or a `# syntax=` directive naming 1.4 or newer), finds `COPY --from=...`
instructions without `--link` and adds it.

## Why is this bad?
Without `--link`, a COPY's layer is a change on top of the layers below it: when any of them
changes (a new base image, an edited earlier step), BuildKit copies again, and with
`--cache-from` it must pull the layers below before it can use the cached one. With `--link`
the files are copied into an empty layer of their own that is then put on top: a change
below it no longer re-runs the copy, and BuildKit can rebase the layer onto a new base image
without rebuilding it (the steps after it still run again).

## Example
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/server .
FROM debian:bookworm-slim
COPY --from=build /out/server /usr/local/bin/server
```
Use instead:
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/server .
FROM debian:bookworm-slim
COPY --link --from=build /out/server /usr/local/bin/server
```

## Fix safety
`--link` changes what the image holds in one way: it cannot look at the layers below, so the
directories on the way to the destination are written afresh, as plain directories owned by
root with mode 0755 (BuildKit's documented behaviour; moby/moby#44956, docker/buildx#1855). A
directory that was a symlink in the base image (`/bin` on merged-/usr systems, `/var/run`), or
that had another owner or mode (`/tmp`, `/root`, `/home/app`, an application directory an
earlier step gave to its user) is then replaced in the image. The fix is safe when every such
directory is one that base images either lack or hold as a root-owned 0755 directory
(`/usr/local/bin`, `/usr/lib`, `/opt`, `/etc`, ...) and no earlier step of the stage writes it,
or when the stage starts from `scratch` and only copies (without `--chown`) made it. Otherwise
(`/app`, `/home/app`, a destination under an unknown working directory) the fix is unsafe and
the message says which directory dockopt cannot vouch for. With `--chown`, `--link` also gives
those directories to the owner: always unsafe. `--link=false`, a heredoc, and a
`# syntax=` directive naming a frontend older than 1.4 or another frontend are left alone.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..facts.frontend import frontend_supports
from ..facts.images import PLAIN_ROOT_DIRS, is_windows
from ..facts.paths import clean, is_under, join, known
from ..findings import Edit, Finding, Fix, Safety
from ..syntax import Instruction
from .base import Context, Pass
from .cache_mounts import targets_buildkit
from .copies import copy_op, dest_is_dir
from .edits import keyword_span

_LINK = (1, 4)                       # dockerfile release with COPY --link
_FLAGS = frozenset({"from", "chmod", "chown", "exclude"})
_TREE_CHANGERS = frozenset({"chmod", "chown", "chgrp", "rm", "mv", "ln", "cp", "setfacl", "install", "rsync"})
_METADATA = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL",
                       "SHELL", "MAINTAINER", "VOLUME", "ONBUILD"})


class CopyLink(Pass):
    code = "DO207"
    name = "copy-link"
    summary = "COPY --from without --link is copied again whenever a layer below it changes"
    severity = "info"
    fires_on = ("--from",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not targets_buildkit(ctx) or not frontend_supports(ctx.tree.syntax, _LINK):
            return
        for stage in ctx.tree.stages:
            if is_windows(ctx.graph.base_image(stage)):
                continue
            for ins in stage.instructions:
                if ins.keyword != "COPY" or ins.heredocs:
                    continue
                op = copy_op(ins)
                if op is None or not op.from_stage or not op.flag_names <= _FLAGS:
                    continue
                yield self._finding(ctx, ins, op.from_stage, self._unsafe_reason(ctx, ins))

    def _finding(self, ctx: Context, ins: Instruction, source: str, reason: str) -> Finding:
        _start, end = keyword_span(ins)
        message = (f"`COPY --from={source}` without --link is copied again whenever a layer below it "
                   "changes: with --link BuildKit keeps (and can rebase) its layer")
        if reason:
            message += f" (unsafe: {reason})"
        fix = Fix("Add --link to the COPY", Safety.UNSAFE if reason else Safety.SAFE, (Edit(end, end, " --link"),))
        return self.finding(ins, message, fix)

    def _unsafe_reason(self, ctx: Context, ins: Instruction) -> str:
        """Why --link might change the image; empty when it cannot."""
        op = copy_op(ins)
        assert op is not None
        if "chown" in op.flag_names:
            return "with --link, --chown also gives the directories on the way to the destination to that owner"
        dest = join(ctx.state(ins).cwd, op.dest)
        if dest is None or not known(dest):
            return "the destination is under a working directory dockopt does not know"
        dirs = _dirs_written(dest, dest_is_dir(op))
        if not dirs:
            return ""
        before = ctx.graph.before(ins)
        stage = ctx.stage(ins)
        # on scratch, only the earlier copies made directories, as root's 0755 ones (unless one
        # copied a directory of its own there, which the writer check below sees)
        empty = stage is not None and ctx.graph.base_image(stage) == "scratch" and _only_plain_copies(before)
        for d in dirs:
            if d not in PLAIN_ROOT_DIRS and not empty:
                return (f"--link writes {d} as a root-owned 0755 directory; dockopt cannot tell that it is one "
                        "in the base image and after the earlier steps")
            writer = next((x for x in before if _writes_dir(ctx, x, d)), None)
            if writer is not None:
                return (f"line {writer.start_line} may change {d}, which --link writes afresh as a root-owned "
                        "0755 directory")
        return ""


def _dirs_written(dest: str, into: bool) -> list[str]:
    """The directories a --link layer holds on the way to what it copies, outermost first."""
    path = clean(dest)
    parts = [p for p in path.split("/") if p]
    if not into:
        parts = parts[:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _writes_dir(ctx: Context, ins: Instruction, directory: str) -> bool:
    """The instruction may change the directory itself (its owner, mode, or what it is)."""
    effects = ctx.effects(ins)
    if ins.keyword in ("COPY", "ADD"):
        op = copy_op(ins)
        if op is not None and "chown" in op.flag_names:
            return any(is_under(a.path, directory) or is_under(directory, a.path) for a in effects.writes)
        return any(clean(a.path) == directory for a in effects.writes)
    if ins.keyword != "RUN":
        return False
    # the directory itself, or a tree around it that a file command changes as a whole
    # (`chmod -R 777 /usr`, `rm -rf /opt`); a package manager writes into /usr, not /usr itself
    for a in (*effects.writes, *effects.deletes):
        changer = a.via.split(" ")[0] in _TREE_CHANGERS
        if (changer or not a.tree) and (clean(a.path) == directory or (a.tree and is_under(directory, a.path))):
            return True
    return False


def _only_plain_copies(before: list[Instruction]) -> bool:
    """Each earlier step is a COPY/ADD without --chown or metadata: what they created is root's 0755."""
    for x in before:
        if x.keyword in _METADATA:
            continue
        if x.keyword in ("COPY", "ADD"):
            op = copy_op(x)
            if op is not None and "chown" not in op.flag_names:
                continue
        return False
    return True

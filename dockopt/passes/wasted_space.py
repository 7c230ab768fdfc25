"""Files added in one layer and deleted in a later one still take space in the image.

## What it does
Follows, stage by stage, what each layer adds (files a `COPY`/`ADD` brings, an `ADD` of a URL,
downloads with `curl -o`/`-O` and `wget`, `git clone`, `tar -x -C` and `unzip -d` targets,
shell redirections `> file`, the apt lists of `apt-get update`) and reports a later `RUN` that
deletes them with `rm`. When the build context is at hand the message gives the size the
deleted files keep in the image. Stages whose layers do not ship (a builder stage only used by
`COPY --from`) are not reported; neither are two `RUN`s with nothing but `RUN`s between them,
which DO101 merges into one layer.

## Why is this bad?
A layer is a diff on top of the previous ones: deleting a file in a later layer only hides it
(a whiteout), the bytes are still downloaded with the image and stored on every host. A
copied tarball that is extracted and then removed costs its size twice.

## Example
```dockerfile
COPY words.tar.gz /tmp/words.tar.gz
RUN mkdir -p /opt/words && tar -xzf /tmp/words.tar.gz -C /opt/words
RUN rm /tmp/words.tar.gz
```
Use instead (with `# syntax=docker/dockerfile:1`, the archive never enters a layer):
```dockerfile
RUN --mount=type=bind,source=words.tar.gz,target=/tmp/words.tar.gz \\
    mkdir -p /opt/words && tar -xzf /tmp/words.tar.gz -C /opt/words
```

## Fix safety
No automatic fix: the suggestion is shown only. `ADD x.tgz /opt/` is not equivalent to copying
and extracting (ADD also unpacks archives whose content it recognises and keeps owners and
modes of the entries differently), a bind mount needs BuildKit's syntax, and creating and
deleting a file in one RUN needs the steps between to move. Adjacent `RUN`s are merged safely
by DO101.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..facts.files import ContextFiles
from ..facts.paths import clean, display, go_match, has_vars, is_remote, is_under, join, relative
from ..findings import Finding, Fix, Safety
from ..syntax import Instruction, Stage
from .base import Context, Pass
from .copies import archive_name, copy_op, dest_is_dir, human_size

_RM = re.compile(r"\brm\b")
# a RUN that may add or delete what this rule follows (the others are not parsed)
_INTERESTING = re.compile(r"\b(rm|curl|wget|git|tar|unzip|apt-get|apt|cd)\b|>")


@dataclass
class Entry:
    path: str                    # image path
    ins: Instruction
    what: str                    # how it got there (for the message)
    kind: str                    # 'context', 'url', 'run', 'apt'
    ctx: str | None = None       # context path, for sizes
    tree: bool = False           # a directory tree (a COPY of a directory, an extraction)
    source: str | None = None    # the COPY source as written


class WastedSpace(Pass):
    code = "DO205"
    name = "wasted-space"
    summary = "Files added in one layer and deleted in a later one still take space"

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not any(i.keyword == "RUN" and "rm" in i.args for i in ctx.tree.instructions):
            return
        fs = ctx.files
        shipped = ctx.graph.shipped
        for stage in ctx.tree.stages:
            if stage.index not in shipped:
                continue
            if not any(i.keyword == "RUN" and _RM.search(i.args) for i in stage.instructions):
                continue
            yield from self._stage(ctx, fs, stage)

    def _stage(self, ctx: Context, fs: ContextFiles, stage: Stage) -> Iterator[Finding]:
        """Each file a RUN of the stage deletes that an earlier layer added."""
        live: list[Entry] = []
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD"):
                live += self._copied(ins, ctx.state(ins).cwd, fs)
            elif ins.keyword == "RUN":
                created, deleted = self._run(ctx, ins)
                for rm_path in deleted:
                    hits = [e for e in live if _covers(rm_path, e.path, e.tree)]
                    parts = [e for e in live if e not in hits and self._part_of(fs, e, rm_path)]
                    for e in hits + parts:
                        if e.kind in ("run", "apt") and _merged_by_do101(stage, e.ins, ins):
                            continue
                        yield self._finding(ctx, fs, e, ins, rm_path, partial=e in parts)
                    live = [e for e in live if e not in hits]
                live += created

    @staticmethod
    def _part_of(fs: ContextFiles, e: Entry, rm_path: str) -> bool:
        """rm_path lies in a directory tree copied from the context, and the context has it."""
        if not e.tree or e.kind != "context" or not fs.available or e.ctx is None:
            return False
        if any(ch in rm_path for ch in "*?[") or not is_under(rm_path, e.path) or rm_path == e.path:
            return False
        c = clean(e.ctx + "/" + relative(rm_path, e.path))
        return fs.sent(c)

    # -- what layers add -------------------------------------------------------------------
    @staticmethod
    def _copied(ins: Instruction, cwd: str | None, fs: ContextFiles) -> list[Entry]:
        op = copy_op(ins)
        if op is None:
            return []
        dest = join(cwd, op.dest)
        if dest is None:
            return []
        as_dir = dest_is_dir(op)
        out = []
        for s in op.sources:
            if has_vars(s):
                continue
            entry = (_remote_entry(ins, s, dest, as_dir) if is_remote(s)
                     else _stage_entry(ins, op.from_stage, s, dest, as_dir) if op.from_stage
                     else _context_entry(ins, s, dest, as_dir, fs))
            if entry is not None:
                out.append(entry)
        return out

    @staticmethod
    def _run(ctx: Context, ins: Instruction) -> tuple[list[Entry], list[str]]:
        if not _INTERESTING.search(ins.args):
            return [], []
        script = ctx.script(ins)
        if script is None or script.has_error:
            return [], []
        created: list[tuple[int, Entry]] = []
        deleted: list[tuple[int, str]] = []
        for step in ctx.steps(ins):
            at = step.command.start
            for w in step.writes:
                if w.what:      # something the command brings in: a download, a clone, an extraction
                    kind = "apt" if w.via == "apt-get update" else "run"
                    created.append((at, Entry(w.path, ins, w.what, kind, tree=w.tree)))
            deleted += [(at, d.path) for d in step.deletes if d.via == "rm" and d.path != "/"]
        # what this RUN creates and deletes itself never reaches a layer
        kept = [e for at, e in created if not any(d_at > at and _covers(p, e.path, e.tree) for d_at, p in deleted)]
        # deletions of what earlier layers added
        gone = [p for at, p in deleted if not any(c_at < at and _covers(p, e.path, e.tree) for c_at, e in created)]
        return kept, gone

    # -- the finding ----------------------------------------------------------------------
    def _finding(self, ctx: Context, fs: ContextFiles, e: Entry, rm_ins: Instruction, rm_path: str,
                 partial: bool) -> Finding:
        size = None
        if fs.available and e.ctx is not None:
            c = e.ctx
            if partial:
                c = clean(e.ctx + "/" + relative(rm_path, e.path))
            if fs.sent(c):
                size = fs.tree_size(c)[0] if fs.is_dir(c) else fs.size(c)
        shown = display(rm_path if partial else e.path)
        how = f"{human_size(size)}, " if size is not None else ""
        message = (f"{shown} ({how}added by {e.what} at line {e.ins.start_line}) is deleted here: "
                   f"the bytes stay in the image in the layer of line {e.ins.start_line}")
        title = display(self._suggestion(ctx, e, rm_ins))
        message += f"; {title[0].lower() + title[1:]}"
        return Finding(self.code, message, rm_ins.start_line, rm_ins.column, rm_ins.end_line,
                       Fix(title, Safety.DISPLAY, ()), {"bytes": size, "path": shown,
                                                        "added_at": e.ins.start_line})

    @staticmethod
    def _suggestion(ctx: Context, e: Entry, rm_ins: Instruction) -> str:
        if e.kind == "context" and not e.tree:
            if bool(ctx.tree.syntax):
                return (f"Drop the {e.ins.keyword} and bind-mount the file in the RUN that uses it: "
                        f"RUN --mount=type=bind,source={e.source},target={e.path} ...")
            return ("Use the file in a build stage and COPY --from only its result, or add "
                    "`# syntax=docker/dockerfile:1` and bind-mount it with RUN --mount=type=bind")
        if e.kind == "context":
            return ("Copy only what the image keeps (or bind-mount the directory with "
                    "RUN --mount=type=bind in the step that needs it)")
        if e.kind == "url":
            return "Download it in the RUN that uses it and delete it there (curl/wget ... && rm), or in a build stage"
        if e.kind == "stage":
            return "Copy only what the image keeps from the other stage"
        if e.kind == "apt":
            return ("Run apt-get update, the installs that need the lists and rm -rf /var/lib/apt/lists/* "
                    "in one RUN")
        return (f"Create and delete it in the same RUN: join line {e.ins.start_line} and line "
                f"{rm_ins.start_line} (move the instructions between them above or below)")


def _remote_entry(ins: Instruction, s: str, dest: str, as_dir: bool) -> Entry | None:
    if ins.keyword != "ADD" or "://" not in s:
        return None
    name = posixpath.basename(s.split("?")[0].rstrip("/")) or "index.html"
    path = clean(dest + "/" + name) if as_dir else dest
    return Entry(path, ins, f"ADD of {s}", "url", source=s)


def _stage_entry(ins: Instruction, stage: str, s: str, dest: str, as_dir: bool) -> Entry:
    base = posixpath.basename(s.rstrip("/"))
    path = clean(dest + "/" + base) if as_dir and base else dest
    return Entry(path, ins, f"COPY --from={stage} {s}", "stage", source=s, tree=True)


def _context_entry(ins: Instruction, s: str, dest: str, as_dir: bool, fs: ContextFiles) -> Entry | None:
    rel = ContextFiles.norm(s)
    if rel is None or any(ch in s for ch in "*?["):
        return None
    is_dir = fs.is_dir(rel) if fs.available else (s.endswith("/") or rel == ".")
    if ins.keyword == "ADD" and not is_dir and archive_name(s):
        return None  # unpacked: the files are the archive's entries
    if is_dir:
        return Entry(dest, ins, f"{ins.keyword} {s}", "context", ctx=rel, tree=True, source=s)
    path = clean(dest + "/" + posixpath.basename(rel)) if as_dir else dest
    return Entry(path, ins, f"{ins.keyword} {s}", "context", ctx=rel, source=s)


def _covers(rm_path: str, path: str, tree: bool = False) -> bool:
    """`rm rm_path` removes `path` (rm_path may hold shell globs; `dir/*` empties a tree)."""
    if tree and rm_path.endswith("/*") and clean(rm_path[:-2]) == path:
        return True
    if not any(ch in rm_path for ch in "*?["):
        return is_under(path, rm_path)
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        candidate = "/".join(parts[:i]) or "/"
        try:
            if go_match(rm_path, candidate):
                return True
        except ValueError:
            return False
    return False


def _merged_by_do101(stage: Stage, a: Instruction, b: Instruction) -> bool:
    """a and b are RUNs with only RUNs between them: DO101 joins them into one layer."""
    instrs = list(stage.instructions)
    try:
        i, j = instrs.index(a), instrs.index(b)
    except ValueError:
        return False
    group = instrs[i:j + 1]
    return all(x.keyword == "RUN" and not x.is_json and not x.heredocs
               and sorted(x.parsed.flags) == sorted(a.parsed.flags) for x in group)

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
from collections.abc import Iterable
from dataclasses import dataclass

from ..context import go_match
from ..findings import Finding, Fix, Safety
from ..shell import parse_rm, parse_tool
from ..syntax import Instruction
from . import _deps as D
from .base import Context, Pass

_CURL_VALUE_LETTERS = set("oHdeuxAEXwTFbcKmrYyzUCQDPt")
_WGET_VALUE_LETTERS = set("OPoaeiUTtwQlAR")
_GIT_CLONE_VALUE = {"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config", "--reference",
                    "--separate-git-dir", "-j", "--jobs", "--filter", "--template", "-u",
                    "--upload-pack", "--shallow-since", "--shallow-exclude", "--server-option"}
_WATCHED = frozenset({"cd", "rm", "curl", "wget", "git", "tar", "unzip", "apt-get", "apt"})
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
        fs = D.files(ctx)
        cwds = D.stage_cwds(ctx)
        shipped = _shipped_stages(ctx)
        for stage in ctx.tree.stages:
            if stage.index not in shipped:
                continue
            if not any(i.keyword == "RUN" and _RM.search(i.args) for i in stage.instructions):
                continue
            live: list[Entry] = []
            for pos, ins in enumerate(stage.instructions):
                if ins.keyword in ("COPY", "ADD"):
                    live += self._copied(ins, cwds.get(id(ins)), fs)
                elif ins.keyword == "RUN":
                    created, deleted = self._run(ctx, ins, cwds.get(id(ins)))
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
    def _part_of(fs: D.Files | None, e: Entry, rm_path: str) -> bool:
        """rm_path lies in a directory tree copied from the context, and the context has it."""
        if not e.tree or e.kind != "context" or fs is None or e.ctx is None:
            return False
        if any(ch in rm_path for ch in "*?[") or not D.is_under(rm_path, e.path) or rm_path == e.path:
            return False
        c = D.clean(e.ctx + "/" + D.relative(rm_path, e.path))
        return fs.available(c)

    # -- what layers add -------------------------------------------------------------------
    @staticmethod
    def _copied(ins: Instruction, cwd: str | None, fs: D.Files | None) -> list[Entry]:
        op = D.copy_op(ins)
        if op is None:
            return []
        dest = D.join(cwd, op.dest)
        if dest is None:
            return []
        out = []
        as_dir = D.dest_is_dir(op)
        for s in op.sources:
            if D.has_vars(s):
                continue
            if D.is_remote(s):
                if ins.keyword != "ADD" or "://" not in s:
                    continue
                name = posixpath.basename(s.split("?")[0].rstrip("/")) or "index.html"
                path = D.clean(dest + "/" + name) if as_dir else dest
                out.append(Entry(path, ins, f"ADD of {s}", "url", source=s))
                continue
            if op.from_stage:
                base = posixpath.basename(s.rstrip("/"))
                path = D.clean(dest + "/" + base) if as_dir and base else dest
                out.append(Entry(path, ins, f"COPY --from={op.from_stage} {s}", "stage", source=s, tree=True))
                continue
            rel = D.Files.norm(s)
            if rel is None or any(ch in s for ch in "*?["):
                continue
            is_dir = fs.is_dir(rel) if fs is not None else (s.endswith("/") or rel == ".")
            if ins.keyword == "ADD" and not is_dir and D.archive_name(s):
                continue  # unpacked: the files are the archive's entries
            if is_dir:
                out.append(Entry(dest, ins, f"{ins.keyword} {s}", "context", ctx=rel, tree=True, source=s))
            else:
                path = D.clean(dest + "/" + posixpath.basename(rel)) if as_dir else dest
                out.append(Entry(path, ins, f"{ins.keyword} {s}", "context", ctx=rel, source=s))
        return out

    def _run(self, ctx: Context, ins: Instruction, cwd: str | None) -> tuple[list[Entry], list[str]]:
        if not _INTERESTING.search(ins.args):
            return [], []
        script = ctx.script(ins)
        if script is None or script.has_error:
            return [], []
        created: list[tuple[int, Entry]] = []
        deleted: list[tuple[int, str]] = []
        for cmd in script.commands:
            prog = cmd.program
            if prog not in _WATCHED and not cmd.redirects:
                continue
            if prog == "cd" and not cmd.runs_in_subshell:
                args = [w.text for w in cmd.args]
                cwd = D.join(cwd, args[0]) if len(args) == 1 and args[0] not in (None, "-") \
                    and not cmd.in_conditional else None
                continue
            for path, what, kind, tree in _creates(cmd, cwd):
                created.append((cmd.start, Entry(path, ins, what, kind, tree=tree)))
            rm = parse_rm(cmd)
            if rm is not None:
                for w in rm.paths:
                    p = D.join(cwd, w.text) if w.text else None
                    if p is not None and p != "/":
                        deleted.append((cmd.start, p))
        # what this RUN creates and deletes itself never reaches a layer
        kept = [e for at, e in created if not any(d_at > at and _covers(p, e.path, e.tree) for d_at, p in deleted)]
        # deletions of what earlier layers added
        gone = [p for at, p in deleted if not any(c_at < at and _covers(p, e.path, e.tree) for c_at, e in created)]
        return kept, gone

    # -- the finding ----------------------------------------------------------------------
    def _finding(self, ctx: Context, fs: D.Files | None, e: Entry, rm_ins: Instruction, rm_path: str,
                 partial: bool) -> Finding:
        size = None
        if fs is not None and e.ctx is not None:
            c = e.ctx
            if partial:
                c = D.clean(e.ctx + "/" + D.relative(rm_path, e.path))
            if fs.available(c):
                size = fs.tree_size(c)[0] if fs.is_dir(c) else fs.size(c)
        shown = rm_path if partial else e.path
        how = f"{D.human_size(size)}, " if size is not None else ""
        message = (f"{shown} ({how}added by {e.what} at line {e.ins.start_line}) is deleted here: "
                   f"the bytes stay in the image in the layer of line {e.ins.start_line}")
        title = self._suggestion(ctx, e, rm_ins)
        message += f"; {title[0].lower() + title[1:]}"
        return Finding(self.code, message, rm_ins.start_line, rm_ins.column, rm_ins.end_line,
                       Fix(title, Safety.DISPLAY, ()), {"bytes": size, "path": shown,
                                                        "added_at": e.ins.start_line})

    @staticmethod
    def _suggestion(ctx: Context, e: Entry, rm_ins: Instruction) -> str:
        if e.kind == "context" and not e.tree:
            if D.syntax_opt_in(ctx):
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


def _covers(rm_path: str, path: str, tree: bool = False) -> bool:
    """`rm rm_path` removes `path` (rm_path may hold shell globs; `dir/*` empties a tree)."""
    if tree and rm_path.endswith("/*") and D.clean(rm_path[:-2]) == path:
        return True
    if not any(ch in rm_path for ch in "*?["):
        return D.is_under(path, rm_path)
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        candidate = "/".join(parts[:i]) or "/"
        try:
            if go_match(rm_path, candidate):
                return True
        except ValueError:
            return False
    return False


def _merged_by_do101(stage, a: Instruction, b: Instruction) -> bool:
    """a and b are RUNs with only RUNs between them: DO101 joins them into one layer."""
    instrs = list(stage.instructions)
    try:
        i, j = instrs.index(a), instrs.index(b)
    except ValueError:
        return False
    group = instrs[i:j + 1]
    return all(x.keyword == "RUN" and not x.is_json and not x.heredocs
               and sorted(x.parsed.flags) == sorted(a.parsed.flags) for x in group)


def _shipped_stages(ctx: Context) -> set[int]:
    """Stages whose layers end up in some image: all but those only used by COPY --from / mounts."""
    stages = ctx.tree.stages
    if not stages:
        return set()
    names = {}
    for st in stages:
        names[str(st.index)] = st.index
        if st.name:
            names[st.name.lower()] = st.index
    based_on = {}
    for st in stages:
        parent = names.get(st.base.lower())
        if parent is not None and parent < st.index:
            based_on[st.index] = parent
    used_from: set[int] = set()
    for ins in ctx.tree.instructions:
        f = ins.flag("from") if ins.keyword == "COPY" else None
        if f and f.value and f.value.lower() in names:
            used_from.add(names[f.value.lower()])
        if ins.keyword == "RUN":
            for fl in ins.flags:
                if fl.name == "mount" and fl.value:
                    m = re.search(r"(?:^|,)from=([^,]+)", fl.value)
                    if m and m.group(1).lower() in names:
                        used_from.add(names[m.group(1).lower()])
    shipped = set()
    i = stages[-1].index
    while i is not None and i not in shipped:
        shipped.add(i)
        i = based_on.get(i)
    for st in stages:
        if st.index not in used_from:
            shipped.add(st.index)
    # ancestors of anything shipped ship too
    for st in list(stages):
        if st.index in shipped:
            j = based_on.get(st.index)
            while j is not None and j not in shipped:
                shipped.add(j)
                j = based_on.get(j)
    return shipped


def _url_name(url: str) -> str | None:
    name = posixpath.basename(url.split("?")[0].split("#")[0].rstrip("/"))
    return name or None


def _creates(cmd, cwd: str | None) -> list[tuple[str, str, str, bool]]:
    """(image path, description, kind, tree) of what one simple command writes."""
    out: list[tuple[str, str, str, bool]] = []
    prog = cmd.program
    for r in cmd.redirects:
        if r.heredoc is None and r.target is not None and r.operator in (">", ">>", "&>", "&>>", ">|") \
                and (r.fd in (None, 1, 2)):
            t = r.target.text
            if t and not t.startswith(("/dev/", "/proc/")) and not t.startswith("&"):
                p = D.join(cwd, t)
                if p:
                    out.append((p, f"`{prog or 'a command'} > {t}`", "run", False))
    if prog is None:
        return out
    args = [w.text for w in cmd.args]
    if any(a is None for a in args):
        return out
    if prog == "curl":
        out += _curl(args, cwd)
    elif prog == "wget":
        out += _wget(args, cwd)
    elif prog == "git" and args[:1] == ["clone"]:
        ops, i = [], 1
        while i < len(args):
            a = args[i]
            if a in _GIT_CLONE_VALUE:
                i += 2
                continue
            if not a.startswith("-"):
                ops.append(a)
            i += 1
        if ops:
            target = ops[1] if len(ops) > 1 else (_url_name(ops[0]) or "").removesuffix(".git")
            p = D.join(cwd, target) if target else None
            if p:
                out.append((p, f"`git clone {ops[0]}`", "run", True))
    elif prog == "tar" and args:
        out += _tar(args, cwd)
    elif prog == "unzip":
        for i, a in enumerate(args):
            if a == "-d" and i + 1 < len(args):
                p = D.join(cwd, args[i + 1])
                if p:
                    out.append((p, "`unzip -d`", "run", True))
    elif prog in ("apt-get", "apt"):
        tool = parse_tool(cmd)
        if tool is not None and tool.manager in ("apt-get", "apt") and tool.subcommand == "update":
            out.append(("/var/lib/apt/lists", "`apt-get update`", "apt", True))
    return out


def _curl(args: list[str], cwd: str | None) -> list:
    out, urls, outputs, remote, outdir = [], [], [], False, None
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, eq, val = a.partition("=")
            if name in ("--output", "--output-dir"):
                if not eq:
                    i += 1
                    val = args[i] if i < len(args) else ""
                if name == "--output":
                    outputs.append(val)
                else:
                    outdir = val
            elif name == "--remote-name":
                remote = True
            elif name in ("--header", "--data", "--user", "--proxy", "--user-agent", "--request",
                          "--write-out", "--form", "--cookie", "--retry", "--max-time", "--connect-timeout",
                          "--cacert", "--cert", "--key", "--data-raw", "--data-binary", "--retry-delay",
                          "--referer", "--range", "--config", "--proto", "--proto-redir", "--resolve",
                          "--interface", "--limit-rate", "--dns-servers", "--url") and not eq:
                if name == "--url" and i + 1 < len(args):
                    urls.append(args[i + 1])
                i += 1
        elif a.startswith("-") and len(a) > 1:
            for k, ch in enumerate(a[1:], start=1):
                if ch == "O":
                    remote = True
                elif ch in _CURL_VALUE_LETTERS:
                    val = a[k + 1:]
                    if not val:
                        i += 1
                        val = args[i] if i < len(args) else ""
                    if ch == "o":
                        outputs.append(val)
                    break
        elif "://" in a:
            urls.append(a)
        i += 1
    base = D.join(cwd, outdir) if outdir else cwd
    for o in outputs:
        if o and o != "-":
            p = D.join(base, o)
            if p:
                out.append((p, f"`curl -o {o}`", "run", False))
    if remote:
        for u in urls:
            name = _url_name(u)
            p = D.join(base, name) if name else None
            if p:
                out.append((p, f"`curl -O {u}`", "run", False))
    return out


def _wget(args: list[str], cwd: str | None) -> list:
    out, urls, output, prefix = [], [], None, None
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, eq, val = a.partition("=")
            if name in ("--output-document", "--directory-prefix"):
                if not eq:
                    i += 1
                    val = args[i] if i < len(args) else ""
                if name == "--output-document":
                    output = val
                else:
                    prefix = val
        elif a.startswith("-") and len(a) > 1:
            for k, ch in enumerate(a[1:], start=1):
                if ch in _WGET_VALUE_LETTERS:
                    val = a[k + 1:]
                    if not val:
                        i += 1
                        val = args[i] if i < len(args) else ""
                    if ch == "O":
                        output = val
                    elif ch == "P":
                        prefix = val
                    break
        elif "://" in a:
            urls.append(a)
        i += 1
    if output == "-":
        return out
    if output:
        p = D.join(cwd, output)
        if p:
            out.append((p, f"`wget -O {output}`", "run", False))
        return out
    base = D.join(cwd, prefix) if prefix else cwd
    for u in urls:
        name = _url_name(u)
        p = D.join(base, name) if name else None
        if p:
            out.append((p, f"`wget {u}`", "run", False))
    return out


def _tar(args: list[str], cwd: str | None) -> list:
    first = args[0]
    letters = first.lstrip("-") if not first.startswith("--") else ""
    extract = "x" in letters or "--extract" in args or "-x" in args or "--get" in args
    if not extract:
        return []
    target = None
    for i, a in enumerate(args):
        if a in ("-C", "--directory") and i + 1 < len(args):
            target = args[i + 1]
        elif a.startswith("--directory="):
            target = a.split("=", 1)[1]
        elif a.startswith("-C") and len(a) > 2:
            target = a[2:]
    if target is None:
        return []
    p = D.join(cwd, target)
    return [(p, f"`tar -x -C {target}`", "run", True)] if p else []

"""`apk add` without `--no-cache`.

## What it does
Finds `apk add` without `--no-cache`. When the same `RUN` also runs `apk update` just to fetch
the index for it, and `rm -rf /var/cache/apk/*` just to delete that index again, those go too.
A `RUN` with a cache mount on `/var/cache/apk` (or `/etc/apk/cache`) is left alone.

## Why is this bad?
Without `--no-cache`, the package index (and with a cache configured, the packages) stays in
`/var/cache/apk` in the layer. `--no-cache` fetches a fresh index into memory and keeps nothing,
which also makes `apk update` and the cleanup unnecessary.

## Example
```dockerfile
RUN apk update && apk add curl && rm -rf /var/cache/apk/*
```
Use instead:
```dockerfile
RUN apk add --no-cache curl
```

An index a later step installs from without fetching it (a script copied from the build context,
an `ONBUILD RUN`, a RUN this rule does not rewrite, such as one in a build stage) keeps the RUN
as it is: the finding then says why and has no fix.

## Fix safety
Safe: `--no-cache` only changes where the index lives while apk runs. `apk update` is dropped
only when it has no options but `-q`/`-v`, sits in a plain `&&` chain, and every other apk command
is an `apk add` that now has `--no-cache` or an `apk del`; the `rm` is dropped only when all it removes
is `/var/cache/apk`.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..ecosystems import system
from ..facts.mounts import mount_covers
from ..findings import Edit, Finding
from ..shell import AND, ToolCommand, parse_rm, parse_tool
from ..suppress import suppressed_codes
from . import list_readers, package_runs
from .base import Context, MayChange, Pass, safe_fix

APK_CACHE = system.APK_CACHES[0]


class ApkNoCache(Pass):
    code = "DO107"
    may_change = MayChange(paths=("/var/cache/apk/*",))
    name = "apk-no-cache"
    summary = "apk add without --no-cache keeps the package index in the layer"
    fires_on = ("apk",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx, shipping=True):
            adds = [t for t in info.tools if t.manager == "apk" and t.subcommand == "add"
                    and not t.has_flag("--no-cache")]
            if not adds:
                continue
            if any(mount_covers(info.ins, c) for c in system.APK_CACHES):
                continue
            message = "`apk add` without `--no-cache` keeps the package index in the layer"
            kept = _index_needed(ctx, info)
            if kept:
                yield self.finding(info.ins, f"{message}, but {kept}: it is kept")
                continue
            fix = None
            if info.editable:
                edits = [package_runs.insert(info, t.flag_insert_at, " --no-cache") for t in adds]
                edits += _tidy(info)
                fix = safe_fix("Use apk add --no-cache", *edits)
            yield self.finding(info.ins, message, fix)


def _index_needed(ctx: Context, info: package_runs.RunInfo) -> str:
    """Why a later step needs the index this RUN leaves ("" when every later reader is a RUN this
    rule gives `--no-cache` too, so it fetches its own)."""
    readers = list_readers.later_readers(ctx, info.ins, list_readers.APK)
    if readers.blockers:
        return "; ".join(reason for _ins, reason in readers.blockers)
    for later, command in readers.fixable:
        tool = parse_tool(command)
        if tool is None or tool.manager != "apk":
            return f"line {later.ins.start_line} runs {command.name}, which installs from it"
        stage = ctx.stage(later.ins)
        if stage is None or not ctx.graph.ships(stage) or not later.editable or \
                any(code in ("DO107", "DO1") for code in suppressed_codes(later.ins)):
            return f"line {later.ins.start_line} installs from it and keeps doing so"
    return ""


def _tidy(info: package_runs.RunInfo) -> list[Edit]:
    """Drop `apk update &&` and `&& rm -rf /var/cache/apk/*` when they only serve the adds."""
    if not info.script.is_and_chain:
        return []
    apk = [t for t in info.tools if t.manager == "apk"]
    updates = [t for t in apk if t.subcommand == "update"]
    if not updates or any(t.subcommand not in ("add", "update", "del") for t in apk):
        return []
    first_add = min((t.command.start for t in apk if t.subcommand == "add"), default=None)
    if first_add is None:
        return []
    dropped = _drop_updates(info, updates, first_add)
    if dropped is None:
        return []
    return dropped + _drop_cache_removals(info, first_add)


def _drop_updates(info: package_runs.RunInfo, updates: list[ToolCommand], first_add: int) -> list[Edit] | None:
    """Edits deleting each plain `apk update &&` before the first add; None when one is not plain."""
    chain = info.script.chain
    edits = []
    for t in updates:
        c = t.command
        if c.scopes or (c.wrappers and any(w.text != "sudo" for w in c.wrappers)) or c.assignments or c.redirects:
            return None
        if any(f.name not in ("-q", "--quiet", "-v", "--verbose") for f in t.flags) or t.operands:
            return None
        if c.start > first_add or c.next_operator != AND:
            return None
        k = c.link
        if len(chain[k].commands) != 1 or k + 1 >= len(chain):
            return None
        edits.append(package_runs.delete(info, chain[k].start, chain[k + 1].start))
    return edits


def _drop_cache_removals(info: package_runs.RunInfo, first_add: int) -> list[Edit]:
    """Edits deleting each `&& rm -rf /var/cache/apk/*` after the first add."""
    chain = info.script.chain
    edits = []
    for k, link in enumerate(chain):
        if k == 0 or len(link.commands) != 1:
            continue
        c = link.commands[0]
        rm = parse_rm(c)
        if rm is None or c.start < first_add or c.scopes or c.redirects or not rm.paths:
            continue
        if all(p is not None and (p.rstrip("/") == APK_CACHE or p.startswith(APK_CACHE + "/"))
               for p in rm.path_texts):
            prev = chain[k - 1]
            if prev.append_at != prev.end or prev.operator != AND:
                continue
            edits.append(package_runs.delete(info, prev.end, link.end))
    return edits

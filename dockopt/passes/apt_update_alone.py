"""`apt-get update` in a RUN of its own, or an `apt-get install` with no update before it.

## What it does
Finds a `RUN` that runs `apt-get update` (or `apt update`) but installs nothing, while a later
`RUN` of the stage, or of a stage built `FROM` it, installs from the lists it fetched. It also
finds an `apt-get install` that no `apt-get update` precedes at all: neither in its own `RUN`
nor earlier in the stage.

## Why is this bad?
Docker caches each layer on its own. Once `RUN apt-get update` is cached, a later change to the
install line rebuilds only that line, against package lists that may be weeks old: packages
that were updated in the archive since then fail to download (404), or old versions get
installed. An install with no update at all fails on the official Debian and Ubuntu images,
which ship without package lists.

## Example
```dockerfile
RUN apt-get update
COPY requirements.txt .
RUN apt-get install -y python3
```
Use instead:
```dockerfile
COPY requirements.txt .
RUN apt-get update && apt-get install -y python3
```

## Fix safety
Safe: each install gets its own `apt-get update &&` in front (behind the same `sudo`), so the
lists it reads are fetched in the same layer. A lone update whose lists the very next `RUN`
reads is removed along with it, since nothing in between can use them; when the two `RUN`s are
consecutive DO101 merges them instead. Installs inside `$( )`, conditions, background jobs or
after `||`/`|` get no prefix (the finding is still reported).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..ecosystems import system
from ..findings import Edit, Finding
from ..shell import SimpleCommand, parse_tool
from . import list_readers, package_runs
from .base import Context, Pass, safe_fix

_TEXT_UPDATE = re.compile(r"\bapt(?:-get|itude)?\b[^;&|\n]*?\bupdate\b")


class AptUpdateAlone(Pass):
    code = "DO102"
    name = "apt-update-alone"
    summary = "apt-get update belongs in the same RUN as the apt-get install that needs it"
    fires_on = ("apt",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx):
            if info.apt_updates and not info.apt_consumers:
                finding = self._lone_update(ctx, info)
                if finding is not None:
                    yield finding
            elif not info.apt_updates:
                finding = self._no_update(ctx, info)
                if finding is not None:
                    yield finding

    def _lone_update(self, ctx: Context, info: package_runs.RunInfo) -> Finding | None:
        readers = list_readers.later_readers(ctx, info.ins)
        if not readers.fixable:
            return None          # nothing reads the lists, or only what dockopt cannot see into
        lines = ", ".join(str(later.ins.start_line) for later, _c in readers.fixable)
        edits = [package_runs.prefix_apt_update(later, command) for later, command in readers.fixable]
        fix = None
        if all(e is not None for e in edits):
            kept = [e for e in edits if e is not None]
            if not readers.blockers and self._removable(ctx, info, readers.fixable[0][0]):
                kept.append(Edit(info.ins.start, info.ins.end, ""))
                title = f"Move apt-get update into the RUN on line {lines}"
            else:
                title = f"Add apt-get update to the RUN on line{'s' if len(edits) > 1 else ''} {lines}"
            fix = safe_fix(title, *kept)
        return self.finding(
            info.ins,
            f"`apt-get update` runs alone in its layer; the install on line {lines} may reuse a "
            f"cached, stale copy of it", fix)

    @staticmethod
    def _removable(ctx: Context, info: package_runs.RunInfo, first: package_runs.RunInfo) -> bool:
        """The RUN only updates, and the next RUN is the one that reads the lists."""
        if not info.script.is_and_chain or any(c.scopes for c in info.script.commands):
            return False
        if len(info.apt_updates) != len(info.script.commands) or info.ins.flags:
            return False
        if any(f.name not in ("-q", "--quiet", "-qq", "-y", "--yes") for t in info.apt_updates for f in t.flags):
            return False
        for nxt in ctx.graph.after(info.ins):
            if nxt.keyword in ("RUN", "ONBUILD", "FROM"):
                return nxt is first.ins
        return False

    def _no_update(self, ctx: Context, info: package_runs.RunInfo) -> Finding | None:
        needing = [c for c in info.consumers_without_update
                   if c.program in system.APT_PROGRAMS and c.args and _subcommand(c) in system.APT_NEEDS_UPDATE]
        if not needing or _updated_earlier(ctx, info):
            return None
        edit = package_runs.prefix_apt_update(info, info.consumers_without_update[0])
        fix = safe_fix("Run apt-get update first", edit) if edit is not None else None
        return self.finding(
            info.ins, "`apt-get install` without `apt-get update`: the base image's package lists "
            "are missing or stale", fix)


def _subcommand(command: SimpleCommand) -> str | None:
    tool = parse_tool(command)
    return tool.subcommand if tool is not None else None


def _updated_earlier(ctx: Context, info: package_runs.RunInfo) -> bool:
    for ins in ctx.graph.before(info.ins):
        if ins.keyword not in ("RUN", "ONBUILD"):
            continue
        earlier = package_runs.run_info(ctx, ins) if ins.keyword == "RUN" else None
        if earlier is not None:
            if earlier.apt_updates:
                return True
        elif _TEXT_UPDATE.search(ins.source):
            return True      # exec form, another SHELL, a script that does not parse
    return False

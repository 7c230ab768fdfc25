"""The package lists `apt-get update` fetched stay in the image.

## What it does
Finds a `RUN` that runs `apt-get update` and installs from the lists, but does not remove
`/var/lib/apt/lists/*` afterwards. A `RUN` whose lists sit on a cache or tmpfs mount
(`--mount=type=cache,target=/var/lib/apt/lists`) has nothing to clean. When a later `RUN` of
the stage, or of a stage built `FROM` it, still installs from these lists without an update of
its own, that `RUN` gets its own `apt-get update` first.

## Why is this bad?
The lists are tens of megabytes per layer and only describe the archive at build time; a
container never needs them (and must not trust them: they go stale). Deleting them in a later
`RUN` does not help, since the layer that wrote them keeps them.

## Example
```dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl
```
Use instead:
```dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
```

## Fix safety
Safe: package lists are a cache that `apt-get update` rebuilds. ` && rm -rf
/var/lib/apt/lists/*` goes at the end of the script, so it runs once everything before it
succeeded and the `RUN` fails exactly when it did before (behind the update's `sudo`, when a
non-root USER ran it). The fix is never applied while a later step would read the lists without
updating: a later `RUN` of the stage or of a stage built `FROM` it, or a script such a `RUN` runs
from the build context (read when the context is at hand), gets `apt-get update &&` first. A
script dockopt cannot read or follow, or an `ONBUILD RUN` that installs or runs a script in every
child image, keeps the lists: the finding says so and has no fix. A script that ends in
`exit`/`exec` or a background job is reported without a fix. Stages whose layers never ship are
left alone.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..ecosystems import system
from ..facts.mounts import mount_covers
from ..findings import Edit, Finding
from . import list_readers, package_runs
from .base import Context, MayChange, Pass, safe_fix


class AptListsCleanup(Pass):
    code = "DO104"
    may_change = MayChange(paths=("/var/lib/apt/lists/*",))
    name = "apt-lists-cleanup"
    summary = "Remove /var/lib/apt/lists/* in the RUN that ran apt-get update"
    fires_on = ("apt",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx, shipping=True):
            if not info.apt_updates or info.cleans_apt_lists or not _installs(ctx, info):
                continue
            if mount_covers(info.ins, system.APT_LISTS):
                continue
            readers = list_readers.later_readers(ctx, info.ins)
            if readers.blockers:
                why = "; ".join(reason for _ins, reason in readers.blockers)
                yield self.finding(
                    info.ins, f"the package lists `apt-get update` fetched stay in the image, but line "
                    f"{readers.lines} may still install from them ({why}): they are kept")
                continue
            if readers.fixable:
                edits = [package_runs.prefix_apt_update(later, command) for later, command in readers.fixable]
                fix = None
                if all(e is not None for e in edits):
                    fix = safe_fix(f"Add apt-get update to line {readers.lines}", *[e for e in edits if e])
                yield self.finding(
                    info.ins, f"the package lists stay in this layer, and line {readers.lines} still installs "
                    "from them: it needs its own `apt-get update` before they can go", fix)
                continue
            edit = _remove_lists(info)
            yield self.finding(
                info.ins, "the package lists `apt-get update` fetched stay in the image: remove "
                "/var/lib/apt/lists/* in the same RUN",
                safe_fix("Remove /var/lib/apt/lists/*", edit) if edit is not None else None)


def _installs(ctx: Context, info: package_runs.RunInfo) -> bool:
    """After its update, the RUN installs from the lists: itself, or through a script it runs."""
    if info.apt_consumers:
        return True
    first = min(u.command.start for u in info.apt_updates)
    return any(c.start > first and list_readers.script_reads(ctx, info, c, list_readers.APT) not in (None, False)
               for c in info.commands)


def _remove_lists(info: package_runs.RunInfo) -> Edit | None:
    """` && rm -rf /var/lib/apt/lists/*` at the end of the script, behind the `sudo` the update
    ran with (a non-root USER cannot delete the lists)."""
    update = info.apt_updates[0].command
    sudo = any(w.text in ("sudo", "doas") for w in update.wrappers)
    prefix = package_runs.wrappers_text(info, update) if sudo else ""
    return package_runs.append_command(info, prefix + system.APT_LISTS_CLEANUP)

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
succeeded and the `RUN` fails exactly when it did before. The fix is never applied while a
later `RUN` that apt-get installs without updating would read the lists: that `RUN` gets
`apt-get update &&` first. A script that ends in `exit`/`exec` or a background job is
reported without a fix. A script run by the `RUN` (`./install.sh`) that installs packages without
updating is not seen.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..ecosystems import system
from ..facts.mounts import mount_covers
from ..findings import Finding
from . import package_runs
from .base import Context, Pass, safe_fix


class AptListsCleanup(Pass):
    code = "DO104"
    name = "apt-lists-cleanup"
    summary = "Remove /var/lib/apt/lists/* in the RUN that ran apt-get update"
    fires_on = ("apt",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx):
            if not info.apt_updates or not info.apt_consumers or info.cleans_apt_lists:
                continue
            if mount_covers(info.ins, system.APT_LISTS):
                continue
            later = package_runs.later_consumers_without_update(ctx, info.ins)
            if later:
                lines = ", ".join(str(i.ins.start_line) for i in later)
                edits = package_runs.prefix_edits(later)
                fix = safe_fix(f"Add apt-get update to line {lines}", *edits) if edits else None
                yield self.finding(
                    info.ins, f"the package lists stay in this layer, and line {lines} still installs "
                    "from them: it needs its own `apt-get update` before they can go", fix)
                continue
            edit = package_runs.append_command(info, system.APT_LISTS_CLEANUP)
            yield self.finding(
                info.ins, "the package lists `apt-get update` fetched stay in the image: remove "
                "/var/lib/apt/lists/* in the same RUN",
                safe_fix("Remove /var/lib/apt/lists/*", edit) if edit is not None else None)

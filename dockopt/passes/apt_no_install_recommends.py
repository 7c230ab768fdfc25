"""`apt-get install` without `--no-install-recommends`.

## What it does
Finds `apt-get install` (and `apt install`) without `--no-install-recommends` (or
`-o APT::Install-Recommends=false`).

## Why is this bad?
By default apt also installs every package the requested ones merely *recommend*: documentation
tools, X11 libraries, compilers. They often double an image's size, widen its attack surface and
are rarely needed in a container.

## Example
```dockerfile
RUN apt-get update && apt-get install -y curl
```
Use instead:
```dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates
```

## Fix safety
Unsafe: it changes what is installed, and something in the image may use a recommended package
without naming it. The most common case is handled: `curl`, `wget`, `git` and `gnupg` only
recommend `ca-certificates`, without which every HTTPS download fails, so the fix adds
`ca-certificates` to the package list when it is not there. When all packages are pinned to
versions the fix is only displayed (it would add an unpinned package); when the package list is
built at run time (`$PACKAGES`) it cannot tell and adds only the flag.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding, Fix, Safety
from ..shell import ToolCommand
from . import package_runs
from .base import PACKAGE_TREE, Context, MayChange, Pass

NEEDS_CA = frozenset({"curl", "wget", "git", "gnupg", "gnupg2", "gpg", "dirmngr", "git-core"})
OFF = frozenset({"false", "0", "no", "off"})


def disables_recommends(tool: ToolCommand) -> bool:
    if tool.has_flag("--no-install-recommends"):
        return True
    for f in tool.flags:
        value = (f.value or "").replace(" ", "").replace('"', "")
        if f.name in ("-o", "--option") and "=" in value:
            key, _eq, val = value.partition("=")
            if key.lower() == "apt::install-recommends" and val.lower() in OFF:
                return True
        if f.name == "--install-recommends" and value.lower() in OFF:
            return True
    return False


class AptNoInstallRecommends(Pass):
    code = "DO106"
    may_change = MayChange(paths=PACKAGE_TREE)  # recommended packages no longer installed
    name = "apt-no-install-recommends"
    summary = "apt-get install without --no-install-recommends pulls in recommended packages"
    severity = "info"
    fires_on = ("apt",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx, shipping=True):
            tools = [t for t in info.apt("install") if t.command.program in ("apt-get", "apt")
                     and not disables_recommends(t)]
            if not tools:
                continue
            edits = []
            display = False
            ca_added = False
            for t in tools:
                edits.append(package_runs.insert(info, t.flag_insert_at, " --no-install-recommends"))
                names = {p.name for p in t.packages}
                if names & NEEDS_CA and "ca-certificates" not in names and not ca_added \
                        and not _ca_installed(ctx, info) and t.packages:
                    if all(p.operator == "=" for p in t.packages):
                        display = True
                    last = max(t.packages, key=lambda p: p.word.end).word
                    edits.append(package_runs.insert(info, last.end, " ca-certificates"))
                    ca_added = True
            fix = None
            if info.editable:
                title = "Add --no-install-recommends" + (" and ca-certificates" if ca_added else "")
                fix = Fix(title, Safety.DISPLAY if display else Safety.UNSAFE, tuple(edits))
            yield self.finding(
                info.ins, "`apt-get install` without `--no-install-recommends` also installs recommended "
                "packages (unsafe fix: the image may rely on one of them)", fix)


def _ca_installed(ctx: Context, info: package_runs.RunInfo) -> bool:
    for t in info.apt("install"):
        if any(p.name == "ca-certificates" for p in t.packages):
            return True
    return any(ins.keyword == "RUN" and "ca-certificates" in ins.source for ins in ctx.graph.before(info.ins))

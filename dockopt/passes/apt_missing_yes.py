"""`apt-get install` (or upgrade, remove, purge) without `-y`.

## What it does
Finds `apt-get`/`apt` commands that may stop to ask "Do you want to continue? [Y/n]" —
`install`, `reinstall`, `upgrade`, `dist-upgrade`, `full-upgrade`, `remove`, `purge`,
`autoremove`, `build-dep`, `satisfy` — without `-y`/`--yes`/`--assume-yes` (or `-qq`, which
implies `-y` for apt-get, or `-o APT::Get::Assume-Yes=true`).

## Why is this bad?
A build has no terminal to answer the prompt: apt reads end-of-file, takes it as "no" and
aborts, and the build fails as soon as the command has anything to ask about — typically after
a base image update pulls in an extra dependency.

## Example
```dockerfile
RUN apt-get update && apt-get install curl
```
Use instead:
```dockerfile
RUN apt-get update && apt-get install -y curl
```

## Fix safety
Safe: ` -y` goes right after the subcommand. It only answers the prompt apt would otherwise
abort on; it does not allow removing essential packages or downgrades (`--allow-*` would).
"""
from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import package_runs
from .base import Context, Pass

PROMPTING = frozenset({"install", "reinstall", "upgrade", "dist-upgrade", "full-upgrade", "remove",
                       "purge", "autoremove", "auto-remove", "build-dep", "satisfy"})


class AptMissingYes(Pass):
    code = "DO103"
    name = "apt-missing-yes"
    summary = "apt-get install without -y aborts on a prompt"
    severity = "error"
    fires_on = ("apt",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx):
            tools = [t for t in info.apt(*PROMPTING) if t.command.program != "aptitude" and not t.assumes_yes]
            if not tools:
                continue
            names = ", ".join(sorted({f"{t.command.program} {t.subcommand}" for t in tools}))
            yield self.finding(info.ins, f"`{names}` without `-y`: the build has no terminal to answer its prompt",
                               package_runs.add_flag(info, tools, "-y"))

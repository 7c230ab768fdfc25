"""`apt` in a RUN instead of `apt-get`.

## What it does
Finds `apt install`, `apt update`, `apt upgrade`, `apt full-upgrade`, `apt remove`,
`apt purge`, `apt autoremove`, `apt reinstall`, `apt clean` and `apt autoclean` in a `RUN`.
Queries with no `apt-get` twin (`apt list`, `apt search`, `apt show`) are left alone.

## Why is this bad?
`apt` is the interactive front end: its output, its progress bar and even its defaults may
change between releases, and it warns "apt does not have a stable CLI interface. Use with
caution in scripts." `apt-get` is the interface meant for scripts.

## Example
```dockerfile
RUN apt update && apt install -y curl
```
Use instead:
```dockerfile
RUN apt-get update && apt-get install -y curl
```

## Fix safety
Safe: the command word becomes `apt-get` with the same options and packages. The two differ
only in two subcommands, which are translated: `apt upgrade` also installs new dependencies,
which is `apt-get upgrade --with-new-pkgs`, and `apt full-upgrade` is `apt-get dist-upgrade`.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..findings import Edit, Finding
from ..shell import ToolCommand
from . import package_runs
from .base import Context, Pass, safe_fix

SAME = frozenset({"install", "update", "remove", "purge", "autoremove", "reinstall", "clean",
                  "autoclean", "dist-upgrade", "build-dep", "source", "download", "satisfy"})


class AptNotAptGet(Pass):
    code = "DO105"
    name = "apt-not-apt-get"
    summary = "Use apt-get, not apt, in scripts"
    fires_on = ("apt",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx):
            tools = [t for t in info.apt() if t.command.program == "apt"
                     and t.subcommand in SAME | {"upgrade", "full-upgrade"}]
            if not tools:
                continue
            edits = _edits(info, tools) if info.editable else None
            names = ", ".join(sorted({f"apt {t.subcommand}" for t in tools}))
            yield self.finding(info.ins, f"`{names}`: apt's command line is not stable for scripts; use apt-get",
                               safe_fix("Use apt-get", *edits) if edits else None)


def _edits(info: package_runs.RunInfo, tools: list[ToolCommand]) -> list[Edit] | None:
    """`apt` → `apt-get` (`upgrade` gains --with-new-pkgs, `full-upgrade` becomes `dist-upgrade`);
    None when one of them cannot be rewritten."""
    edits: list[Edit] = []
    for t in tools:
        word = t.tool_word
        edit = package_runs.replace(info, word.start, word.end, word.raw + "-get")
        if word.raw != word.text or not word.raw.endswith("apt") or edit is None:
            return None
        edits.append(edit)
        sub = t.subcommand_words[-1]
        if t.subcommand == "upgrade" and not t.has_flag("--with-new-pkgs"):
            edits.append(package_runs.insert(info, t.flag_insert_at, " --with-new-pkgs"))
        elif t.subcommand == "full-upgrade":
            edit = package_runs.replace(info, sub.start, sub.end, "dist-upgrade")
            if edit is None or sub.raw != "full-upgrade":
                return None
            edits.append(edit)
    return edits

"""yum, dnf, microdnf and zypper: installs that prompt, and package caches left in the layer.

## What it does
Finds `yum`/`dnf`/`tdnf` commands that may ask for confirmation (`install`, `remove`, `update`,
`upgrade`, `group install`, ...) without `-y`/`--assumeyes`, and `zypper` ones without the
global `-n`/`--non-interactive` (or `-y`/`--no-confirm` after the subcommand); and installs or
upgrades whose `RUN` does not end with `yum clean all` / `dnf clean all` / `microdnf clean all`
/ `zypper clean -a`. A `RUN` with a cache or tmpfs mount on the package cache, or one that
installs into another root (`--installroot`, `--root`), is left alone.

## Why is this bad?
Without `-y` the build aborts on the first prompt (there is no terminal). Without the clean,
the repository metadata (often 100+ MB for EPEL or the Fedora repositories) and the downloaded
packages stay in `/var/cache/yum`, `/var/cache/dnf` or `/var/cache/zypp` in the layer.

## Example
```dockerfile
RUN yum install httpd
```
Use instead:
```dockerfile
RUN yum install -y httpd && yum clean all
```

## Fix safety
Safe: `-y` goes after the subcommand (`-n` before it, for zypper: it is a global option), and
` && <tool> clean all` right after the last command that uses the tool, behind the same `sudo`,
so it runs only when that command succeeded and before anything later can remove the tool
(`rpm -e --nodeps dnf`). Where it cannot follow it (a pipeline, a condition) it goes at the end,
unless a later command removes the tool: then only the `-y` is fixed and the message says why.
The cache is only cleaned in stages whose layers ship. microdnf never prompts and gets no `-y`.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..ecosystems import system
from ..facts.mounts import mount_covers
from ..findings import Edit, Finding
from ..shell import SimpleCommand, ToolCommand, parse_rm
from . import cleanup, package_runs
from .base import Context, Pass, safe_fix

RPM = frozenset({"yum", "dnf", "microdnf", "tdnf", "dnf5"})
PROMPTING = frozenset({"install", "reinstall", "remove", "update", "upgrade", "downgrade", "autoremove",
                       "group install", "group update", "group remove", "groups install",
                       "module install", "swap", "distro-sync", "builddep", "upgrade-minimal",
                       "update-minimal"})
FILLING = frozenset({"install", "reinstall", "update", "upgrade", "downgrade", "group install",
                     "group update", "groups install", "module install", "swap", "distro-sync",
                     "builddep", "upgrade-minimal", "update-minimal", "makecache"})
ZYPPER_PROMPTING = frozenset({"install", "remove", "update", "dist-upgrade", "patch", "source-install"})
ZYPPER_FILLING = frozenset({"install", "update", "dist-upgrade", "patch", "source-install", "refresh"})
CACHES = system.RPM_CACHES


def _removes_cache(command: SimpleCommand) -> bool:
    rm = parse_rm(command)
    if rm is None:
        return False
    return any(p is not None and any(p.rstrip("/") == c or p.startswith(c + "/") for c in CACHES)
               for p in rm.path_texts)


class RpmClean(Pass):
    code = "DO110"
    name = "rpm-clean"
    summary = "yum/dnf/zypper install without -y, or without cleaning its cache"
    fires_on = ("yum", "dnf", "zypper")

    def check(self, ctx: Context) -> Iterable[Finding]:
        for stage, info in package_runs.run_infos(ctx):
            tools = [t for t in info.tools if t.manager in RPM or t.manager == "zypper"]
            if not tools or any(t.has_flag("--installroot", "-R", "--root") for t in tools):
                continue
            edits, problems = self._prompts(info, tools)
            blocked = []
            # the cache only matters in a stage whose layers ship
            for text, placement in (self._cleanups(info, tools) if ctx.graph.ships(stage) else []):
                problems.append(f"its package cache is not cleaned (`{text}`)")
                if placement.edit is not None:
                    edits.append(placement.edit)
                else:
                    blocked.append(placement.reason)
            if not problems:
                continue
            fix = None
            if edits and info.editable:
                fix = safe_fix("Add -y" if blocked else "Add -y and clean the package cache", *edits)
            message = "; ".join(problems) + (f" ({'; '.join(blocked)})" if blocked else "")
            yield self.finding(info.ins, message, fix)

    @staticmethod
    def _prompts(info: package_runs.RunInfo, tools: list[ToolCommand]) -> tuple[list[Edit], list[str]]:
        """The `-y`/`-n` each prompting command lacks: (edits, problems)."""
        edits: list[Edit] = []
        problems = []
        for t in tools:
            if t.manager == "zypper":
                if t.subcommand in ZYPPER_PROMPTING and not t.assumes_yes and t.subcommand_words:
                    edits.append(package_runs.insert(info, t.subcommand_words[0].start, "-n "))
                    problems.append(f"`zypper {t.subcommand}` without `-n`")
            elif t.subcommand in PROMPTING and t.manager != "microdnf" and not t.assumes_yes:
                edits.append(package_runs.insert(info, t.flag_insert_at, " -y"))
                problems.append(f"`{t.manager} {t.subcommand}` without `-y`")
        return edits, problems

    @staticmethod
    def _cleanups(info: package_runs.RunInfo, tools: list[ToolCommand]) -> list[tuple[str, cleanup.Placement]]:
        """The clean commands the RUN lacks, each placed right after the last command of its tool:
        one per tool that filled a cache and did not clean it after its last install."""
        if any(mount_covers(info.ins, c) for c in CACHES):
            return []
        commands: dict[str, tuple[str, ToolCommand]] = {}
        removals = [c.start for c in info.commands if _removes_cache(c)]
        for t in sorted(tools, key=lambda t: t.command.start):
            program = t.tool_word.text or ""
            fills = t.subcommand in (ZYPPER_FILLING if t.manager == "zypper" else FILLING)
            if fills:
                prefix = package_runs.wrappers_text(info, t.command) + t.tool_word.raw
                commands[program] = (f"{prefix} clean -a" if t.manager == "zypper" else f"{prefix} clean all", t)
            elif t.subcommand == "clean":
                commands.pop(program, None)
        last_fill = max((t.command.start for t in tools
                         if (t.subcommand in (ZYPPER_FILLING if t.manager == "zypper" else FILLING))), default=-1)
        if any(r > last_fill for r in removals):
            return []          # `rm -rf /var/cache/yum` after the last install
        out = []
        for program, (text, t) in commands.items():
            last_use = max((u.command for u in tools if (u.tool_word.text or "") == program), key=lambda c: c.start)
            out.append((text, cleanup.place(info, last_use, text, program, (program, t.manager))))
        return out

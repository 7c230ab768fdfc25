"""`pip install` without `--no-cache-dir`.

## What it does
Finds `pip install` (`pip`, `pip3`, `pip3.12`, `python -m pip`, `python3 -m pip`) without
`--no-cache-dir`. Nothing is reported when the cache is already off or out of the layer:
`PIP_NO_CACHE_DIR` is set (by `ENV`, an `ARG` default, or on the command), a cache or tmpfs
mount holds `~/.cache/pip`, or `--cache-dir` names a directory of pip's own choosing.

## Why is this bad?
pip keeps every wheel it downloads or builds in `~/.cache/pip`. In an image the cache is never
read again, and it often weighs as much as the installed packages.

## Example
```dockerfile
RUN pip install -r requirements.txt
```
Use instead:
```dockerfile
RUN pip install --no-cache-dir -r requirements.txt
```

## Fix safety
Safe: the cache only speeds up a later install in the same layer. pip reads any boolean value of
`PIP_NO_CACHE_DIR` (`1`, `true`, `yes`, and — for backward compatibility — `0`, `false`,
`no`) as "no cache".
"""
from __future__ import annotations

from collections.abc import Iterable

from ..ecosystems.caches import cache_dirs
from ..facts.mounts import mount_covers
from ..findings import Finding
from ..shell import ToolCommand
from . import cleanup, package_runs
from .base import Context, Pass

BOOLEANS = frozenset({"1", "0", "true", "false", "yes", "no", "on", "off", "y", "n", "t", "f"})


def cache_off(value: str | None) -> bool:
    return value is not None and value.strip().strip("'\"").lower() in BOOLEANS


# pip reads options with Python's optparse, which takes any unambiguous prefix of a long option:
# `--no-cache` is `--no-cache-dir` (`--no-c` is not: --no-color, --no-clean, --no-compile)
_CACHE_OPTIONS = (("--no-cache-dir", "--no-ca"), ("--cache-dir", "--ca"))
PIP_CACHE = "/.cache/pip"


def cache_option(name: str) -> bool:
    """`name` is `--no-cache-dir` or `--cache-dir`, written out or abbreviated as pip accepts."""
    name = name.split("=", 1)[0]
    return any(full.startswith(name) and name.startswith(shortest) for full, shortest in _CACHE_OPTIONS)


class PipNoCacheDir(Pass):
    code = "DO108"
    name = "pip-no-cache-dir"
    summary = "pip install without --no-cache-dir keeps pip's cache in the layer"
    fires_on = ("pip",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx, shipping=True):
            tools = [t for t in info.tools if t.manager == "pip" and t.subcommand == "install"
                     and not any(cache_option(f.name) for f in t.flags)
                     and not any(a.name == "PIP_NO_CACHE_DIR" for a in t.command.assignments)]
            if not tools or cache_off(ctx.state(info.ins).value("PIP_NO_CACHE_DIR")):
                continue
            if "PIP_NO_CACHE_DIR=" in info.script.text or _mounted(ctx, info) or _cleaned(ctx, info, tools):
                continue
            yield self.finding(info.ins, "`pip install` without `--no-cache-dir` keeps downloaded wheels in the layer",
                               package_runs.add_flag(info, tools, "--no-cache-dir"))


def _cleaned(ctx: Context, info: package_runs.RunInfo, tools: list[ToolCommand]) -> bool:
    """After the last install, the RUN empties the cache itself: `pip cache purge`, or an `rm` of
    `~/.cache/pip` (or of `~/.cache`, or of PIP_CACHE_DIR)."""
    last = max(t.command.start for t in tools)
    if any(t.manager == "pip" and t.subcommand in ("cache purge", "cache remove") and t.command.start > last
           for t in info.tools):
        return True
    where = cleanup.home(ctx, info)
    dirs = [where + PIP_CACHE, "/root" + PIP_CACHE]
    cache_dir = ctx.state(info.ins).value("PIP_CACHE_DIR")
    if cache_dir:
        dirs.append(cache_dir)
    return cleanup.removed_by_hand(ctx, info, last, dirs)


def _mounted(ctx: Context, info: package_runs.RunInfo) -> bool:
    """A cache or tmpfs mount holds the directory each pip install of the RUN caches in (read from
    the variables each command sees, as DO112 reads it), or one of the usual cache places."""
    state = ctx.state(info.ins)
    envs = {id(step.command): step.env for step in ctx.steps(info.ins)}
    mounts = [m for m in ctx.mounts(info.ins) if m.type in ("cache", "tmpfs")]
    kinds = ("cache", "tmpfs")
    for tool in info.tools:
        if tool.manager != "pip" or tool.subcommand != "install":
            continue
        use = cache_dirs("pip", envs.get(id(tool.command), state.values), state.user_is_root)
        if use is not None and all(any(m.covers(d, kinds) for m in mounts) for d in use.directories):
            return True
    cache_dir = state.value("PIP_CACHE_DIR")
    for m in mounts:
        target = m.target or ""
        if target.endswith(("/.cache/pip", "/.cache")) or target == "/root" or (
                cache_dir and mount_covers(info.ins, cache_dir)):
            return True
    return False

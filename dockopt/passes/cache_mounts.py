"""Package caches deleted on every build, where a BuildKit cache mount would keep them.

## What it does
Only in a Dockerfile that opts into BuildKit's syntax (`# syntax=docker/dockerfile:1...`): finds
`pip install --no-cache-dir` run as root, and suggests a cache mount on pip's cache instead
(`RUN --mount=type=cache,target=/root/.cache/pip pip install ...`). For apt (`apt-get update &&
apt-get install ... && rm -rf /var/lib/apt/lists/*`) and npm (`npm ci && npm cache clean
--force`) the cache mounts are only suggested, with what they need.

## Why is this bad?
`--no-cache-dir` and the cleanups keep the image small, but every rebuild downloads every
package again. A cache mount keeps the files on the builder, outside every layer: the image is
as small, and a rebuild after a change to the package list only fetches what is new.

## Example
```dockerfile
# syntax=docker/dockerfile:1
FROM python:3.12-slim
RUN pip install --no-cache-dir -r requirements.txt
```
Use instead:
```dockerfile
# syntax=docker/dockerfile:1
FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Fix safety
Unsafe (pip) and display-only (apt, npm): the image's content does not change, but the build
does — it needs BuildKit, and the cache is shared between builds on one builder. For pip the
fix is offered only when the `RUN` runs as root (no `USER` other than root before it) and
`PIP_CACHE_DIR` is not set. For apt a cache mount of `/var/cache/apt` is useless on the
official Debian/Ubuntu images until `/etc/apt/apt.conf.d/docker-clean` is removed and
`Binary::apt::APT::Keep-Downloaded-Packages "true";` is configured, which dockopt does not do
for you; both mounts need `sharing=locked`, since apt locks its directories.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..ecosystems import python, system
from ..facts.mounts import mount_covers
from ..findings import Edit, Finding, Fix, Safety
from ..syntax import arguments
from . import package_runs
from .base import Context, Pass, unsafe_fix

_BUILDKIT_SYNTAX = re.compile(r"(^|/)docker/dockerfile(-upstream)?:(1|labs)\b")
PIP_MOUNT = f"--mount=type=cache,target={python.PIP_CACHE}"
APT_MOUNTS = ("--mount=type=cache,target=/var/cache/apt,sharing=locked "
              "--mount=type=cache,target=/var/lib/apt/lists,sharing=locked")
NPM_MOUNT = "--mount=type=cache,target=/root/.npm"


def opts_into_buildkit(ctx: Context) -> bool:
    syntax = ctx.tree.syntax
    return bool(syntax and _BUILDKIT_SYNTAX.search(syntax.strip()))


class CacheMounts(Pass):
    code = "DO112"
    name = "cache-mounts"
    summary = "Use a BuildKit cache mount instead of deleting package caches"
    fires_on = ("pip", "apt", "npm")

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not opts_into_buildkit(ctx):
            return
        for _stage, info in package_runs.run_infos(ctx):
            if not info.editable:
                continue
            finding = self._pip(ctx, info) or self._apt(info) or self._npm(info)
            if finding is not None:
                yield finding

    def _pip(self, ctx: Context, info: package_runs.RunInfo) -> Finding | None:
        tools = [t for t in info.tools if t.manager == "pip" and t.subcommand == "install"]
        flagged = [f for t in tools for f in t.flags if f.name == "--no-cache-dir"]
        if not flagged or mount_covers(info.ins, python.PIP_CACHE):
            return None
        if not ctx.state(info.ins).user_is_root or ctx.state(info.ins).value("PIP_CACHE_DIR"):
            return None
        edits = [_flag_insertion(info, PIP_MOUNT)]
        for f in flagged:
            word = f.word
            if word.raw != "--no-cache-dir" or info.script.text[word.start - 1:word.start] not in (" ", "\t"):
                return None
            edit = package_runs.replace(info, word.start - 1, word.end, "")
            if edit is None:
                return None
            edits.append(edit)
        return self.finding(info.ins, "pip downloads everything again on each build: a cache mount on "
                            "/root/.cache/pip keeps the image as small and the rebuild fast",
                            unsafe_fix("Use a cache mount for pip", *edits))

    def _apt(self, info: package_runs.RunInfo) -> Finding | None:
        if not (info.apt_updates and info.apt("install") and info.cleans_apt_lists):
            return None
        if mount_covers(info.ins, system.APT_CACHE) or mount_covers(info.ins, system.APT_LISTS):
            return None
        return self.finding(
            info.ins, "apt downloads the lists and packages again on each build: cache mounts on "
            "/var/cache/apt and /var/lib/apt/lists (sharing=locked) would keep them, once the image's "
            "docker-clean apt config is removed",
            Fix("Use cache mounts for apt", Safety.DISPLAY, (_flag_insertion(info, APT_MOUNTS),)))

    def _npm(self, info: package_runs.RunInfo) -> Finding | None:
        npm = [t for t in info.tools if t.manager == "npm"]
        if not any(t.subcommand in ("install", "ci") for t in npm) or \
                not any(t.subcommand == "cache clean" for t in npm):
            return None
        if mount_covers(info.ins, "/root/.npm"):
            return None
        return self.finding(info.ins, "npm downloads everything again on each build: a cache mount on "
                            "/root/.npm would keep its cache out of the image without `npm cache clean`",
                            Fix("Use a cache mount for npm", Safety.DISPLAY, (_flag_insertion(info, NPM_MOUNT),)))


def _flag_insertion(info: package_runs.RunInfo, flag: str) -> Edit:
    ins = info.ins
    logical = ins.logical
    at = len(logical) - len(arguments.lstrip_go(logical)) + len(ins.parsed.keyword)
    offset = ins.logical_to_offset(at)
    return Edit(offset, offset, " " + flag)

"""`npm install`, `yarn install` or `pnpm install` leaves its package cache in the layer.

## What it does
Finds `npm install`/`npm ci` without `npm cache clean --force`, `yarn install` (or bare
`yarn`, `yarn add`, `yarn global add`) without `yarn cache clean`, and `pnpm install`/`pnpm add`
without `pnpm store prune`, in the same `RUN`. A `RUN` whose cache sits on a cache or tmpfs
mount, or that points the cache elsewhere (`--cache`, `--cache-folder`, `--store-dir`,
`npm_config_cache`, `YARN_CACHE_FOLDER`), is left alone.

## Why is this bad?
npm keeps every tarball it fetched in `~/.npm/_cacache`, yarn in
`/usr/local/share/.cache/yarn`: often as large as `node_modules` itself, and never read again
in the image.

## Example
```dockerfile
RUN npm ci
```
Use instead:
```dockerfile
RUN npm ci && npm cache clean --force
```

## Fix safety
Safe: the clean command runs the tool it cleans, so it goes right after the last command of the
`RUN` that uses that tool (behind the same `sudo -u`, so it cleans the same user's cache), before
anything later can remove the tool (`apt-get purge -y npm`, `npm uninstall -g yarn`, `rm`), change
directory or end the shell; it runs only when that command succeeded. Where it cannot follow it
(the last use feeds a pipeline, sits in a condition) it goes at the end of the script, unless a
later command removes the tool: then the finding has no fix. A `RUN` that deletes the cache by hand
after its install (`rm -rf ~/.npm`) is left alone, and so are stages whose layers never ship (a
build stage only read by `COPY --from`). Yarn 2+ ("berry") keeps the packages a Plug'n'Play
install runs from in its cache, so `RUN`s that show signs of it (`--immutable`, `corepack`,
`yarn set version`, `.yarnrc.yml`) are not touched.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..facts.mounts import mount_covers
from ..findings import Finding
from . import cleanup, package_runs
from .base import Context, Pass, safe_fix

if TYPE_CHECKING:  # imported by check: only a file that names npm, yarn or pnpm needs it
    from ..ecosystems import node

_BERRY = re.compile(r"corepack|yarnrc\.yml|yarn\s+set\s+version|berry|--immutable|yarn\s+dlx|\.pnp\.")

# the programs that run each manager (what "uses the tool" means for the cleanup's place)
PROGRAMS = {"npm": ("npm", "npx"), "yarn": ("yarn", "yarnpkg"), "pnpm": ("pnpm", "pnpx")}
# packages that bring each manager's program
PACKAGES = {"npm": ("npm", "nodejs"), "yarn": ("yarn", "yarnpkg"), "pnpm": ("pnpm",)}


class JsCacheClean(Pass):
    code = "DO109"
    name = "js-cache-clean"
    summary = "npm/yarn/pnpm install leaves its package cache in the layer"
    fires_on = ("npm", "yarn", "pnpm")

    def check(self, ctx: Context) -> Iterable[Finding]:
        from ..ecosystems import node

        for _stage, info in package_runs.run_infos(ctx, shipping=True):
            cleanups = [c for c in (self._cleanup(ctx, info, m, cache) for m, cache in node.CACHES.items())
                        if c is not None]
            if not cleanups:
                continue
            commands = " && ".join(text for text, _p in cleanups)
            edits = [p.edit for _t, p in cleanups if p.edit is not None]
            reasons = [p.reason for _t, p in cleanups if p.edit is None]
            message = f"the package cache stays in the layer: add `{commands}` to this RUN"
            if reasons:
                yield self.finding(info.ins, f"{message} ({'; '.join(reasons)})")
                continue
            yield self.finding(info.ins, message, safe_fix("Clean the package cache", *edits))

    @staticmethod
    def _cleanup(ctx: Context, info: package_runs.RunInfo, manager: str, cache: node.NodeCache
                 ) -> tuple[str, cleanup.Placement] | None:
        """(the clean command, where it goes) for one manager whose install leaves its cache."""
        tools = [t for t in info.tools if t.manager == manager]
        filling = [t for t in tools if t.subcommand in cache.filling]
        if not filling or any(t.subcommand == cache.cleaned_by for t in tools):
            return None
        if any(t.has_flag(*cache.options) for t in filling):
            return None
        if any(ctx.state(info.ins).value(v) for v in cache.variables) or any(
                a.name in cache.variables for t in filling for a in t.command.assignments):
            return None
        if any(mount_covers(info.ins, d) for d in cache.directories) or _mount_named(ctx, info, manager):
            return None
        if manager == "yarn" and _berry(ctx, info):
            return None
        last = max(filling, key=lambda t: t.command.start)
        if last.tool_word is not last.command.name_word:
            return None    # python -m style: not for these tools
        if cleanup.removed_by_hand(ctx, info, last.command.start, cache.directories):
            return None    # `rm -rf ~/.npm` after the install
        prefix = package_runs.wrappers_text(info, last.command) + last.tool_word.raw
        text = f"{prefix} {cache.clean}"
        uses = [c for c in info.commands if c.program in PROGRAMS[manager]]
        last_use = max(uses, key=lambda c: c.start)
        return text, cleanup.place(info, last_use, text, PROGRAMS[manager][0], PACKAGES[manager])


def _mount_named(ctx: Context, info: package_runs.RunInfo, manager: str) -> bool:
    for m in ctx.mounts(info.ins):
        target = m.target or ""
        if m.type in ("cache", "tmpfs") and (
                manager in target or target.endswith(("/.cache", "/.npm")) or target == "/root"):
            return True
    return False


def _berry(ctx: Context, info: package_runs.RunInfo) -> bool:
    return bool(_BERRY.search(ctx.text))

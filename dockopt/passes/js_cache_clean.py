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
Safe: the clean command goes at the end of the `RUN`'s script (behind the same `sudo -u`, so it
cleans the same user's cache), and runs only when everything before it succeeded. Yarn 2+
("berry") keeps the packages a Plug'n'Play install runs from in its cache, so `RUN`s that show
signs of it (`--immutable`, `corepack`, `yarn set version`, `.yarnrc.yml`) are not touched.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..findings import Finding
from . import _pkg
from .base import Context, Pass, safe_fix

_BERRY = re.compile(r"corepack|yarnrc\.yml|yarn\s+set\s+version|berry|--immutable|yarn\s+dlx|\.pnp\.")

# manager -> (subcommands that fill the cache, the clean command, the cache's usual places,
#             options and variables that move the cache)
MANAGERS = {
    "npm": (frozenset({"install", "ci"}), "cache clean --force",
            ("/root/.npm", "/home/node/.npm"), ("--cache",), ("npm_config_cache", "NPM_CONFIG_CACHE")),
    "yarn": (frozenset({"install", "add", "global add"}), "cache clean",
             ("/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/node/.cache/yarn"),
             ("--cache-folder",), ("YARN_CACHE_FOLDER", "yarn_cache_folder")),
    "pnpm": (frozenset({"install", "add"}), "store prune",
             ("/root/.local/share/pnpm/store", "/root/.pnpm-store", "/pnpm/store"),
             ("--store-dir",), ("npm_config_store_dir", "PNPM_HOME")),
}
CLEANS = {"npm": "cache clean", "yarn": "cache clean", "pnpm": "store prune"}


class JsCacheClean(Pass):
    code = "DO109"
    name = "js-cache-clean"
    summary = "npm/yarn/pnpm install leaves its package cache in the layer"
    fires_on = ("npm", "yarn", "pnpm")

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in _pkg.run_infos(ctx):
            commands = []
            for manager, (subs, clean, dirs, options, variables) in MANAGERS.items():
                tools = [t for t in info.tools if t.manager == manager]
                filling = [t for t in tools if t.subcommand in subs]
                if not filling or any(t.subcommand == CLEANS[manager] for t in tools):
                    continue
                if any(t.has_flag(*options) for t in filling):
                    continue
                if any(_pkg.env_value(ctx, info.ins, v) for v in variables) or any(
                        a.name in variables for t in filling for a in t.command.assignments):
                    continue
                if any(_pkg.mount_covers(info.ins, d) for d in dirs) or _mount_named(info, manager):
                    continue
                if manager == "yarn" and _berry(ctx, info):
                    continue
                last = max(filling, key=lambda t: t.command.start)
                prefix = _pkg.wrappers_text(info, last.command) + last.tool_word.raw
                if last.tool_word is not last.command.name_word:
                    continue    # python -m style: not for these tools
                commands.append(f"{prefix} {clean}")
            if not commands:
                continue
            edit = _pkg.append_command(info, " && ".join(commands))
            yield self.finding(
                info.ins, f"the package cache stays in the layer: add `{' && '.join(commands)}` to this RUN",
                safe_fix("Clean the package cache", edit) if edit is not None else None)


def _mount_named(info: _pkg.RunInfo, manager: str) -> bool:
    for m in _pkg.mounts(info.ins):
        target = m.get("target", "")
        if m["type"] in ("cache", "tmpfs") and (manager in target or target.endswith("/.cache")
                                                or target.endswith("/.npm") or target == "/root"):
            return True
    return False


def _berry(ctx: Context, info: _pkg.RunInfo) -> bool:
    return bool(_BERRY.search(ctx.text))

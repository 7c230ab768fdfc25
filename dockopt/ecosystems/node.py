"""Node.js: npm, yarn and pnpm — what their installs read and write, and where their caches live."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..shell import PathUse, ToolCommand

__all__ = ["CACHES", "LOCKFILES", "NodeCache", "install_effects"]

# the lockfile each installer reads, besides package.json and .npmrc
LOCKFILES = {"npm": ("package-lock.json", "npm-shrinkwrap.json"), "yarn": ("yarn.lock", ".yarnrc", ".yarnrc.yml"),
             "pnpm": ("pnpm-lock.yaml",)}


@dataclass(frozen=True)
class NodeCache:
    """Where a package manager keeps what it downloads, and how to empty or move it."""

    filling: frozenset[str]            # subcommands that fill the cache
    clean: str                         # the subcommand that empties it
    cleaned_by: str                    # how that subcommand reads once parsed ("cache clean")
    directories: tuple[str, ...]       # its usual places
    options: tuple[str, ...]           # options that move it
    variables: tuple[str, ...]         # variables that move it


CACHES = {
    "npm": NodeCache(frozenset({"install", "ci"}), "cache clean --force", "cache clean",
                     ("/root/.npm", "/home/node/.npm"), ("--cache",), ("npm_config_cache", "NPM_CONFIG_CACHE")),
    "yarn": NodeCache(frozenset({"install", "add", "global add"}), "cache clean", "cache clean",
                      ("/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/node/.cache/yarn"),
                      ("--cache-folder",), ("YARN_CACHE_FOLDER", "yarn_cache_folder")),
    "pnpm": NodeCache(frozenset({"install", "add"}), "store prune", "store prune",
                      ("/root/.local/share/pnpm/store", "/root/.pnpm-store", "/pnpm/store"),
                      ("--store-dir",), ("npm_config_store_dir", "PNPM_HOME")),
}
_GLOBAL_DIRS = ("/usr/local/lib/node_modules", "/usr/local/bin")


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """A project install reads the manifests and writes node_modules; it is modelled only with
    --ignore-scripts (otherwise package.json's lifecycle scripts run project code)."""
    manager, sub = tool.manager, tool.subcommand or ""
    cache = CACHES.get(manager)
    if cache is None:
        return None
    caches = tuple(PathUse(d, manager, tree=True) for d in cache.directories)
    if sub == cache.cleaned_by or sub.startswith(("cache", "config", "store")):
        return (), caches
    if tool.has_flag("-g", "--global") or sub == "global add":
        if tool.files:
            return None
        return (), caches + tuple(PathUse(d, manager, tree=True) for d in _GLOBAL_DIRS)
    if sub in cache.filling and tool.has_flag("--ignore-scripts") and not tool.files:
        names = ("package.json", ".npmrc", *LOCKFILES[manager])
        return tuple(PathUse(n, manager) for n in names), (PathUse("node_modules", manager, tree=True), *caches)
    return None

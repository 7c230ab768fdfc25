"""PHP: what `composer install` reads and writes."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..shell import PathUse, ToolCommand
from .common import Install, InstallSite, Reject, opening, read_json, table, what

__all__ = ["install_effects", "read_install"]

_EVENTS = ("pre-install-cmd", "post-install-cmd", "pre-autoload-dump", "post-autoload-dump",
           "post-root-package-install", "pre-update-cmd", "post-update-cmd")

CACHE = "/root/.composer/cache"


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`composer install --no-scripts --no-autoloader` reads composer.json/.lock and writes vendor/;
    without those flags it runs the project's scripts and scans its sources."""
    if tool.subcommand != "install" or tool.operands or not tool.has_flag("--no-scripts"):
        return None
    if not tool.has_flag("--no-autoloader") or tool.has_flag("-d", "--working-dir"):
        return None
    reads = (PathUse("composer.json", "composer"), PathUse("composer.lock", "composer"),
             PathUse("auth.json", "composer"))
    return reads, (PathUse("vendor", "composer", tree=True), PathUse(CACHE, "composer", tree=True))


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """The manifests `composer install` reads; a hoisted install that would run the project's scripts
    or scan its sources gets --no-scripts --no-autoloader, and the original stays."""
    if tool.operands:
        return None
    opened = opening(tool, site, ("install",), ("-d", "--working-dir"), "composer.json")
    if opened is None:
        return None
    M, cj = opened
    data = read_json(M.files, cj)
    repos = data.get("repositories")
    repos = list(repos.values()) if isinstance(repos, dict) else (repos or [])
    if any(isinstance(r, dict) and r.get("type") == "path" for r in repos):
        raise Reject("composer.json has a path repository")
    M.get("composer.lock")
    M.get("auth.json")
    config = table(data, "config")
    vendor_dir = config.get("vendor-dir")
    vendor = vendor_dir if isinstance(vendor_dir, str) else "vendor"
    inst = Install(what(tool), M.found, outputs=[o for o in [M.img(vendor)] if o])
    if _runs_project_code(tool, data, config):
        inst.dup = True
        added = [f for f in ("--no-scripts", "--no-autoloader") if not tool.has_flag(f)]
        off, _ = tool.flag_insertion("")
        inst.inserts.append((off, " " + " ".join(added)))
        inst.unsafe.append("composer.json runs scripts or builds an autoloader from the source: the "
                           f"hoisted install gets {' '.join(added)} and the original stays after the "
                           "source copy")
    return inst


def _runs_project_code(tool: ToolCommand, data: dict[str, Any], config: dict[str, Any]) -> bool:
    scripts = table(data, "scripts")
    autoload = table(data, "autoload")
    runs_scripts = any(e in scripts for e in _EVENTS) and not tool.has_flag("--no-scripts")
    optimize = tool.has_flag("-o", "--optimize-autoloader", "-a", "--classmap-authoritative",
                             "--apcu-autoloader") or bool(config.get("optimize-autoloader")) \
        or bool(config.get("classmap-authoritative"))
    scans = not tool.has_flag("--no-autoloader") and (optimize or "classmap" in autoload or "files" in autoload)
    return runs_scripts or scans

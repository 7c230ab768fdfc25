"""PHP: what `composer install` reads and writes."""
from __future__ import annotations

from collections.abc import Mapping

from ..shell import PathUse, ToolCommand

__all__ = ["install_effects"]

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

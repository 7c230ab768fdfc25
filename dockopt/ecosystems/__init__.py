"""What each language ecosystem's tools read, write and keep: manifests and what their installers
read (hoisting, DO201), build outputs (the multi-stage split, DO301), package caches (cleanups,
cache mounts), and the system packages builds need (one table, `system`).

One module per ecosystem: `node`, `python`, `go`, `rust`, `java`, `ruby`, `php`, `native` (C/C++
and make), `system` (the distributions' package managers); `common` holds what they share.
`read_install` reads what a dependency install needs from the project; `installer_effects`
tells the facts layer what an install reads and writes.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import cast

from ..shell import PathUse, ToolCommand
from . import inputs
from .common import Install, InstallSite

__all__ = ["installer_effects", "read_install"]

InstallerModel = Callable[[ToolCommand, str | None, Mapping[str, str | None]],
                          tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None]
InstallReader = Callable[[ToolCommand, InstallSite], Install | None]

# manager -> the module of this package that models it; a module is imported when a file first
# runs its manager (a single-file run pays for every import, and most files use one or two)
_INSTALLERS: dict[str, str] = {
    "npm": "node", "yarn": "node", "pnpm": "node",
    "pip": "python", "uv": "python", "poetry": "python", "pipenv": "python", "pipx": "python",
    "go": "go", "mvn": "java", "gem": "ruby", "bundle": "ruby", "composer": "php",
}
_READERS: dict[str, str] = {
    "npm": "node", "yarn": "node", "pnpm": "node",
    "pip": "python", "poetry": "python", "pipenv": "python", "uv": "python",
    "go": "go", "bundle": "ruby", "mvn": "java", "composer": "php",
}


def _function(table: dict[str, str], manager: str, name: str) -> Callable[..., object] | None:
    module = table.get(manager)
    if module is None:
        return None
    function: Callable[..., object] = getattr(importlib.import_module(f".{module}", __name__), name)
    return function


def installer_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                      ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """(reads, writes) of a dependency install or cache command as the tool names them; None when
    it may run project code or do something the model does not know."""
    model = cast("InstallerModel | None", _function(_INSTALLERS, tool.manager, "install_effects"))
    return model(tool, cwd, env) if model is not None else None


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """What a dependency install reads from the project copy (None: not an install this knows;
    raises Reject when it reads more than its manifests: also a file of the copy that one of its
    options, one of the variables it reads or a configuration file in its usual place names)."""
    reader = cast("InstallReader | None", _function(_READERS, tool.manager, "read_install"))
    inst = reader(tool, site) if reader is not None else None
    if inst is not None:
        inputs.check_inputs(tool, site, inst)
    return inst

"""What each language ecosystem's tools read, write and keep: manifests and what their installers
read (hoisting, DO201), build outputs (the multi-stage split, DO301), package caches (cleanups,
cache mounts), and the system packages builds need (one table).

One module per ecosystem (`node`, `python`, `go`, `rust`, `java`, `ruby`, `php`, `native` for
C/C++ and make, `system` for the distributions' package managers). `installer_effects` tells the
facts layer what a dependency install reads and writes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from ..shell import PathUse, ToolCommand
from . import go, java, node, php, python, ruby

__all__ = ["installer_effects"]

InstallerModel = Callable[[ToolCommand, str | None, Mapping[str, str | None]],
                          tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None]

_INSTALLERS: dict[str, InstallerModel] = {
    "npm": node.install_effects, "yarn": node.install_effects, "pnpm": node.install_effects,
    "pip": python.install_effects, "uv": python.install_effects, "poetry": python.install_effects,
    "pipenv": python.install_effects, "pipx": python.install_effects,
    "go": go.install_effects, "mvn": java.install_effects, "gem": ruby.install_effects,
    "bundle": ruby.install_effects, "composer": php.install_effects,
}


def installer_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                      ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """(reads, writes) of a dependency install or cache command as the tool names them; None when
    it may run project code or do something the model does not know."""
    model = _INSTALLERS.get(tool.manager)
    return model(tool, cwd, env) if model is not None else None

"""What each language ecosystem's tools read, write and keep: manifests and what their installers
read (hoisting, DO201), build outputs (the multi-stage split, DO301), package caches (cleanups,
cache mounts), and the system packages builds need (one table, `system`).

One module per ecosystem: `node`, `python`, `go`, `rust`, `java`, `ruby`, `php`, `native` (C/C++
and make), `system` (the distributions' package managers); `common` holds what they share.
`read_install` reads what a dependency install needs from the project; `installer_effects`
tells the facts layer what an install reads and writes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from ..shell import PathUse, ToolCommand
from . import go, inputs, java, node, php, python, ruby
from .common import Install, InstallSite

__all__ = ["installer_effects", "read_install"]

InstallerModel = Callable[[ToolCommand, str | None, Mapping[str, str | None]],
                          tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None]
InstallReader = Callable[[ToolCommand, InstallSite], Install | None]

_INSTALLERS: dict[str, InstallerModel] = {
    "npm": node.install_effects, "yarn": node.install_effects, "pnpm": node.install_effects,
    "pip": python.install_effects, "uv": python.install_effects, "poetry": python.install_effects,
    "pipenv": python.install_effects, "pipx": python.install_effects,
    "go": go.install_effects, "mvn": java.install_effects, "gem": ruby.install_effects,
    "bundle": ruby.install_effects, "composer": php.install_effects,
}
_READERS: dict[str, InstallReader] = {
    "npm": node.read_install, "yarn": node.read_install, "pnpm": node.read_install,
    "pip": python.read_install, "poetry": python.read_install, "pipenv": python.read_install,
    "uv": python.read_install, "go": go.read_install, "bundle": ruby.read_install, "mvn": java.read_install,
    "composer": php.read_install,
}


def installer_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                      ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """(reads, writes) of a dependency install or cache command as the tool names them; None when
    it may run project code or do something the model does not know."""
    model = _INSTALLERS.get(tool.manager)
    return model(tool, cwd, env) if model is not None else None


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """What a dependency install reads from the project copy (None: not an install this knows;
    raises Reject when it reads more than its manifests: also a file of the copy that one of its
    options, one of the variables it reads or a configuration file in its usual place names)."""
    reader = _READERS.get(tool.manager)
    inst = reader(tool, site) if reader is not None else None
    if inst is not None:
        inputs.check_inputs(tool, site, inst)
    return inst

"""Go: what `go mod download` reads and where modules and the build cache live."""
from __future__ import annotations

from collections.abc import Mapping

from ..shell import PathUse, ToolCommand

__all__ = ["install_effects"]

MODULE_CACHE = "/go/pkg/mod"
BUILD_CACHE = "/root/.cache/go-build"


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`go mod download` reads go.mod and go.sum and fills the module cache; a build reads the
    whole module and is not modelled here."""
    if tool.subcommand != "mod download" or tool.has_flag("-modfile", "-C"):
        return None
    modules = env.get("GOMODCACHE") or ((env.get("GOPATH") or "/go").split(":")[0] + "/pkg/mod")
    return (PathUse("go.mod", "go"), PathUse("go.sum", "go")), (PathUse(modules, "go", tree=True),)

"""Python: pip, uv, poetry, pipenv, pipx — what their installs read and write, and pip's cache."""
from __future__ import annotations

from collections.abc import Mapping

from ..shell import PathUse, ToolCommand

__all__ = ["PIP_CACHE", "install_effects"]

PIP_CACHE = "/root/.cache/pip"
# where installed distributions and their scripts go
_SITE = ("/usr/local/lib", "/usr/local/bin", "/usr/lib/python3", "/root/.local")


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """Installs of named packages and requirement files are modelled; installing a local project
    (`pip install .`, `-e`, poetry/uv installing the project itself) runs its build and is not."""
    manager, sub = tool.manager, tool.subcommand or ""
    site = tuple(PathUse(d, manager, tree=True) for d in _SITE)
    cache = (PathUse(PIP_CACHE, manager, tree=True),)
    if sub.startswith("cache"):
        return (), cache
    reads = tuple(PathUse(f.path, manager) for f in tool.files)
    if manager in ("pip", "uv") and sub in ("install", "pip install", "pip sync"):
        if tool.has_flag("-e", "--editable") or any(not f.path.endswith((".txt", ".in")) for f in tool.files):
            return None
        return reads, site + cache
    if manager == "pipx" and sub == "install" and not tool.files:
        return (), (PathUse("/root/.local", manager, tree=True), *cache)
    if manager == "poetry" and sub in ("install", "sync") and tool.has_flag("--no-root") \
            and not tool.has_flag("--only-root"):
        return (PathUse("pyproject.toml", manager), PathUse("poetry.lock", manager)), \
            (PathUse(".venv", manager, tree=True), *site, PathUse("/root/.cache/pypoetry", manager, tree=True))
    if manager == "uv" and sub == "sync" and tool.has_flag("--no-install-project"):
        return (PathUse("pyproject.toml", manager), PathUse("uv.lock", manager)), \
            (PathUse(".venv", manager, tree=True), PathUse("/root/.cache/uv", manager, tree=True))
    if manager == "pipenv" and sub in ("install", "sync") and not tool.files and not tool.packages:
        return (PathUse("Pipfile", manager), PathUse("Pipfile.lock", manager)), site + cache
    return None

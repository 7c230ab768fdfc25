"""Ruby: gem and Bundler — what their installs write."""
from __future__ import annotations

from collections.abc import Mapping

from ..shell import PathUse, ToolCommand

__all__ = ["install_effects"]

GEM_DIRS = ("/usr/local/bundle", "/usr/local/lib/ruby", "/var/lib/gems", "/usr/local/bin")


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`gem install <names>` writes the gem directories; `bundle install` evaluates the Gemfile,
    Ruby code that may read any project file, and is not modelled."""
    if tool.manager == "gem" and tool.subcommand == "install" and tool.packages and not tool.files:
        return (), tuple(PathUse(d, "gem", tree=True) for d in GEM_DIRS)
    return None

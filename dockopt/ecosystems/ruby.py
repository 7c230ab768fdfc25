"""Ruby: gem and Bundler — what `bundle install` reads (hoisting) and what installs write."""
from __future__ import annotations

import re
from collections.abc import Mapping

from ..shell import PathUse, ToolCommand
from .common import Install, InstallSite, Manifests, Reject, what

__all__ = ["install_effects", "read_install"]

GEM_DIRS = ("/usr/local/bundle", "/usr/local/lib/ruby", "/var/lib/gems", "/usr/local/bin")


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`gem install <names>` writes the gem directories; `bundle install` evaluates the Gemfile,
    Ruby code that may read any project file, and is not modelled."""
    if tool.manager == "gem" and tool.subcommand == "install" and tool.packages and not tool.files:
        return (), tuple(PathUse(d, "gem", tree=True) for d in GEM_DIRS)
    return None


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """The manifests `bundle install` reads; Reject a Gemfile that reads project files."""
    if (tool.subcommand or "install") != "install" or tool.operands or tool.has_flag("--gemfile"):
        return None
    if site.earlier_run("bundle", {"install"}):
        return None
    M = Manifests(site)
    gemfile = M.get("Gemfile")
    if gemfile is None:
        return None
    text = M.files.text(gemfile) or ""
    if re.search(r"^\s*gemspec\b", text, re.M):
        raise Reject("the Gemfile loads the project's gemspec")
    if re.search(r"\bpath:|:path\s*=>|\beval_gemfile\b|\bFile\.|\brequire_relative\b", text):
        raise Reject("the Gemfile reads local files")
    for mo in re.finditer(r"\bruby\s+file:\s*[\"']([^\"']+)[\"']", text):
        if M.get(mo.group(1)) is None:
            raise Reject(f"the Gemfile reads {mo.group(1)}")
    M.get("Gemfile.lock")
    M.get(".bundle/config")
    # Bundler installs the gems cached in vendor/cache (all of them with --local): they go first too
    try:
        M.add_tree("vendor/cache", cap=200)
    except Reject as exc:
        raise Reject(f"bundle install reads the gems in vendor/cache, and {exc.reason}", show=True) from None
    path = next((f.value for f in tool.flags if f.name == "--path"), None)
    outputs = [M.img(path)] if path else [M.img("vendor/bundle")] if tool.has_flag("--deployment") else []
    return Install(what(tool), M.found, outputs=[o for o in outputs if o])

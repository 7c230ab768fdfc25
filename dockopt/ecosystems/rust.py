"""Rust: the binaries a crate declares and where `cargo build` and `cargo install` put them."""
from __future__ import annotations

import posixpath
import re

from ..facts import images
from ..facts.files import ContextFiles
from ..facts.paths import join
from ..shell import SPECS, SimpleCommand, parse_arguments
from .common import CannotTell, Project, command_text, table, toml_text

__all__ = ["RUNTIME_READERS", "binaries", "build_outputs"]

# calls that open a file or serve a directory at run time (include_str! and friends read at build time)
RUNTIME_READERS = re.compile(
    r'(?:File::open|fs::read_to_string|fs::read|fs::read_dir|read_to_string|Tera::new|ServeDir::new|'
    r'Files::new\(\s*"[^"]*"\s*,|File::with_name|Handlebars::new\(\)\.register_templates_directory|'
    r'from_path|dotenvy?::from_filename)\(?\s*"([^"/][^"]*)"')


def binaries(files: ContextFiles, ctx_dir: str | None) -> list[str] | None:
    """The binaries Cargo.toml declares (the package's own when it has src/main.rs or no [[bin]])."""
    if ctx_dir is None:
        return None
    text = files.sent_text(posixpath.join(ctx_dir, "Cargo.toml"))
    if text is None:
        return None
    data = toml_text(text)
    if data is None:
        return None
    bins: list[str] = [b["name"] for b in data.get("bin", []) if isinstance(b, dict) and isinstance(b.get("name"), str)
                       and b["name"]]
    package = table(data, "package")
    pkg = package.get("name")
    if (pkg and (files.sent(posixpath.join(ctx_dir, "src/main.rs")) or not bins)
            and package.get("autobins", True) is not False and pkg not in bins):
        bins.insert(0, pkg)
    if "workspace" in data and not pkg:
        return None
    return bins or None


def build_outputs(command: SimpleCommand, cwd: str | None, env: dict[str, str | None], project: Project) -> list[str]:
    """What `cargo build` / `cargo install --path` writes: the binaries, or their directory when
    no name is known."""
    args = command.args
    if any(w.text is None for w in args):
        raise CannotTell(f"`{command_text(command)}` has words only known at build time")
    sub = args[0].text if args else None
    parsed = parse_arguments(args[1:], SPECS["cargo"])
    flags = {f.name: f.value for f in parsed.flags}
    names = [f.value for f in parsed.flags if f.name == "--bin" and f.value]
    manifest = flags.get("--manifest-path")
    pkg_dir = join(cwd, posixpath.dirname(manifest) or ".") if manifest else cwd
    if pkg_dir is None:
        raise CannotTell("the directory cargo runs in is only known at build time")
    names = names or binaries(project.files, project.context_path(pkg_dir)) or []
    if sub == "install":
        return _installed(flags, cwd, env, project, names)
    profile = "release" if "--release" in flags or "-r" in flags else flags.get("--profile")
    profile_dir = "debug" if profile in (None, "dev", "test") else profile
    target_dir = flags.get("--target-dir") or env.get("CARGO_TARGET_DIR") or project.env.get("CARGO_TARGET_DIR")
    base = join(pkg_dir, target_dir or "target")
    if flags.get("--target"):
        base = f"{base}/{flags['--target']}"
    out_dir = f"{base}/{profile_dir}"
    if not names:
        return [out_dir]           # names come from what is copied out of it, or the entry
    return [f"{out_dir}/{n}" for n in names]


def _installed(flags: dict[str, str | None], cwd: str | None, env: dict[str, str | None], project: Project,
               names: list[str]) -> list[str]:
    if "--path" not in flags:
        raise CannotTell("`cargo install` of a crate from a registry: its binary name is not in the build context")
    root = flags.get("--root") or env.get("CARGO_INSTALL_ROOT") or env.get("CARGO_HOME") \
        or project.env.get("CARGO_HOME") or images.RUST_CARGO_HOME
    src_dir = join(cwd, flags["--path"])
    if not names and src_dir:
        names = binaries(project.files, project.context_path(src_dir)) or []
    if not names:
        return [join("/", root + "/bin") or "/bin"]
    return [join("/", f"{root}/bin/{n}") or "/" for n in names]

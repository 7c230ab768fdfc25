"""The split of a compiled build (Rust, C/C++): the binaries and the shared libraries they link,
into the slim image of the builder's distro release."""
from __future__ import annotations

import posixpath
import re

from ...ecosystems import native, rust
from ...ecosystems.common import CannotTell, relative_reads
from ...facts import images
from .model import RunCommand
from .plan import (
    Plan,
    Runtime,
    Site,
    Traced,
    build_user,
    entry_outputs,
    entry_programs,
    finish_native,
    runtime_needs,
    runtime_plan,
    trace,
)

# crates that make TLS calls (the runtime then needs the CA bundle)
TLS_CRATES = ("reqwest", "hyper-tls", "native-tls", "openssl", "rustls-native-certs", "ureq", "isahc",
              "curl", "surf", "attohttpc", "tokio-native-tls", "aws-sdk")


def plan_rust(site: Site) -> Plan:
    def produce(rc: RunCommand) -> list[tuple[str, str]]:
        c = rc.command
        if c.program == "cargo" and c.args and c.args[0].text in ("build", "b", "install"):
            outs = rust.build_outputs(c, rc.cwd, rc.env, site.model.project)
            return [(p, "binary" if not p.endswith(("/release", "/debug", "/bin")) else "dir") for p in outs]
        if c.program == "make":
            return [(p, "binary") for p in native.make_outputs(c, rc.cwd, rc.env, site.model.project)]
        return []

    return _plan_compiled(site, trace(site, produce), "rust")


def plan_c(site: Site) -> Plan:
    def produce(rc: RunCommand) -> list[tuple[str, str]]:
        c = rc.command
        if c.program == "make":
            return [(p, "binary") for p in native.make_outputs(c, rc.cwd, rc.env, site.model.project)]
        if c.program in ("cmake", "ninja"):
            args = [w.text for w in c.args]
            if c.program == "ninja" or "--build" in args or "--install" in args:
                raise CannotTell(f"cannot tell what `{c.program}` builds or installs without configuring the project")
        return [(p, "binary") for p in native.compiler_outputs(c, rc.cwd)]

    return _plan_compiled(site, trace(site, produce), "c")


def _plan_compiled(site: Site, traced: Traced, language: str) -> Plan:
    model = site.model
    chosen, cmds = entry_outputs(model, traced, "cannot tell which files the build produces")
    for p, _g in chosen:
        if p.endswith(("/target/release", "/target/debug")) or any(
                o.path == p and o.what == "dir" for o in traced.outputs):
            raise CannotTell(f"cannot tell which binaries of {p} the image needs (no names in Cargo.toml, "
                             "no copy of them, no CMD naming them)")
    _reads_no_files(site, traced, language)
    runtime = runtime_needs(site, traced.build_ids, entry_programs(cmds), [p for p, _g in chosen])
    plan, configured = runtime_plan(site, language, chosen, cmds, runtime, static=False)
    if language == "rust" and not configured:
        runtime = _ca_certificates(site, traced, plan.runtime, runtime)
    finish_native(plan, chosen, runtime, build_user(model, traced.producers[-1].ins), static=False)
    return plan


def _ca_certificates(site: Site, traced: Traced, image: str, runtime: Runtime) -> Runtime:
    """A Rust program that makes TLS calls needs the CA bundle the slim images lack."""
    ctx_dir = None
    for rc in traced.producers:
        if rc.cwd:
            ctx_dir = site.model.context_path(rc.cwd)
    manifest = site.files.sent_text(posixpath.join(ctx_dir, "Cargo.toml")) if ctx_dir else None
    lock = site.files.sent_text(posixpath.join(ctx_dir, "Cargo.lock")) if ctx_dir else None
    text = (manifest or "") + (lock or "")
    tls = manifest is None or any(re.search(rf'(?m)^\s*{re.escape(c)}\s*=|name = "{re.escape(c)}"', text)
                                  for c in TLS_CRATES)
    parsed = images.parse_image(image)
    family = images.release_of(parsed).family if parsed else "unknown"
    if tls and family in ("debian", "ubuntu") and "ca-certificates" not in runtime.packages:
        return Runtime(runtime.manager or "apt-get", [*runtime.packages, "ca-certificates"], runtime.dropped,
                       runtime.setup)
    return runtime


def _reads_no_files(site: Site, traced: Traced, language: str) -> None:
    """CannotTell when the sources open files by relative path at run time (templates, config):
    the runtime holds only the binaries."""
    cwd = next((rc.cwd for rc in traced.producers if rc.cwd), None)
    ctx_dir = site.model.context_path(cwd) if cwd else None
    if language == "rust":
        reads = relative_reads(site.files, ctx_dir, (".rs",), rust.RUNTIME_READERS)
    else:
        reads = relative_reads(site.files, ctx_dir, (".c", ".cc", ".cpp", ".cxx", ".h", ".hpp"),
                               native.C_RUNTIME_READERS)
    if reads:
        raise CannotTell("the program reads files by relative path at run time (" + "; ".join(reads[:3])
                         + "): copy them into the runtime stage by hand")

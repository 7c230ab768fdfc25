"""The split of a Node build: the build output, package.json and the production dependencies
into the slim Node image (or, for a static site, into a web server image the user chose)."""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from ...ecosystems import node
from ...ecosystems.common import CannotTell
from ...facts import images
from ...facts.paths import is_under, join
from ...syntax import Instruction
from .detect import WEB_ROOTS, node_build_script, words
from .model import StageModel, shell_commands
from .plan import (
    Plan,
    Site,
    build_user,
    carry_setup,
    check_entry,
    choose,
    context_copy_line,
    copy_line,
    entry_present,
    entry_refs,
    package_programs,
    pkg_install_line,
    runtime_needs,
    user_needs,
)
from .render import builder_name

STATIC_SERVERS = frozenset({"serve", "http-server", "live-server", "static-server", "lite-server", "sirv"})
_LOCKS = (("package-lock.json", "npm"), ("npm-shrinkwrap.json", "npm"), ("yarn.lock", "yarn"),
          ("pnpm-lock.yaml", "pnpm"))
_INSTALLS = {"yarn": "RUN yarn install --production --frozen-lockfile && yarn cache clean",
             "npm": "RUN npm ci --omit=dev && npm cache clean --force",
             None: "RUN npm install --omit=dev && npm cache clean --force"}
_OUTPUT_DIRS = ("dist", "build", "out", "lib", ".output", "public")


def plan_node(site: Site) -> Plan:
    model = site.model
    builds = [(rc, name) for rc in site.commands
              if rc.command.program in ("npm", "yarn", "pnpm")
              and (name := node_build_script(words(rc), rc.command.program or ""))]
    rc, script_name = builds[-1]
    pkg_dir = rc.cwd
    if pkg_dir is None:
        raise CannotTell("the directory the build runs in is only known at build time")
    ctx_dir = model.context_path(pkg_dir)
    pkg = node.read_package_json(site.files, ctx_dir)
    outputs = _outputs(site, script_name, pkg, ctx_dir)
    _refs, cmds = entry_refs(model)
    entry_cmds = _entry_commands(cmds, pkg)
    outputs = outputs or _outputs_from_entry(model, entry_cmds, pkg_dir, pkg)
    if not outputs:
        raise CannotTell(f"cannot tell which directory `{script_name}` writes")
    out_paths = [p for o in outputs if (p := join(pkg_dir, o))]
    static_server, node_script = _servers(model, entry_cmds)
    served = _served_by_web_server(site, out_paths, static_server, node_script)
    if served is not None:
        return served
    if node_script is not None and not any(is_under(node_script, o) for o in out_paths):
        raise CannotTell(f"the app starts from {node_script}, which is not in the build output "
                         f"({', '.join(out_paths)}): cannot tell which sources it needs at run time")
    entry_present(model)
    runtime_default = images.slim_of(site.image)
    if runtime_default is None:
        raise CannotTell(f"no slim Node image is known for {model.base}")
    image, _cfg = choose(site.ctx, "node", runtime_default)
    plan = Plan("node", image, chown=build_user(model, rc.ins))
    if static_server:
        plan.notes.append("it only serves static files: `--runtime-base nginx:stable` puts them in nginx")
    app_lines = _production_files(site, plan, pkg, pkg_dir, ctx_dir, static_server, out_paths,
                                  node.build_script_refs(site.files, pkg, script_name, ctx_dir))
    runtime = runtime_needs(site, {id(r.ins) for r, _n in builds}, {"node"}, out_paths)
    check_entry(model, entry_cmds, out_paths, image, package_programs(runtime.packages))
    if runtime.dropped:
        plan.notes.append("leaves out " + ", ".join(runtime.dropped))
    if runtime.packages:
        plan.pre_copy.insert(0, pkg_install_line(runtime.manager or "apt-get", runtime.packages))
    user_needs(model, runtime.setup, image)
    carry_setup(plan, runtime.setup, image)
    plan.pre_copy += app_lines
    return plan


def _outputs(site: Site, script_name: str, pkg: dict[str, Any] | None, ctx_dir: str | None) -> list[str]:
    """The directories the build script writes, read from package.json."""
    if pkg is None:
        return []
    scripts = pkg.get("scripts") or {}
    if script_name not in scripts:
        raise CannotTell(f"package.json has no '{script_name}' script")
    text = " && ".join(s for s in (scripts.get("pre" + script_name), scripts[script_name],
                                   scripts.get("post" + script_name)) if s)
    outputs, problems = node.build_outputs(text, scripts, site.files, ctx_dir)
    if problems:
        raise CannotTell("; ".join(problems))
    return outputs


def _outputs_from_entry(model: StageModel, entry_cmds: list[list[str]], pkg_dir: str,
                        pkg: dict[str, Any] | None) -> list[str]:
    """The build's output is not readable from the script: the entry's script names the directory."""
    outputs: list[str] = []
    for argv in entry_cmds:
        if argv and posixpath.basename(argv[0]) == "node" and len(argv) > 1:
            script = next((a for a in argv[1:] if not a.startswith("-")), None)
            p = join(model.workdir or "/", script) if script else None
            if p and is_under(p, pkg_dir) and p != pkg_dir:
                top = posixpath.relpath(p, pkg_dir).split("/", 1)[0]
                if top in _OUTPUT_DIRS:
                    outputs = [top]
    if not outputs and pkg is None:
        raise CannotTell("cannot read package.json from the build context to see what the build writes")
    return outputs


def _servers(model: StageModel, entry_cmds: list[list[str]]) -> tuple[str | None, str | None]:
    """(the static file server the image runs, the script `node` starts)."""
    static_server = node_script = None
    for argv in entry_cmds:
        if not argv:
            continue
        prog = posixpath.basename(argv[0])
        if prog == "npx" and len(argv) > 1:
            argv = argv[1:]
            prog = argv[0]
        if prog in STATIC_SERVERS:
            static_server = prog
        elif prog == "node":
            script = next((a for a in argv[1:] if not a.startswith("-")), None)
            if script is None:
                raise CannotTell("the image starts `node` without a script")
            node_script = join(model.workdir or "/", script)
    return static_server, node_script


def _served_by_web_server(site: Site, out_paths: list[str], static_server: str | None,
                          node_script: str | None) -> Plan | None:
    """The plan when the user chose a web server image for Node: the build output as its document root."""
    settings = site.ctx.settings
    configured = settings.runtime_image("node") if settings is not None else None
    cfg_image = images.parse_image(configured) if configured else None
    if configured is None or cfg_image is None or cfg_image.name not in WEB_ROOTS:
        return None
    if node_script is not None or (static_server is None and site.model.entry.present):
        raise CannotTell(f"the runtime {configured} serves static files, but the image runs a Node program")
    if len(out_paths) != 1:
        raise CannotTell("the build writes several directories: cannot tell which one to serve")
    plan = Plan("node", configured, drop_entry=True, drop_expose=True)
    plan.artifacts.append((out_paths[0] + "/", WEB_ROOTS[cfg_image.name] + "/", False))
    plan.notes.append(f"serves {out_paths[0]} with {cfg_image.name}")
    return plan


def _production_files(site: Site, plan: Plan, pkg: dict[str, Any] | None, pkg_dir: str, ctx_dir: str | None,
                      static_server: str | None, out_paths: list[str], build_refs: set[str]) -> list[str]:
    """The runtime's lines before the build output: package.json, the lockfile and the install's
    settings copied from the build context, the production install, then every file of the app
    directory the app may read at run time (from the context too, so that a source edit re-runs
    none of them); the build output itself is the plan's artifact."""
    deps = (pkg or {}).get("dependencies") if pkg is not None else None
    if static_server and pkg is not None and static_server not in (deps or {}):
        raise CannotTell(f"the image serves files with `{static_server}`, which is not a production dependency")
    if site.model.workdir != pkg_dir:
        raise CannotTell(f"the build runs in {pkg_dir}, not in the WORKDIR {site.model.workdir}")
    entries = site.ctx.entries_in(site.model.stage, pkg_dir)
    if entries is None:
        raise CannotTell(f"cannot list what the build context puts in {pkg_dir}, so cannot tell which of its "
                         "files the app reads at run time")
    if "package.json" not in entries:
        raise CannotTell(f"package.json does not come from the build context into {pkg_dir}")
    outputs = {posixpath.relpath(o, pkg_dir).split("/", 1)[0] for o in out_paths}
    app = node.app_files(site.files, entries, outputs, build_refs)
    manifests, install = _production_install(entries, bool(deps))
    if install:
        manifests += app.install_config
    else:
        app.runtime = sorted(app.runtime + app.install_config)
    lines = _context_copies(site, [(n, entries[n]) for n in manifests], pkg_dir)
    if install:
        lines.append(install)
        plan.notes.append("installs the production dependencies only")
    lines += _context_copies(site, [(n, entries[n]) for n in app.runtime], pkg_dir)
    plan.artifacts += [(o, o, False) for o in out_paths]
    if app.unseen:
        plan.notes.append("copies the whole app directory: the sources open paths they do not spell out ("
                          + "; ".join(app.unseen[:2]) + ")")
    elif app.build_only:
        plan.notes.append("leaves the build's own files in the builder (" + ", ".join(app.build_only) + ")")
    return lines


def _production_install(entries: Mapping[str, object], deps: bool) -> tuple[list[str], str | None]:
    """The manifests the runtime copies and the install that reads them (None: nothing to install)."""
    manifests = ["package.json"]
    if not deps:
        return manifests, None
    lock_tool = None
    for lock, tool in _LOCKS:
        if lock in entries:
            manifests.append(lock)
            lock_tool = lock_tool or tool
    if lock_tool == "pnpm":
        raise CannotTell("pnpm is not in the slim Node image to install the production dependencies")
    return manifests, _INSTALLS[lock_tool]


def _context_copies(site: Site, names: list[tuple[str, tuple[str | None, Instruction]]], pkg_dir: str) -> list[str]:
    """COPY lines from the build context that put each name in the app directory as the original
    COPY did (its --chown/--chmod kept): the files that sit under their own name together. A name
    that copies only filled in part (`COPY a.json ./config/`) comes whole from the builder."""
    out: list[str] = []
    grouped: dict[tuple[str, ...], list[str]] = {}
    for name, (source, ins) in names:
        flags = tuple(str(f) for f in ins.flags if f.name in ("chown", "chmod"))
        dest = posixpath.join(pkg_dir, name)
        chown = ins.flag("chown")
        if source is None:
            out.append(copy_line(dest, dest, chown.value if chown else None, builder_name(site.model.stage)))
        elif posixpath.basename(source) == name and not site.files.is_dir(source):
            grouped.setdefault(flags, []).append(source)
        else:
            out.append(context_copy_line([source], dest, flags))
    files = [context_copy_line(srcs, pkg_dir.rstrip("/") + "/", flags) for flags, srcs in grouped.items()]
    return files + out


def _entry_commands(cmds: list[list[str]], pkg: dict[str, Any] | None) -> list[list[str]]:
    """The entry's commands, `npm start` / `npm run x` replaced by the package.json script they run."""
    out = []
    for argv in cmds:
        if argv and posixpath.basename(argv[0]) in ("npm", "yarn", "pnpm") and len(argv) > 1 and (
                argv[1] == "start" or (argv[1] == "run" and len(argv) > 2)):
            name = "start" if argv[1] == "start" else argv[2]
            scripts = (pkg or {}).get("scripts") or {}
            if name not in scripts:
                raise CannotTell(f"the image runs `{' '.join(argv)}`, but package.json has no '{name}' script to read")
            out += shell_commands(scripts[name])
        else:
            out.append(argv)
    return out

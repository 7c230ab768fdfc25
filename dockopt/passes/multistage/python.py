"""The split of a Python build that compiles extensions: wheels built in the builder, installed in
the slim image without compilers; build-only packages leave, their runtime libraries stay."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...ecosystems import python, read_install, system
from ...ecosystems.common import CannotTell, InstallSite, ProjectCopy, Reject
from ...facts import images
from ...facts.paths import clean, is_under, join
from ...shell import ChainLink, Script, ToolCommand, parse_tool
from ...syntax import Instruction
from ..base import newline_of
from ..cache_mounts import targets_buildkit
from ..edits import continuation_indent
from .detect import is_system_install, pip_install, removed_packages, words
from .model import RunCommand
from .plan import BUILDER, MOVED, Plan, Site, choose, context_copy_line, copy_line
from .render import builder_name

_INSTALL_ONLY = frozenset({"-U", "--upgrade", "--force-reinstall", "-I", "--ignore-installed", "--user",
                           "--no-warn-script-location", "--break-system-packages", "--compile", "--no-compile",
                           "--no-warn-conflicts", "--no-cache-dir", "-q", "--quiet", "-v", "--verbose",
                           "--disable-pip-version-check", "--no-input", "--root-user-action"})
_KEEP_IN_RUNTIME = frozenset({"--user", "--no-deps", "--no-warn-script-location", "--break-system-packages",
                              "--compile", "--no-compile", "-q", "--quiet", "--no-warn-conflicts",
                              "--root-user-action"})
_NOT_WHEELS = frozenset({"-e", "--editable", "-t", "--target", "--prefix", "--root", "--src", "--require-hashes"})
VENV = "/opt/venv"       # the classic builder's pip installs into this virtualenv, which the runtime copies
_LIST_CHORES = re.compile(r"^\s*(apt-get|apt|apk)\s+(-\S+\s+)*(update|clean|autoremove|purge|remove|del)\b"
                          r"|^\s*rm\s+-[rf]+\s+/var/lib/apt/lists")


@dataclass
class _Runtime:
    """How the runtime stage rewrites the RUNs: pip installs the wheels, build packages leave."""

    pip: RunCommand
    command: str | None               # the pip command of the runtime stage (None: the install is copied)
    still_used: set[str]              # programs later RUNs or the entry run
    mount_wheels: bool = False        # BuildKit: a bind mount of the builder's /wheels, not a COPY
    linked: list[str] = field(default_factory=list)   # libraries the wheels built from source link
    dropped: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)


def plan_python(site: Site) -> Plan:
    rc, tool, script = _the_pip_install(site)
    image = site.image
    if image.official and image.name == "python":
        runtime_default = images.slim_of(image) or site.model.base
    elif image.official and image.name == "pypy":
        runtime_default = site.model.base
    else:
        raise CannotTell(f"{site.model.base} is not a Python image: the toolchain may be what the image is for")
    runtime, _cfg = choose(site.ctx, "python", runtime_default)
    runtime_image = images.parse_image(runtime)
    if runtime_image is None or images.facts_of(runtime_image).shell is False:
        raise CannotTell(f"the runtime {runtime} cannot run pip")
    plan = Plan("python", runtime)
    c = rc.command
    text = script.text
    if not tool.subcommand_words:
        raise CannotTell("cannot read the pip command")
    head = text[c.start:tool.subcommand_words[-1].start]
    mount = targets_buildkit(site.ctx)
    if mount:
        wheel_args = _strip_pip_flags(text, tool, drop=_INSTALL_ONLY)
        keep_flags = " ".join(text[f.start:f.end] for f in tool.flags if f.name in _KEEP_IN_RUNTIME)
        _builder(site, plan, rc, script, f"{head}wheel --no-cache-dir --wheel-dir=/wheels{wheel_args}")
        _builder_reads_manifests_only(site, plan, rc, tool)
        command: str | None = (f"{head}install --no-cache-dir --no-index --find-links=/wheels"
                               f"{(' ' + keep_flags) if keep_flags else ''} /wheels/*.whl")
    else:
        # the classic builder cannot mount the builder's wheels, and a COPY of them would keep them
        # in a layer: the builder installs into a virtualenv, which the runtime copies whole (where a
        # `--prefix` tree belongs depends on how the base image's Python lays out its site directory)
        if tool.has_flag("--user"):
            raise CannotTell("`pip install --user` cannot install into a virtualenv to copy, and the classic "
                             "builder cannot mount the builder's wheels")
        rest = _strip_pip_flags(text, tool, drop=frozenset({"--no-cache-dir"}))
        _builder(site, plan, rc, script, f"python3 -m venv {VENV} && {VENV}/bin/python -m pip install "
                                         f"--no-cache-dir{rest}")
        command = None
    still_used = {r.command.program for r in site.commands
                  if r.command.program and r.command is not c and not is_system_install(r)}
    # what the image still runs, and what those commands run in turn (compilemessages: msgfmt)
    still_used |= {p for r in site.commands if r.command is not c and not is_system_install(r)
                   for p in python.programs_run_by(words(r))}
    entry = site.model.entry.commands()
    still_used |= {a[0].rsplit("/", 1)[-1] for a in entry if a} | {p for a in entry for p in python.programs_run_by(a)}
    rewrite = _Runtime(rc, command, still_used, mount_wheels=mount, linked=_linked_libraries(site, rc, tool))
    plan.runtime_body = _runtime_body(site, rewrite)
    if not rewrite.dropped:
        raise CannotTell("no build-only package to leave out")
    how = "builds wheels in the builder" if mount else f"installs into a virtualenv ({VENV}) in the builder"
    kept_out = ("; installs the wheels from a bind mount of the builder's /wheels, so they stay out of the image"
                if mount else f"; copies {VENV} into the runtime and puts it first on PATH (the classic builder "
                "cannot mount the wheels, and copied wheels would stay in a layer)")
    plan.notes.append(how + "; leaves out " + ", ".join(rewrite.dropped)
                      + (("; installs " + ", ".join(rewrite.libraries)) if rewrite.libraries else "") + kept_out)
    if not mount:
        plan.artifacts.append((VENV, VENV, False))
    return plan


def _linked_libraries(site: Site, rc: RunCommand, tool: ToolCommand) -> list[str]:
    """The shared libraries that the packages pip builds from source link, which the full Debian
    image has and its slim image lacks (psycopg2 -> libpq5)."""
    if images.release_of(site.image).family == "alpine":
        return []
    names = [python.requirement_names(p.word.text or "")[0] for p in tool.packages
             if p.word.text and python.requirement_names(p.word.text)]
    for value in tool.flag_values("-r", "--requirement", "--requirements"):
        path = join(rc.cwd, value) if value else None
        text = site.files.sent_text(site.model.context_path(path)) if path else None
        names += python.requirement_names(text or "")
    return python.runtime_libraries(names)


def _the_pip_install(site: Site) -> tuple[RunCommand, ToolCommand, Script]:
    pips = [(rc, t) for rc in site.commands if (t := pip_install(rc)) is not None]
    if len(pips) != 1:
        raise CannotTell("several pip installs: wheels for each would have to be built and installed in turn")
    rc, tool = pips[0]
    for f in tool.flags:
        if f.name in _NOT_WHEELS:
            raise CannotTell(f"`pip install {f.name}` cannot be replaced by installing wheels")
    script = site.ctx.script(rc.ins)
    if script is None or script.has_error or not script.is_and_chain:
        raise CannotTell("the RUN with pip install is not a plain `a && b` chain")
    if rc.command.scopes:
        raise CannotTell("pip install runs inside a shell construct")
    if rc.ins.flags:
        raise CannotTell("the RUN with pip install has flags")
    return rc, tool, script


def _builder(site: Site, plan: Plan, rc: RunCommand, script: Script, wheel_command: str) -> None:
    """The builder: everything up to the pip RUN, which is reduced to what comes before pip and
    `pip wheel`; nothing after it is needed to build wheels."""
    text = script.text
    before = [text[link.start:link.end] for link in script.chain[:rc.command.link]]
    plan.builder_edits[id(rc.ins)] = "RUN " + " && ".join([*before, wheel_command])
    seen = False
    for ins in site.model.stage.instructions:
        if seen and ins.keyword not in MOVED:
            plan.builder_edits[id(ins)] = ""
        seen = seen or ins is rc.ins


def _builder_reads_manifests_only(site: Site, plan: Plan, rc: RunCommand, tool: ToolCommand) -> None:
    """The builder needs only what `pip wheel` reads: the copy of the whole source right above the
    pip RUN becomes a copy of the requirement files, so that a source edit leaves the builder (and
    the wheels the runtime installs) cached."""
    instructions = site.model.stage.instructions
    k = instructions.index(rc.ins) - 1
    while k >= 0 and instructions[k].keyword in ("ENV", "ARG", "LABEL", "EXPOSE"):
        k -= 1
    copy = next((c for c in site.model.copies if k >= 0 and c.ins is instructions[k]), None)
    if copy is None or copy.dest is None or copy.ins.keyword != "COPY" or len(copy.sources) != 1 \
            or not site.files.available or rc.command.link != 0:
        return
    source = clean(copy.sources[0].lstrip("/")) or "."
    if source != "." and not site.files.is_dir(source):
        return
    project = ProjectCopy(source, copy.dest, site.files)
    try:
        install = read_install(tool, InstallSite(project, rc.cwd, lambda _accepts: False, rc.env))
    except Reject:
        return
    if install is None or not install.manifests:
        return
    flags = tuple(str(f) for f in copy.ins.flags if f.name in ("chown", "chmod"))
    plan.builder_edits[id(copy.ins)] = "\n".join(context_copy_line([c], img, flags) for c, img in install.manifests)


def _runtime_body(site: Site, rewrite: _Runtime) -> list[str]:
    """The runtime: the original instructions, build-only packages dropped, pip from the wheels
    (moved above the source copies it does not read), and no `apt-get update` left alone."""
    ctx = site.ctx
    nl = newline_of(ctx.tree)
    body: list[tuple[Instruction | None, str]] = []
    for ins in site.model.stage.instructions:
        if ins.keyword != "RUN":
            body.append((ins, ins.full_source.rstrip("\r\n")))
            continue
        new_links, changed = _runtime_links(site, ins, rewrite)
        lead = "".join(ln.text for ln in ins.leading).rstrip("\r\n")
        mount = ""
        if ins is rewrite.pip.ins and rewrite.mount_wheels:
            mount = f"--mount=type=bind,from={builder_name(site.model.stage)},source=/wheels,target=/wheels "
        elif ins is rewrite.pip.ins:
            body.append((rewrite.pip.ins, copy_line(VENV, VENV, None, BUILDER) + nl + f'ENV PATH="{VENV}/bin:$PATH"'))
        if not changed:
            body.append((ins, ins.full_source.rstrip("\r\n")))
        elif new_links:
            sep = " && " + ctx.tree.escape + nl + continuation_indent(ctx.tree)
            body.append((ins, (lead + nl if lead else "") + "RUN " + mount + sep.join(new_links)))
        elif lead:
            body.append((None, lead))
    body = _without_lone_list_updates(site, body)
    return [text for _ins, text in _install_before_sources(site, body, rewrite)]


_INSTALLS_PACKAGES = re.compile(r"\b(?:apt-get|apt|aptitude|apk)\s+(?:-\S+\s+)*(?:install|add)\b")


def _without_lone_list_updates(site: Site, body: list[tuple[Instruction | None, str]]
                               ) -> list[tuple[Instruction | None, str]]:
    """A RUN that only fetches or cleans the package lists goes when no later RUN of the runtime
    installs a package any more (its install RUN held only build packages)."""
    out: list[tuple[Instruction | None, str]] = []
    for k, (ins, text) in enumerate(body):
        script = site.ctx.script(ins) if ins is not None and ins.keyword == "RUN" else None
        chores_only = script is not None and script.is_and_chain and not script.has_error and bool(script.chain) \
            and all(_LIST_CHORES.match(script.text[link.start:link.end]) for link in script.chain)
        if chores_only and text == (ins.full_source.rstrip("\r\n") if ins else "") and not any(
                later is not None and later.keyword == "RUN" and _INSTALLS_PACKAGES.search(t)
                for later, t in body[k + 1:]):
            continue
        out.append((ins, text))
    return out


def _install_before_sources(site: Site, body: list[tuple[Instruction | None, str]], rewrite: _Runtime
                            ) -> list[tuple[Instruction | None, str]]:
    """The install from the builder (a RUN of pip alone, or the COPY of the prefix) goes above the
    build-context copies right before it: it reads none of them, so a source edit re-runs it no more."""
    pip = rewrite.pip.ins
    at = [k for k, (ins, text) in enumerate(body) if ins is pip]
    if not at:
        return body
    first, last = at[0], at[-1]
    if rewrite.mount_wheels and len(_runtime_links(site, pip, rewrite)[0]) != 1:
        return body      # the RUN does more than install the wheels
    if not rewrite.mount_wheels and last != first:
        return body      # the COPY of the prefix is followed by what else the RUN did
    target = first
    while target > 0:
        ins = body[target - 1][0]
        if ins is None or not _moveable_over(site, ins):
            break
        target -= 1
    if target == first:
        return body
    return body[:target] + body[first:last + 1] + body[target:first] + body[last + 1:]


def _moveable_over(site: Site, ins: Instruction) -> bool:
    """A COPY/ADD of the build context that writes outside the Python installation."""
    if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
        return False
    effects = site.ctx.effects(ins)
    return effects.modelled and all(
        w.path not in ("/", "/usr") and not is_under(w.path, "/usr/local") and not is_under("/usr/local", w.path)
        for w in effects.writes)


def _strip_pip_flags(text: str, tool: ToolCommand, drop: frozenset[str]) -> str:
    """The words after `pip install` as written, without the install-only options."""
    sub_end = tool.subcommand_words[-1].end
    spans = [(f.start, f.end) for f in tool.flags if f.name in drop and f.start >= sub_end]
    out, pos = [], sub_end
    for a, b in sorted(spans):
        out.append(text[pos:a])
        pos = b
    out.append(text[pos:tool.command.end])
    joined = re.sub(r"[ \t]+", " ", "".join(out)).rstrip()
    return joined if joined.startswith(" ") or not joined else " " + joined


def _runtime_links(site: Site, ins: Instruction, rewrite: _Runtime) -> tuple[list[str], bool]:
    """The RUN's top-level links for the runtime stage; (links, changed)."""
    script = site.ctx.script(ins)
    cmds = [r for r in site.commands if r.ins is ins]
    pip = rewrite.pip if ins is rewrite.pip.ins else None
    if script is None:
        return [], False
    pkg_cmds = [r for r in cmds if is_system_install(r)]
    if not pkg_cmds and pip is None:
        return [], False
    if not script.is_and_chain or script.has_error:
        if any(system.is_build_package(name) for r in pkg_cmds for name in _packages(r)):
            raise CannotTell(f"line {ins.start_line}: the RUN that installs build packages is not a plain && chain")
        return [], False
    links, changed, apt_left = _rewrite_links(script, pip, rewrite, removed_packages(ins, site.commands))
    if not changed:
        return [], False
    if not apt_left:
        # nothing is installed any more: the update and cleanup of the package lists go too
        links = [ln for ln in links if not _LIST_CHORES.match(ln)]
    return links, True


def _rewrite_links(script: Script, pip: RunCommand | None, rewrite: _Runtime, removed: set[str]
                   ) -> tuple[list[str], bool, bool]:
    """(the links with build packages dropped and pip rewritten, whether any changed, whether apt still installs)."""
    links: list[str] = []
    changed = apt_left = False
    for link in script.chain:
        cmd = link.commands[0] if len(link.commands) == 1 else None
        if pip is not None and cmd is pip.command:
            if rewrite.command is not None:
                links.append(script.text[link.start:cmd.start] + rewrite.command)
            changed = True
            continue
        tool = parse_tool(cmd) if cmd is not None else None
        if tool is None or tool.manager not in ("apt-get", "apt", "apk") or tool.subcommand not in ("install", "add"):
            links.append(script.text[link.start:link.end])
            continue
        new, dropped_some = _without_build_packages(script, link, tool, removed, rewrite)
        changed = changed or dropped_some
        apt_left = apt_left or (bool(tool.packages) and (new is not None or not dropped_some))
        if new is not None:
            links.append(new)
    return links, changed, apt_left


def _packages(rc: RunCommand) -> tuple[str, ...]:
    tool = parse_tool(rc.command)
    return tuple(p.name for p in tool.packages) if tool is not None else ()


def _linked_here(tool: ToolCommand, manager: str, rewrite: _Runtime) -> list[str]:
    """The linked libraries this install (the first that drops a build package) adds."""
    if manager != "apt-get":
        return []
    added = [lib for lib in rewrite.linked
             if lib not in rewrite.libraries and lib not in {q.name for q in tool.packages}]
    rewrite.libraries += added
    return added


def _without_build_packages(script: Script, link: ChainLink, tool: ToolCommand, removed: set[str],
                            rewrite: _Runtime) -> tuple[str | None, bool]:
    """The install link without its build-only packages (their runtime libraries added); None when
    nothing is left to install. The second value: whether a package was dropped."""
    ltext = script.text[link.start:link.end]
    manager = "apk" if tool.manager == "apk" else "apt-get"
    keep_words: list[str] = []
    drop_words = []
    for p in tool.packages:
        if not system.is_build_package(p.name) or p.name in removed or system.unknown_dev(p.name, manager):
            continue      # a runtime package, or an unknown library: the -dev package stays
        if system.programs_of(p.name) & rewrite.still_used:
            continue      # a later RUN (or the image's command) runs it
        drop_words.append(p)
        rewrite.dropped.append(p.name)
        lib = system.runtime_lib(manager, p.name)[1]
        if lib and lib not in rewrite.libraries and lib not in {q.name for q in tool.packages}:
            rewrite.libraries.append(lib)
            keep_words.append(lib)
    if not drop_words:
        return ltext, False
    keep_words += _linked_here(tool, manager, rewrite)
    if len(drop_words) == len(tool.packages) and not keep_words:
        return None, True
    new = ltext
    for p in sorted(drop_words, key=lambda p: p.word.start, reverse=True):
        a, b = p.word.start - link.start, p.word.end - link.start
        new = new[:a].rstrip(" \t") + new[b:]
    if keep_words:
        new = new.rstrip() + " " + " ".join(keep_words)
    return re.sub(r"[ \t]+", " ", new).strip(), True

"""The RUN after a source copy, read for hoisting: which of its commands install dependencies
from the copy's manifests, which do nothing with the copied files, and how to split it."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from ... import ecosystems
from ...ecosystems.common import Install, InstallSite, Manifests, ProjectCopy, Reject
from ...facts import RunScript
from ...facts.paths import clean, join, overlaps
from ...shell import SYSTEM_MANAGERS, ChainLink, LeakKind, Script, SimpleCommand, ToolCommand, leaks_state, parse_tool
from ...shell.model import AND, Construct
from ...syntax import Instruction, Stage
from ..base import Context, newline_of
from ..edits import continuation_indent

__all__ = ["RunPlan", "SourceCopy", "run_plan", "system_run"]

_SYSTEM_PROGRAMS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod",
                              "ldconfig", "update-ca-certificates", "locale-gen", "apt-key",
                              "update-alternatives", "dpkg-reconfigure", "true", ":", "echo", "printf"})
_PATH_PROGRAMS = frozenset({"mkdir", "rm", "ln", "chmod", "chown", "touch"})
_GO_ENV = frozenset({"GOPROXY", "GOPRIVATE", "GOFLAGS", "GONOSUMDB", "GOSUMDB", "GOINSECURE",
                     "GONOPROXY", "GONOSUMCHECK", "GOTOOLCHAIN"})
_ELSEWHERE = ("--local", "-C", "--directory", "--prefix", "--cwd", "--project")


@dataclass(frozen=True)
class SourceCopy:
    """`COPY <dir> <dest>`: a whole directory of the context copied into the image."""

    ins: Instruction
    sources: tuple[str, ...]
    dest: str                  # as written
    copy: ProjectCopy

    @property
    def dest_abs(self) -> str:
        return self.copy.dest


@dataclass
class RunPlan:
    installs: list[Install]
    hoisted: str          # file text of the hoisted command (after `RUN <flags> `)
    rest: str | None      # file text of what stays after the source copy


def _bind_mount(ctx: Context, ins: Instruction) -> bool:
    return any(m.type == "bind" for m in ctx.mounts(ins))


def _site(ctx: Context, stage: Stage, source: SourceCopy, cwd: str | None,
          env: Mapping[str, str | None] | None = None) -> InstallSite:
    def earlier(accepts: Callable[[ToolCommand], bool]) -> bool:
        """A RUN above the source copy in this stage runs such a command (the dependencies are
        installed from the manifests there; the one after the source copy is the project's own)."""
        for ins in stage.instructions:
            if ins is source.ins:
                return False
            script = ctx.script(ins) if ins.keyword == "RUN" else None
            for cmd in script.commands if script is not None else ():
                tool = parse_tool(cmd)
                if tool is not None and accepts(tool):
                    return True
        return False

    return InstallSite(source.copy, cwd, earlier, env or {})


def run_plan(ctx: Context, stage: Stage, source: SourceCopy, run: Instruction) -> RunPlan | None:
    """How to split this RUN, None when it installs nothing from the source copy's manifests;
    raises Reject when it does but cannot be hoisted."""
    rs, _ = ctx.run_script(run)
    script = ctx.script(run)
    if rs is None or script is None or rs.kind != "shell" or script.has_error or not script.chain:
        return None
    cwd = ctx.state(run).cwd
    kinds: list[tuple[str, Install | None]] = []
    link_cwd = cwd
    for link in script.chain:
        kind, inst, link_cwd = _classify_link(ctx, stage, source, run, link, link_cwd)
        kinds.append((kind, inst))
    # the hoisted prefix: installs and neutral commands, up to the first other command
    p = 0
    while p < len(kinds) and kinds[p][0] in ("install", "neutral"):
        p += 1
    installs = [inst for kind, inst in kinds[:p] if kind == "install" and inst is not None]
    if not installs:
        return _missing_step(ctx, stage, source, run, script, cwd)
    _check_installs(ctx, source, run, installs)
    dups = [i for i, (kind, inst) in enumerate(kinds[:p]) if kind == "install" and inst and inst.dup]
    cds = _check_split(script, p, dups)
    if script.chain[-1].operator not in (None, ";") and p == len(script.chain):
        return None
    return RunPlan(installs, _hoisted_text(ctx, rs, script, p, installs),
                   _rest_text(ctx, rs, script, run, p, dups, cds))


def _check_installs(ctx: Context, source: SourceCopy, run: Instruction, installs: list[Install]) -> None:
    if _bind_mount(ctx, run):
        raise Reject("the RUN bind-mounts files of the context")
    for inst in installs:
        for out in inst.outputs:
            c = source.copy.sent_directory(out)
            if c is not None:
                raise Reject(f"the context sends {c}/, which the moved source copy would copy over "
                             f"the installed one: exclude it in .dockerignore first (DO204)", show=True)


def _check_split(script: Script, p: int, dups: list[int]) -> list[int]:
    """The split point must be `&&`: RUN a && b behaves as RUN a, then RUN b. Returns the `cd`
    links of the hoisted part, which the rest repeats to run in the same directory
    (`cd web && npm ci && npm run build`: the build stays as `cd web && npm run build`)."""
    chain = script.chain
    rest_links = p < len(chain)
    if not rest_links and not dups:
        return []
    if rest_links and chain[p - 1].operator != AND:
        raise Reject("the install is not joined to the rest of the RUN by &&")
    if dups and any(chain[i].operator != AND for i in range(p - 1)):
        raise Reject("the install list is not a plain && chain")
    prefix_end = chain[p - 1].end
    cds: list[int] = []
    for leak in leaks_state(script):
        if leak.start >= prefix_end:
            continue
        k = next((i for i in range(p) if len(chain[i].commands) == 1 and chain[i].commands[0] is leak.command), None)
        if leak.kind is not LeakKind.DIRECTORY or k is None or leak.command is None or leak.command.program != "cd":
            raise Reject("the hoisted commands change shell state the rest of the RUN relies on")
        cds.append(k)
    if cds and any(chain[i].operator != AND for i in range(p - 1)):
        raise Reject("the hoisted commands change directory in a chain that is not a plain && chain")
    if cds and dups and max(cds) > min(dups):
        raise Reject("an install that runs again after the source copy ran in another directory")
    return sorted(set(cds))


def _hoisted_text(ctx: Context, rs: RunScript, script: Script, p: int, installs: list[Install]) -> str:
    chain = script.chain
    text = ctx.text
    start_f = rs.span(chain[0].start, chain[0].start)[0]
    end_f = rs.span(chain[p - 1].end, chain[p - 1].end)[0]
    inserts = sorted((rs.span(off, off)[0], t) for inst in installs for off, t in inst.inserts)
    hoisted, pos = [], start_f
    for off, t in inserts:
        hoisted.append(text[pos:off])
        hoisted.append(t)
        pos = off
    hoisted.append(text[pos:end_f])
    return "".join(hoisted)


def _rest_text(ctx: Context, rs: RunScript, script: Script, run: Instruction, p: int, dups: list[int],
               cds: list[int]) -> str | None:
    """What stays after the source copy: the hoisted part's `cd`s, the installs that run again,
    then the rest of the RUN."""
    chain = script.chain
    if p == len(chain) and not dups:
        return None
    text = ctx.text
    pieces = [text[slice(*_link_file_span(rs, chain[i]))] for i in [*cds, *dups]]
    if p < len(chain):
        last = run.lines[-1]
        content_end = last.start + len(last.content)
        pieces.append(text[rs.span(chain[p].start, chain[p].start)[0]:content_end].rstrip(" \t"))
    if len(run.lines) > 1:
        sep = f" && {ctx.tree.escape}" + newline_of(ctx.tree) + continuation_indent(ctx.tree)
    else:
        sep = " && "
    return sep.join(pieces)


def _link_file_span(rs: RunScript, link: ChainLink) -> tuple[int, int]:
    return rs.span(link.start, link.start)[0], rs.span(link.end, link.end)[0]


def _classify_link(ctx: Context, stage: Stage, source: SourceCopy, run: Instruction, link: ChainLink, cwd: str | None
                   ) -> tuple[str, Install | None, str | None]:
    """('install', Install, cwd) | ('neutral', None, cwd) | ('other', None, cwd)."""
    if link.kind is not Construct.COMMAND or len(link.commands) != 1:
        return "other", None, cwd
    cmd = link.commands[0]
    if cmd.program == "cd":
        args = [w.text for w in cmd.args]
        if len(args) == 1 and args[0] and args[0] != "-":
            return "neutral", None, join(cwd, args[0])
        return "other", None, None
    tool = parse_tool(cmd)
    if tool is not None:
        env = next((s.env for s in ctx.steps(run) if s.command is cmd), ctx.state(run).values)
        inst = ecosystems.read_install(tool, _site(ctx, stage, source, cwd, env))
        if inst is not None:
            return "install", inst, cwd
    if _neutral(cmd, tool, source.dest_abs):
        return "neutral", None, cwd
    return "other", None, cwd


def _outside(text: str | None, dest_abs: str) -> bool:
    """An absolute path that is neither the source destination nor above or below it."""
    return text is not None and text.startswith("/") and not overlaps(clean(text), dest_abs)


def _redirects_ok(cmd: SimpleCommand, dest_abs: str) -> bool:
    for r in cmd.redirects:
        if r.heredoc is not None or not (r.operator.startswith(">") or r.operator in ("&>", "&>>")):
            continue
        t = r.target.text if r.target is not None else None
        if t is not None and (t.startswith("&") or t == "/dev/null"):
            continue
        if not _outside(t, dest_abs):
            return False
    return True


def _neutral(cmd: SimpleCommand, tool: ToolCommand | None, dest_abs: str) -> bool:
    """A command that reads no project file and writes nothing under the source destination."""
    if not _redirects_ok(cmd, dest_abs):
        return False
    if tool is not None:
        return _neutral_tool(tool)
    prog = cmd.program
    if prog in _SYSTEM_PROGRAMS:
        return True
    if prog == "corepack":
        return bool(cmd.args) and cmd.args[0].text in ("enable", "prepare", "disable")
    if prog in _PATH_PROGRAMS:
        return all(w.text is not None and (w.text.startswith("-") or _outside(w.text, dest_abs)) for w in cmd.args)
    return False


# subcommands of each tool that install nothing from the project (global installs, caches, settings)
_NEUTRAL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "pip": ("cache",), "uv": ("cache", "python ", "tool install"), "npm": ("cache", "config"),
    "yarn": ("cache", "config", "global add"), "pnpm": ("config", "store"), "poetry": ("config", "self", "cache"),
    "bundle": ("config",), "composer": ("global",),
}


def _neutral_tool(tool: ToolCommand) -> bool:
    m, sub = tool.manager, tool.subcommand or ""
    if m in SYSTEM_MANAGERS:
        return True
    if tool.has_flag(*_ELSEWHERE):
        return False
    if sub.startswith(_NEUTRAL_SUBCOMMANDS.get(m, ())) or (m, sub) == ("composer", "self-update"):
        return True
    named = bool(tool.packages) and not tool.files
    if m == "pip":
        return sub == "install" and named and not tool.has_flag(
            "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target")
    if m in ("uv", "gem"):
        return sub == ("pip install" if m == "uv" else "install") and named
    if m == "npm":
        return sub == "install" and tool.has_flag("-g", "--global") and not tool.files
    return m == "pnpm" and sub == "add" and tool.has_flag("-g", "--global")


def system_run(ctx: Context, ins: Instruction, source: SourceCopy) -> bool:
    """A RUN between the source copy and the install that plainly does not read the source."""
    script = ctx.script(ins)
    if script is None or script.has_error or _bind_mount(ctx, ins) or not script.commands:
        return False
    return all(cmd.program == "cd" or _neutral(cmd, parse_tool(cmd), source.dest_abs) for cmd in script.commands)


# --------------------------------------------------------------------------- a download step to add

def _missing_step(ctx: Context, stage: Stage, source: SourceCopy, run: Instruction, script: Script,
                  cwd: str | None) -> RunPlan | None:
    """`go build` / `mvn package` right after the source copy: add the download step first."""
    link = script.chain[0]
    if link.kind is not Construct.COMMAND or len(link.commands) != 1 or _bind_mount(ctx, run):
        return None
    cmd = link.commands[0]
    tool = parse_tool(cmd)
    if tool is None:
        return None
    site = _site(ctx, stage, source, cwd)
    try:
        if tool.manager == "go" and tool.subcommand in ("build", "install", "test", "vet") and not tool.packages:
            inst = _go_download(stage, cmd, tool, site)
        elif tool.manager == "mvn" and any(w.text in _java().BUILD_GOALS for w in tool.operands):
            inst = _mvn_download(cmd, tool, site)
        else:
            return None
    except Reject:
        return None
    if inst is None:
        return None
    step, install = inst
    return RunPlan([install], step, _whole_rest(ctx, run))


def _java() -> ModuleType:
    from ...ecosystems import java  # a Maven build only

    return java


def _go_download(stage: Stage, cmd: SimpleCommand, tool: ToolCommand, site: InstallSite
                 ) -> tuple[str, Install] | None:
    if tool.has_flag("-mod", "-modfile", "-C") or site.earlier_run("go", {"mod download"}):
        return None
    if any(i.keyword == "ENV" and re.search(r"-mod=|GO111MODULE[= ]+off", i.args) for i in stage.instructions):
        return None
    M = Manifests(site)
    from ...ecosystems import go  # a Go build only

    if go.module_manifests(M) is None or M.get("go.sum", add=False) is None or M.exists_any("vendor"):
        return None
    env = [a.raw for a in cmd.assignments if a.name in _GO_ENV]
    return " ".join([*env, "go mod download"]), Install(
        "go mod download", M.found, added=True, unsafe=["adds a `go mod download` step the Dockerfile did not have"])


def _mvn_download(cmd: SimpleCommand, tool: ToolCommand, site: InstallSite) -> tuple[str, Install] | None:
    if tool.has_flag("-f", "--file", "-pl", "--projects", "-rf", "--resume-from", "-o", "--offline"):
        return None
    java = _java()
    if site.earlier(java.dependency_goal):
        return None
    M = Manifests(site)
    if java.pom(M) is None:
        return None
    java.tool_files(M, tool)
    words = [tool.tool_word.raw]
    for f in tool.flags:
        if f.word.raw not in words:
            words.append(f.word.raw)
        if f.value_word is not None and f.value_word is not f.word:
            words.append(f.value_word.raw)
    step = " ".join([*[a.raw for a in cmd.assignments], *words, "dependency:go-offline"])
    return step, Install("mvn dependency:go-offline", M.found, added=True, unsafe=[
        "adds a `mvn dependency:go-offline` step; plugins resolved later still download during the build"])


def _whole_rest(ctx: Context, run: Instruction) -> str:
    text = ctx.text
    last = run.lines[-1]
    content_end = last.start + len(last.content)
    return text[run.logical_to_offset(run.args_offset):content_end].rstrip(" \t")

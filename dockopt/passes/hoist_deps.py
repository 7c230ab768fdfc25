"""Copy the dependency manifests and install the dependencies before copying the whole source.

## What it does
Finds a stage that copies a source directory (`COPY . /app`, `COPY app/ .`) and then installs
dependencies from manifests that this copy brought in (`npm ci`, `yarn install`,
`pnpm install`, `pip install -r requirements.txt`, `poetry install`, `pipenv install`,
`uv sync`, `go mod download`, `bundle install`, `mvn dependency:go-offline`,
`composer install`). It inserts `COPY <manifests> <dest>` in place of the source copy and moves
the source copy below the install, so that the install layer only depends on the manifests.

Only manifests that exist in the build context and that BuildKit sends (not `.dockerignore`d)
are copied: `package.json` with `package-lock.json`/`npm-shrinkwrap.json`/`.npmrc`;
`yarn.lock`, `.yarnrc(.yml)` and `.yarn/releases|plugins|patches`; `pnpm-lock.yaml`;
every requirements file reached through nested `-r`/`-c` includes, each at its own relative
path; `pyproject.toml` with `poetry.lock`/`poetry.toml` or `uv.lock`/`.python-version`;
`Pipfile(.lock)`; `go.mod`/`go.sum`; `Gemfile(.lock)` and `.bundle/config`; `pom.xml` and
`.mvn/`; `composer.json`/`composer.lock`/`auth.json`. The manifest `COPY` carries the
`--chown`/`--chmod`/`--link` flags of the source copy, and a relative destination keeps its
meaning: when a `WORKDIR` sits between the source copy and the install, the moved source copy
gets the absolute destination. A `RUN` that installs and then builds (`npm ci && npm run build`)
is split at the `&&`: the install goes up, the build stays after the source copy. A project
without a lockfile hoists `package.json` alone; the install command is never changed
(`npm install` stays `npm install`).

## Why is this bad?
BuildKit re-runs a step when a file copied before it changes. With the whole source copied
first, editing any source file invalidates the dependency install, so every rebuild downloads
and installs every dependency again. With the manifests copied first, the install layer is
reused until the manifests themselves change.

## Example
```dockerfile
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci && npm run build
```
Use instead:
```dockerfile
FROM node:20
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
```

## Fix safety
Safe when the install only reads the manifests: the same files are installed in the same
place, and the source copy, moved below the install, then brings the rest (a lockfile the
install rewrote is replaced by the context's copy, as `COPY . .` would do later anyway).
Only `ARG`, `ENV`, `USER`, `WORKDIR`, `LABEL`, `EXPOSE` and similar instructions, or a `COPY`
to an unrelated path, may sit between the two; the install stays below them.

Unsafe (applied with `--unsafe-fixes`, the reason is in the message) when something may
differ: package.json has install lifecycle scripts (`preinstall`, `install`, `postinstall`,
`prepare`) that name no file of the context; a `.pnpmfile.cjs` hook; a `RUN` of system commands
(apt-get, useradd...) between the copy and the install, which the source copy then moves below;
a Poetry/uv project whose own package would be installed (the hoisted install gets `--no-root`
/ `--no-install-project` and the original command stays after the source copy); `composer
install` with scripts or an autoloader that scans the source (hoisted with `--no-scripts
--no-autoloader`); `go build` / `mvn package` without a download step (a `go mod download` /
`mvn dependency:go-offline` step is added).

No fix when the install may run project code or needs more than the manifests: lifecycle
scripts that name files of the context, `binding.gyp`, workspaces, local path dependencies
(`file:`, `-e .`, `./pkg`, path sources, Gemfile `gemspec`), `pip install .`, a requirements
file the source copy does not bring, Maven modules; and while the context sends an
install output directory (`node_modules`, `vendor`, `.venv`) that the moved source copy would
copy over the installed one (exclude it first, see DO204).
"""
from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..facts.files import ContextFiles
from ..facts.paths import clean, has_vars, is_remote, is_under, join, known, overlaps, relative
from ..findings import Edit, Finding, Fix, Safety
from ..shell import leaks_state, parse_tool
from ..shell.model import AND, Construct
from ..suppress import suppressed_codes
from ..syntax import Instruction, Stage
from .base import Context, Pass, newline_of
from .copies import CopyOp, copy_op, plain_word
from .edits import continuation_indent, last_operand_span

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

# instructions that may sit between the source COPY and the install: they touch no file
_PASSIVE = frozenset({"ENV", "ARG", "USER", "WORKDIR", "LABEL", "EXPOSE", "SHELL", "CMD",
                      "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER"})
_CARRIED_FLAGS = frozenset({"chown", "chmod", "link"})
_SYSTEM_MANAGERS = frozenset({"apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "tdnf",
                              "dnf5", "zypper"})
_SYSTEM_PROGRAMS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod",
                              "ldconfig", "update-ca-certificates", "locale-gen", "apt-key",
                              "update-alternatives", "dpkg-reconfigure", "true", ":"})
_PATH_PROGRAMS = frozenset({"mkdir", "rm", "ln", "chmod", "chown", "touch"})
_NPM_LIFECYCLE = ("preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare")
_GO_ENV = frozenset({"GOPROXY", "GOPRIVATE", "GOFLAGS", "GONOSUMDB", "GOSUMDB", "GOINSECURE",
                     "GONOPROXY", "GONOSUMCHECK", "GOTOOLCHAIN"})
_MVN_BUILD_GOALS = frozenset({"package", "install", "verify", "compile", "test", "deploy",
                              "test-compile"})


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SourceCopy:
    """`COPY <dir> <dest>`: a whole directory of the context copied into the image."""

    ins: Instruction
    op: CopyOp
    src: str          # context-relative directory
    dest_abs: str     # image path (may be under the unknown base WORKDIR)
    files: ContextFiles

    def ctx_path(self, image_path: str | None) -> str | None:
        """The context file this copy puts at `image_path`, if it exists and is sent."""
        if image_path is None or not is_under(image_path, self.dest_abs):
            return None
        rel = relative(image_path, self.dest_abs)
        ctx = clean(self.src + "/" + rel) if self.src != "." else clean(rel)
        return ctx if self.files.sent_file(ctx) else None


class Reject(Exception):
    """The install is related to the source copy but must not be hoisted."""

    def __init__(self, reason: str, show: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.show = show      # report it as a finding without a fix


@dataclass
class Install:
    what: str                                   # `npm ci`
    manifests: list[tuple[str, str]]            # (context path, image path)
    outputs: list[str] = field(default_factory=list)    # image dirs the install writes into
    unsafe: list[str] = field(default_factory=list)
    dup: bool = False                           # the original stays after the source copy too
    inserts: list[tuple[int, str]] = field(default_factory=list)   # script offset, text
    added: bool = False                         # a download step the Dockerfile did not have


# --------------------------------------------------------------------------- the pass


class HoistDeps(Pass):
    code = "DO201"
    name = "hoist-deps"
    summary = "Dependencies are installed after the whole source is copied: copy the manifests first"
    needs_context = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not any(i.keyword in ("COPY", "ADD") for i in ctx.tree.instructions):
            return
        if not ctx.files.available:
            return
        for stage in ctx.tree.stages:
            for k, ins in enumerate(stage.instructions):
                source = _source_copy(ctx, ins)
                if source is None or self.code in suppressed_codes(ins):
                    continue
                finding = self._plan(ctx, stage, k, source)
                if finding is not None:
                    yield finding

    # -- scan from the source copy to the install ------------------------------------------
    def _plan(self, ctx: Context, stage: Stage, k: int, source: SourceCopy) -> Finding | None:
        between: list[Instruction] = []
        unsafe: list[str] = []
        for ins in stage.instructions[k + 1:]:
            kw = ins.keyword
            if kw == "RUN":
                try:
                    plan = _run_plan(ctx, stage, source, ins)
                except Reject as exc:
                    if exc.show:
                        return self.finding(source.ins, f"{_short(source.ins)} copies the source before "
                                            f"the install at line {ins.start_line}, but {exc.reason}")
                    return None
                if plan is not None:
                    return self._fix(ctx, source, ins, between, unsafe, plan)
                if _system_run(ctx, ins, source):
                    between.append(ins)
                    unsafe.append(f"the source copy moves below the RUN at line {ins.start_line}, "
                                  "which must not read the copied files")
                    continue
                return None
            if kw in _PASSIVE:
                between.append(ins)
                continue
            if kw in ("COPY", "ADD"):
                op = copy_op(ins)
                dest = join(ctx.state(ins).cwd, op.dest) if op else None
                if op is None or dest is None or overlaps(dest, source.dest_abs):
                    return None
                between.append(ins)
                continue
            return None
        return None

    # -- the rewrite -------------------------------------------------------------------------
    def _fix(self, ctx: Context, source: SourceCopy, run: Instruction, between: list[Instruction],
             unsafe: list[str], plan: RunPlan) -> Finding | None:
        text = ctx.text
        nl = newline_of(ctx.tree)
        S = source.ins
        # the manifest COPYs, one per image directory, in place of the source copy
        manifests: list[tuple[str, str]] = []
        seen: set[str] = set()
        for inst in plan.installs:
            for c, img in inst.manifests:
                if img not in seen:
                    seen.add(img)
                    manifests.append((c, img))
        groups: dict[str, list[str]] = {}
        for c, img in manifests:
            rel_dir = posixpath.dirname(relative(img, source.dest_abs)) or "."
            groups.setdefault(rel_dir, []).append(c)
        kw = "COPY" if S.parsed.keyword.isupper() else "copy"
        flags = [raw for raw in S.parsed.flags]
        lines = []
        for rel_dir, srcs in groups.items():
            dest = _render_dest(source.op.dest, source.dest_abs, rel_dir)
            if dest is None or not all(plain_word(s) for s in srcs) or not plain_word(dest):
                return None
            lines.append(" ".join([kw, *flags, *srcs, dest]))
        # the moved source copy: absolute destination when a WORKDIR changes what '.' means
        s_text = S.source
        workdir_between = any(i.keyword == "WORKDIR" for i in between)
        if workdir_between and not source.op.dest.startswith("/"):
            if not known(source.dest_abs):
                return None
            span = last_operand_span(S)
            if span is None:
                return None
            new_dest = source.dest_abs + ("/" if source.op.dest.endswith("/") and source.dest_abs != "/" else "")
            s_text = text[S.start:span[0]] + new_dest + text[span[1]:S.end]
        if any(i.keyword in ("ENV", "ARG") for i in between) and has_vars(S.logical):
            return None
        kept_leading, moved_leading = _split_leading(S)
        edit_a = Edit(S.leading_start, S.end, "".join(ln.text for ln in kept_leading)
                      + nl.join(lines) + (S.lines[-1].newline or nl))
        # at the install: the hoisted part, the source copy, what stays after it
        head = text[run.start:run.logical_to_offset(run.args_offset)]
        body = head + plan.hoisted + nl + "".join(ln.text for ln in moved_leading) + s_text
        if not s_text.endswith(("\n", "\r")):
            body += nl
        if plan.rest is not None:
            body += head + plan.rest + (run.lines[-1].newline)
        elif not run.lines[-1].newline:
            body = body.rstrip("\r\n")
        edit_b = Edit(run.start, run.end, body)
        reasons = [*unsafe, *[r for inst in plan.installs for r in inst.unsafe]]
        safety = Safety.UNSAFE if reasons else Safety.SAFE
        what = " && ".join(inst.what for inst in plan.installs)
        names = ", ".join(c for c, _ in manifests)
        if any(inst.added for inst in plan.installs):
            message = (f"{_short(S)} copies the whole source before the build at line {run.start_line} "
                       f"downloads the dependencies: every source change downloads them again; copy "
                       f"{names} first and run `{what}` before the source copy")
        else:
            message = (f"{_short(S)} copies the whole source before `{what}` (line {run.start_line}): "
                       f"every source change re-runs the install; copy {names} first and install before "
                       f"the source copy")
        if reasons:
            message += " (unsafe: " + "; ".join(dict.fromkeys(reasons)) + ")"
        title = f"Copy {names} and install before the source copy"
        return Finding(self.code, message, S.start_line, S.column, S.end_line,
                       Fix(title, safety, (edit_a, edit_b)))


# --------------------------------------------------------------------------- source copies


def _source_copy(ctx: Context, ins: Instruction) -> SourceCopy | None:
    fs = ctx.files
    op = copy_op(ins)
    if op is None or len(op.sources) != 1 or not op.flag_names <= _CARRIED_FLAGS:
        return None
    src = op.sources[0]
    if is_remote(src) or has_vars(src) or any(ch in src for ch in "*?[\\"):
        return None
    rel = ContextFiles.norm(src)
    if rel is None or not fs.is_dir(rel) or not fs.is_sent(rel):
        return None
    dest_abs = join(ctx.state(ins).cwd, op.dest)
    if dest_abs is None:
        return None
    return SourceCopy(ins, op, rel, dest_abs, fs)


def _render_dest(orig: str, dest_abs: str, rel_dir: str) -> str | None:
    if orig.startswith("/"):
        if not known(dest_abs):
            return None
        p = dest_abs if rel_dir == "." else dest_abs.rstrip("/") + "/" + rel_dir
        return "/" if p == "/" else p.rstrip("/") + "/"
    p = clean(orig if rel_dir == "." else orig + "/" + rel_dir)
    if p == ".":
        return "./"
    if p.startswith("../") or p == "..":
        return None
    prefix = "./" if orig in (".", "./") or orig.startswith("./") else ""
    return prefix + p + "/"


def _split_leading(ins: Instruction):
    """(lines that stay, comment lines attached to the instruction that move with it)."""
    leading = list(ins.leading)
    moved: list = []
    while leading and leading[-1].kind == "COMMENT":
        moved.insert(0, leading.pop())
    return leading, moved


def _short(ins: Instruction) -> str:
    text = ins.logical.strip()
    return f"`{text if len(text) <= 60 else text[:57] + '...'}` (line {ins.start_line})"


# --------------------------------------------------------------------------- the RUN


@dataclass
class RunPlan:
    installs: list[Install]
    hoisted: str          # file text of the hoisted command (after `RUN <flags> `)
    rest: str | None      # file text of what stays after the source copy


def _bind_mount(ctx: Context, ins: Instruction) -> bool:
    return any(m.type == "bind" for m in ctx.mounts(ins))


def _run_plan(ctx: Context, stage: Stage, source: SourceCopy, run: Instruction) -> RunPlan | None:
    """How to split this RUN, None when it installs nothing from the source copy's manifests;
    raises Reject when it does but cannot be hoisted."""
    rs, _ = ctx.run_script(run)
    script = ctx.script(run)
    if rs is None or script is None or rs.kind != "shell":
        return None
    if script.has_error or not script.chain:
        return None
    cwd = ctx.state(run).cwd
    chain = script.chain
    kinds: list[tuple[str, Install | None]] = []
    link_cwd = cwd
    for link in chain:
        kind, inst, link_cwd = _classify_link(ctx, stage, source, run, script, link, link_cwd)
        kinds.append((kind, inst))
    # the hoisted prefix: installs and neutral commands, up to the first other command
    p = 0
    while p < len(kinds) and kinds[p][0] in ("install", "neutral"):
        p += 1
    installs = [inst for kind, inst in kinds[:p] if kind == "install" and inst is not None]
    if not installs:
        return _missing_step(ctx, stage, source, run, script, cwd, kinds)
    if _bind_mount(ctx, run):
        raise Reject("the RUN bind-mounts files of the context")
    for inst in installs:
        for out in inst.outputs:
            c = _ctx_dir(source, out)
            if c is not None:
                raise Reject(f"the context sends {c}/, which the moved source copy would copy over "
                             f"the installed one: exclude it in .dockerignore first (DO204)", show=True)
    dups = [i for i, (kind, inst) in enumerate(kinds[:p]) if kind == "install" and inst and inst.dup]
    rest_links = list(range(p, len(chain)))
    if rest_links or dups:
        # the split point must be `&&`: RUN a && b behaves as RUN a, then RUN b
        if rest_links and chain[p - 1].operator != AND:
            raise Reject("the install is not joined to the rest of the RUN by &&")
        if dups and any(chain[i].operator != AND for i in range(p - 1)):
            raise Reject("the install list is not a plain && chain")
        prefix_end = chain[p - 1].end
        if any(leak.start < prefix_end for leak in leaks_state(script)):
            raise Reject("the hoisted commands change shell state the rest of the RUN relies on")
    if chain[-1].operator not in (None, ";") and p == len(chain):
        return None
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
    hoisted_text = "".join(hoisted)
    rest = None
    if rest_links or dups:
        pieces = [text[slice(*_link_file_span(rs, chain[i]))] for i in dups]
        if rest_links:
            last = run.lines[-1]
            content_end = last.start + len(last.content)
            pieces.append(text[rs.span(chain[p].start, chain[p].start)[0]:content_end].rstrip(" \t"))
        multiline = len(run.lines) > 1
        sep = (f" && {ctx.tree.escape}" + newline_of(ctx.tree) + continuation_indent(ctx.tree)) if multiline else " && "
        rest = sep.join(pieces)
    return RunPlan(installs, hoisted_text, rest)


def _link_file_span(rs, link) -> tuple[int, int]:
    return rs.span(link.start, link.start)[0], rs.span(link.end, link.end)[0]


def _ctx_dir(source: SourceCopy, image_dir: str) -> str | None:
    """The context directory the source copy puts at `image_dir`, when it exists and is sent."""
    if not is_under(image_dir, source.dest_abs):
        return None
    rel = relative(image_dir, source.dest_abs)
    ctx = clean(source.src + "/" + rel) if source.src != "." else clean(rel)
    fs = source.files
    if fs.is_dir(ctx) and fs.is_sent(ctx):
        listed = fs.list_sent(ctx, cap=1)
        if listed is None or listed:
            return ctx
    return None


def _classify_link(ctx, stage, source, run, script, link, cwd):
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
        inst = _install(ctx, stage, source, run, tool, cwd)
        if inst is not None:
            return "install", inst, cwd
    if _neutral(cmd, tool, source.dest_abs):
        return "neutral", None, cwd
    return "other", None, cwd


def _static_paths_outside(cmd, dest_abs: str) -> bool:
    for w in cmd.args:
        t = w.text
        if t is None:
            return False
        if t.startswith("-"):
            continue
        if not t.startswith("/") or overlaps(clean(t), dest_abs):
            return False
    return True


def _redirects_ok(cmd, dest_abs: str) -> bool:
    for r in cmd.redirects:
        if r.heredoc is not None:
            continue
        t = r.target.text if r.target is not None else None
        if r.operator.startswith(">") or r.operator in ("&>", "&>>"):
            if t is None:
                return False
            if t.startswith("&") or t == "/dev/null":
                continue
            if not t.startswith("/") or overlaps(clean(t), dest_abs):
                return False
    return True


def _neutral(cmd, tool, dest_abs: str) -> bool:
    """A command that reads no project file and writes nothing under the source destination."""
    if not _redirects_ok(cmd, dest_abs):
        return False
    if tool is not None:
        m, sub = tool.manager, tool.subcommand or ""
        if m in _SYSTEM_MANAGERS:
            return True
        if tool.has_flag("--local", "-C", "--directory", "--prefix", "--cwd", "--project"):
            return False
        if m == "pip":
            if sub.startswith("cache"):
                return True
            return sub == "install" and not tool.files and bool(tool.packages) and not tool.has_flag(
                "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target")
        if m == "uv":
            return (sub == "pip install" and not tool.files and bool(tool.packages)) or sub.startswith(
                ("cache", "python ", "tool install"))
        if m == "npm":
            return (sub == "install" and tool.has_flag("-g", "--global") and not tool.files) or sub.startswith(
                ("cache", "config"))
        if m == "yarn":
            return sub.startswith(("cache", "config", "global add"))
        if m == "pnpm":
            return sub.startswith(("config", "store")) or (sub == "add" and tool.has_flag("-g", "--global"))
        if m == "poetry":
            return sub.startswith(("config", "self", "cache"))
        if m == "gem":
            return sub == "install" and bool(tool.packages) and not tool.files
        if m == "bundle":
            return sub.startswith("config")
        if m == "composer":
            return sub.startswith("global") or sub == "self-update"
        return False
    prog = cmd.program
    if prog in _SYSTEM_PROGRAMS or prog in ("echo", "printf"):
        return True
    if prog == "corepack":
        first = cmd.args[0].text if cmd.args else None
        return first in ("enable", "prepare", "disable")
    if prog in _PATH_PROGRAMS:
        return _static_paths_outside(cmd, dest_abs)
    return False


def _system_run(ctx: Context, ins: Instruction, source: SourceCopy) -> bool:
    """A RUN between the source copy and the install that plainly does not read the source."""
    script = ctx.script(ins)
    if script is None or script.has_error or _bind_mount(ctx, ins) or not script.commands:
        return False
    for cmd in script.commands:
        if cmd.program == "cd":
            continue
        if not _neutral(cmd, parse_tool(cmd), source.dest_abs):
            return False
    return True


def _earlier_tool(stage: Stage, source: SourceCopy, ctx: Context, manager: str, subcommands) -> bool:
    """A RUN before the source copy in this stage already runs this tool (the deps are installed
    from the manifests there; the one after the source copy is the project's own)."""
    for ins in stage.instructions:
        if ins is source.ins:
            return False
        if ins.keyword != "RUN":
            continue
        script = ctx.script(ins)
        if script is None:
            continue
        for cmd in script.commands:
            tool = parse_tool(cmd)
            if tool is not None and tool.manager == manager and (tool.subcommand or "") in subcommands:
                return True
    return False


# --------------------------------------------------------------------------- ecosystems


class _M:
    """Collects the manifests of one install."""

    def __init__(self, source: SourceCopy, cwd: str | None):
        self.source = source
        self.cwd = cwd
        self.found: list[tuple[str, str]] = []

    def img(self, name: str) -> str | None:
        return join(self.cwd, name)

    def get(self, name: str, add: bool = True) -> str | None:
        img = self.img(name)
        c = self.source.ctx_path(img)
        if c is not None and add and all(i != img for _, i in self.found):
            self.found.append((c, img))
        return c

    def exists_any(self, name: str) -> str | None:
        """Context path of `name` (file or directory) when the source copy sends it."""
        img = self.img(name)
        if img is None or not is_under(img, self.source.dest_abs):
            return None
        rel = relative(img, self.source.dest_abs)
        c = clean(self.source.src + "/" + rel) if self.source.src != "." else clean(rel)
        return c if self.source.files.sent(c) else None

    def add_tree(self, name: str, cap: int = 50) -> None:
        c = self.exists_any(name)
        if c is None:
            return
        fs = self.source.files
        listed = fs.list_sent(c, cap=cap) if fs.is_dir(c) else [c]
        if listed is None:
            raise Reject(f"{name} holds too many files to copy one by one")
        base = self.img(name)
        for f in listed:
            rel = f[len(c) + 1:] if f != c else ""
            img = base + "/" + rel if rel else base
            if all(i != img for _, i in self.found):
                self.found.append((f, img))


def _install(ctx, stage, source, run, tool, cwd) -> Install | None:
    m = tool.manager
    if m == "uv" and (tool.subcommand or "").startswith("pip "):
        m = "pip"  # `uv pip install -r` reads requirements files like pip
    reader = _INSTALL_READERS.get(m)
    return reader(ctx, stage, source, tool, cwd) if reader else None


def _what(tool) -> str:
    cmd = tool.command
    text = " ".join(w.raw for w in cmd.argv[cmd.name_index or 0:])
    return text if len(text) <= 50 else text[:47] + "..."


def _json(fs: ContextFiles, c: str) -> dict:
    try:
        data = json.loads(fs.text(c) or "")
    except ValueError:
        raise Reject(f"{c} does not parse") from None
    if not isinstance(data, dict):
        raise Reject(f"{c} is not a JSON object")
    return data


def _toml(fs: ContextFiles, c: str) -> dict:
    try:
        return tomllib.loads(fs.text(c) or "")
    except (tomllib.TOMLDecodeError, ValueError):
        raise Reject(f"{c} does not parse") from None


_LOCAL_SPEC = re.compile(r"^(?:file:|link:|portal:|workspace:|\.{1,2}/|/|~/)")
_WORD_SPLIT = re.compile(r"[\s;&|()<>\"'`=,]+")


def _script_refs(fs: ContextFiles, pkg_dir: str, script: str, ignore: set[str]) -> list[str]:
    """Context paths (relative to the package directory) that a package.json script names."""
    refs = []
    for token in _WORD_SPLIT.split(script):
        token = token.strip()
        if not token or token.startswith("-") or "$" in token or "://" in token:
            continue
        token = token.removeprefix("./")
        first = token.split("/")[0]
        if not first or first in (".", "..") or first == "node_modules":
            continue
        for cand in {token, first}:
            c = clean(pkg_dir + "/" + cand) if pkg_dir != "." else clean(cand)
            if c not in ignore and fs.exists(c):
                refs.append(c)
                break
    return refs


def _node(ctx, stage, source, tool, cwd) -> Install | None:
    m, sub = tool.manager, tool.subcommand
    if m == "npm":
        ok = sub == "ci" or (sub == "install" and not tool.packages and not tool.files)
    elif m == "yarn":
        ok = sub == "install" and not tool.operands
    else:
        ok = (sub == "install" and not tool.operands) or sub == "fetch"
    if not ok or tool.has_flag("-g", "--global", "--prefix", "-C", "--dir", "--cwd", "-w", "--workspace",
                               "--workspaces", "--modules-folder", "--filter", "-F", "--location",
                               "--global-folder"):
        return None
    if _earlier_tool(stage, source, ctx, m, {sub or ""}):
        return None
    M = _M(source, cwd)
    fs = source.files
    fetch = m == "pnpm" and sub == "fetch"
    pkg = M.get("package.json", add=not fetch)
    if fetch:
        if M.get("pnpm-lock.yaml") is None:
            return None
        M.get(".npmrc")
        return Install(_what(tool), M.found, outputs=[], unsafe=[])
    if pkg is None:
        return None
    data = _json(fs, pkg)
    pkg_dir = posixpath.dirname(pkg) or "."
    if data.get("workspaces"):
        raise Reject("package.json declares workspaces (their package.json files are needed too)")
    if m == "pnpm" and M.exists_any("pnpm-workspace.yaml"):
        raise Reject("pnpm-workspace.yaml declares a workspace")
    for section in ("dependencies", "devDependencies", "optionalDependencies", "overrides",
                    "resolutions"):
        deps = data.get(section)
        if isinstance(deps, dict):
            for name, spec in deps.items():
                if isinstance(spec, str) and _LOCAL_SPEC.match(spec):
                    raise Reject(f"{name} is a local path dependency ({spec})")
    pnpm_cfg = data.get("pnpm") if isinstance(data.get("pnpm"), dict) else {}
    if pnpm_cfg.get("patchedDependencies") or data.get("patchedDependencies"):
        raise Reject("package.json patches dependencies with files of the project")
    unsafe: list[str] = []
    if m == "npm":
        locks = ["package-lock.json", "npm-shrinkwrap.json"]
    elif m == "yarn":
        locks = ["yarn.lock", ".yarnrc", ".yarnrc.yml"]
    else:
        locks = ["pnpm-lock.yaml"]
    for name in locks + [".npmrc"]:
        M.get(name)
    if m == "yarn":
        if M.exists_any(".yarn/cache"):
            raise Reject("the install reads the offline cache .yarn/cache")
        for d in (".yarn/releases", ".yarn/plugins", ".yarn/patches"):
            M.add_tree(d)
    if m == "pnpm" and M.exists_any(".pnpmfile.cjs"):
        M.get(".pnpmfile.cjs")
        unsafe.append(".pnpmfile.cjs runs hooks during the install")
    scripts = data.get("scripts") if isinstance(data.get("scripts"), dict) else {}
    lifecycle = [k for k in _NPM_LIFECYCLE if isinstance(scripts.get(k), str) and scripts.get(k).strip()]
    npmrc = M.get(".npmrc", add=False)
    ignore_scripts = tool.has_flag("--ignore-scripts") or (
        npmrc is not None and re.search(r"^\s*ignore-scripts\s*=\s*true", fs.text(npmrc) or "", re.M))
    if not ignore_scripts:
        if "install" not in scripts and "preinstall" not in scripts and M.exists_any("binding.gyp"):
            raise Reject("binding.gyp makes the install build native code from the project")
        manifests = {c for c, _ in M.found}
        for k in lifecycle:
            refs = _script_refs(fs, pkg_dir, scripts[k], manifests)
            if refs:
                raise Reject(f"the {k} script reads {', '.join(refs)}")
        if lifecycle:
            shown = "; ".join(f"{k}: `{scripts[k]}`" for k in lifecycle)
            unsafe.append(f"package.json runs lifecycle scripts on install ({shown}); they may read project files")
    outputs = [o for o in [M.img("node_modules")] if o]
    return Install(_what(tool), M.found, outputs=outputs, unsafe=unsafe)


# -- pip --------------------------------------------------------------------------------------

_REQ_OPT = re.compile(r"^(-r|--requirement|-c|--constraint|-e|--editable|-f|--find-links)(?:=|\s+|(?=[^-\s]))(.+)$")


def _requirement_lines(text: str) -> Iterable[str]:
    buf = ""
    for raw in text.splitlines():
        line = raw
        if line.endswith("\\"):
            buf += line[:-1]
            continue
        line = buf + line
        buf = ""
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line
    if buf.strip():
        yield buf.strip()


def _local_requirement(line: str) -> bool:
    if "@" in line and not line.startswith(("git+", "hg+", "svn+", "bzr+")):
        after = line.split("@", 1)[1].strip()
        if after.startswith("file:"):
            return True
    if is_remote(line) or line.startswith(("git+", "hg+", "svn+", "bzr+")):
        return line.startswith("file:")
    if line.startswith((".", "/", "~", "file:")):
        return True
    first = line.split()[0].split(";")[0]
    return first.lower().endswith((".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")) or "/" in first


def _pip(ctx, stage, source, tool, cwd) -> Install | None:
    sub = tool.subcommand or ""
    if sub not in ("install", "pip install", "pip sync"):
        return None
    flags = tool.flags
    reqs = [f.value for f in flags if f.name in ("-r", "--requirement", "--requirements")]
    cons = [f.value for f in flags if f.name in ("-c", "--constraint", "--constraints")]
    if sub == "pip sync":
        reqs += [w.text for w in tool.operands]
    if not reqs:
        return None
    if any(v is None for v in reqs + cons):
        raise Reject("a requirements file name depends on a variable")
    M = _M(source, cwd)
    first = M.img(reqs[0])
    if source.ctx_path(first) is None:
        return None
    if tool.has_flag("-e", "--editable"):
        raise Reject("an editable install needs the project source")
    flag_files = {f.value for f in flags if f.name in ("-r", "--requirement", "--requirements", "-c",
                                                       "--constraint", "--constraints")}
    if any(fa.path not in flag_files for fa in tool.files) and sub != "pip sync":
        raise Reject("the install names a local path")
    for f in flags:
        if f.name in ("-f", "--find-links") and f.value and not is_remote(f.value):
            raise Reject("--find-links names a local directory")
    todo = [M.img(r) for r in reqs + cons]
    seen: set[str] = set()
    while todo:
        img = todo.pop(0)
        if img is None:
            raise Reject("a requirements file path is not static")
        if img in seen:
            continue
        seen.add(img)
        c = source.ctx_path(img)
        if c is None:
            raise Reject(f"{img} is not brought by the source copy")
        if all(i != img for _, i in M.found):
            M.found.append((c, img))
        text = source.files.text(c)
        if text is None:
            raise Reject(f"{c} cannot be read")
        base = posixpath.dirname(img)
        for line in _requirement_lines(text):
            mo = _REQ_OPT.match(line)
            if mo:
                opt, val = mo.group(1), mo.group(2).strip()
                if opt in ("-r", "--requirement", "-c", "--constraint"):
                    if is_remote(val):
                        continue
                    todo.append(join(base, val))
                elif opt in ("-e", "--editable"):
                    if not is_remote(val) and not val.startswith(("git+", "hg+", "svn+", "bzr+")):
                        raise Reject(f"{c} installs a local project ({line})")
                elif not is_remote(val):
                    raise Reject(f"{c} reads packages from a local directory ({line})")
                continue
            if line.startswith("-"):
                continue
            if _local_requirement(line):
                raise Reject(f"{c} names a local path ({line})")
    return Install(_what(tool), M.found)


# -- poetry, pipenv, uv -------------------------------------------------------------------------


def _has_path_dep(obj) -> bool:
    if isinstance(obj, dict):
        if "path" in obj or obj.get("workspace") is True:
            return True
        return any(_has_path_dep(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_has_path_dep(v) for v in obj)
    return False


def _pep621_local(data: dict) -> bool:
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    deps = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        deps += list(group or [])
    return any(isinstance(d, str) and re.search(r"@\s*(file:|\.{1,2}/|/)", d) for d in deps)


def _insert_flag(tool, flag: str) -> tuple[int, str]:
    return tool.flag_insertion(flag)


def _opening(ctx, stage, source, tool, cwd, subcommands: tuple[str, ...], dir_flags: tuple[str, ...],
             manifest: str):
    """What most install readers check first: the subcommand, no flag that points the tool at
    another directory, no earlier install by the same tool in the stage, and the manifest the
    install reads. (the manifest lookup, its path) or None."""
    if tool.subcommand not in subcommands or tool.has_flag(*dir_flags):
        return None
    if _earlier_tool(stage, source, ctx, tool.manager, set(subcommands)):
        return None
    M = _M(source, cwd)
    path = M.get(manifest)
    return None if path is None else (M, path)


def _poetry(ctx, stage, source, tool, cwd) -> Install | None:
    opened = _opening(ctx, stage, source, tool, cwd, ("install", "sync"), ("-C", "--directory", "-P", "--project"),
                      "pyproject.toml")
    if opened is None:
        return None
    M, pyproject = opened
    if tool.has_flag("--only-root"):
        raise Reject("--only-root installs the project itself")
    data = _toml(source.files, pyproject)
    poetry = (data.get("tool") or {}).get("poetry")
    if not isinstance(poetry, dict) and "project" not in data:
        raise Reject("pyproject.toml has no Poetry project")
    poetry = poetry if isinstance(poetry, dict) else {}
    if _has_path_dep({k: poetry.get(k) for k in ("dependencies", "dev-dependencies", "group")}) \
            or _pep621_local(data):
        raise Reject("pyproject.toml has a path dependency")
    M.get("poetry.lock")
    M.get("poetry.toml")
    inst = Install(_what(tool), M.found, outputs=[o for o in [M.img(".venv")] if o])
    if not (tool.has_flag("--no-root") or poetry.get("package-mode") is False):
        inst.dup = True
        inst.inserts.append(_insert_flag(tool, "--no-root"))
        inst.unsafe.append("the hoisted install gets --no-root; the original `poetry install` stays "
                           "after the source copy to install the project itself")
    return inst


def _pipenv(ctx, stage, source, tool, cwd) -> Install | None:
    if tool.packages or tool.files:
        return None
    opened = _opening(ctx, stage, source, tool, cwd, ("install", "sync"), ("-r", "--requirements"), "Pipfile")
    if opened is None:
        return None
    M, pipfile = opened
    text = source.files.text(pipfile) or ""
    if re.search(r"\bpath\s*=|\beditable\s*=\s*true", text):
        raise Reject("the Pipfile has a path dependency")
    M.get("Pipfile.lock")
    return Install(_what(tool), M.found, outputs=[o for o in [M.img(".venv")] if o])


def _uv(ctx, stage, source, tool, cwd) -> Install | None:
    opened = _opening(ctx, stage, source, tool, cwd, ("sync",),
                      ("--project", "--directory", "--package", "--all-packages"), "pyproject.toml")
    if opened is None:
        return None
    M, pyproject = opened
    data = _toml(source.files, pyproject)
    uv = ((data.get("tool") or {}).get("uv")) or {}
    if not isinstance(uv, dict):
        uv = {}
    if uv.get("workspace"):
        raise Reject("pyproject.toml declares a uv workspace")
    if _has_path_dep(uv.get("sources") or {}) or _pep621_local(data):
        raise Reject("pyproject.toml has a path source")
    for name in ("uv.lock", ".python-version", "uv.toml"):
        M.get(name)
    inst = Install(_what(tool), M.found, outputs=[o for o in [M.img(".venv")] if o])
    package = uv.get("package")
    installs_project = package is True or (package is None and "build-system" in data)
    if installs_project and not tool.has_flag("--no-install-project", "--no-install-workspace",
                                              "--only-group"):
        inst.dup = True
        inst.inserts.append(_insert_flag(tool, "--no-install-project"))
        inst.unsafe.append("the hoisted `uv sync` gets --no-install-project; the original stays after "
                           "the source copy to install the project itself")
    return inst


# -- go, bundler, maven, composer ----------------------------------------------------------------

_GO_LOCAL_REPLACE = re.compile(r"=>\s*(\.{1,2}/|/|\.{1,2}\s*$)", re.M)


def _go_module(M: _M) -> str | None:
    gomod = M.get("go.mod")
    if gomod is None:
        return None
    if M.exists_any("go.work"):
        raise Reject("go.work makes a multi-module workspace")
    if _GO_LOCAL_REPLACE.search(M.source.files.text(gomod) or ""):
        raise Reject("go.mod replaces a module with a local directory")
    M.get("go.sum")
    return gomod


def _go(ctx, stage, source, tool, cwd) -> Install | None:
    if tool.subcommand != "mod download" or tool.has_flag("-modfile", "-C"):
        return None
    if _earlier_tool(stage, source, ctx, "go", {"mod download"}):
        return None
    M = _M(source, cwd)
    if _go_module(M) is None:
        return None
    return Install(_what(tool), M.found)


def _bundle(ctx, stage, source, tool, cwd) -> Install | None:
    if (tool.subcommand or "install") != "install" or tool.operands:
        return None
    if tool.has_flag("--gemfile"):
        return None
    if _earlier_tool(stage, source, ctx, "bundle", {"install"}):
        return None
    M = _M(source, cwd)
    gemfile = M.get("Gemfile")
    if gemfile is None:
        return None
    text = source.files.text(gemfile) or ""
    if re.search(r"^\s*gemspec\b", text, re.M):
        raise Reject("the Gemfile loads the project's gemspec")
    if re.search(r"\bpath:|:path\s*=>|\beval_gemfile\b|\bFile\.|\brequire_relative\b", text):
        raise Reject("the Gemfile reads local files")
    for mo in re.finditer(r"\bruby\s+file:\s*[\"']([^\"']+)[\"']", text):
        if M.get(mo.group(1)) is None:
            raise Reject(f"the Gemfile reads {mo.group(1)}")
    M.get("Gemfile.lock")
    M.get(".bundle/config")
    outputs = []
    path = next((f.value for f in tool.flags if f.name == "--path"), None)
    if path:
        outputs.append(M.img(path))
    elif tool.has_flag("--deployment"):
        outputs.append(M.img("vendor/bundle"))
    return Install(_what(tool), M.found, outputs=[o for o in outputs if o])


def _maven_pom(M: _M) -> str | None:
    pom = M.get("pom.xml")
    if pom is None:
        return None
    text = M.source.files.text(pom) or ""
    if re.search(r"<modules>", text):
        raise Reject("pom.xml has modules (their poms are needed too)")
    if re.search(r"<parent>", text):
        rel = re.search(r"<relativePath>\s*([^<]*?)\s*</relativePath>", text)
        path = rel.group(1) if rel else "../pom.xml"
        if path:
            img = M.img(path)
            if img and not img.endswith(".xml"):
                img = img.rstrip("/") + "/pom.xml"
            if img and M.source.ctx_path(img) is not None:
                raise Reject("pom.xml inherits from a parent pom of the project")
    M.add_tree(".mvn")
    return pom


def _mvn_tool_files(M: _M, tool) -> None:
    for f in tool.flags:
        if f.name in ("-s", "--settings", "-gs", "--global-settings", "-t", "--toolchains") and f.value:
            if f.value.startswith("/"):
                continue
            if M.get(f.value) is None:
                raise Reject(f"{f.value} is not brought by the source copy")
    word = tool.tool_word.text or ""
    if tool.command.program == "mvnw":
        if M.get(word) is None:
            raise Reject("the Maven wrapper script is not in the context")


def _mvn(ctx, stage, source, tool, cwd) -> Install | None:
    goals = [w.text for w in tool.operands]
    if not goals or not all(g and g.startswith("dependency:") for g in goals):
        return None
    if tool.has_flag("-f", "--file", "-pl", "--projects", "-rf", "--resume-from"):
        return None
    if _earlier_tool_mvn(stage, source, ctx):
        return None
    M = _M(source, cwd)
    if _maven_pom(M) is None:
        return None
    _mvn_tool_files(M, tool)
    return Install(_what(tool), M.found)


def _earlier_tool_mvn(stage: Stage, source: SourceCopy, ctx: Context) -> bool:
    for ins in stage.instructions:
        if ins is source.ins:
            return False
        script = ctx.script(ins) if ins.keyword == "RUN" else None
        if script is None:
            continue
        for cmd in script.commands:
            tool = parse_tool(cmd)
            if tool is not None and tool.manager == "mvn" and any(
                    (w.text or "").startswith("dependency:") for w in tool.operands):
                return True
    return False


_COMPOSER_EVENTS = ("pre-install-cmd", "post-install-cmd", "pre-autoload-dump", "post-autoload-dump",
                    "post-root-package-install", "pre-update-cmd", "post-update-cmd")


def _composer(ctx, stage, source, tool, cwd) -> Install | None:
    if tool.operands:
        return None
    opened = _opening(ctx, stage, source, tool, cwd, ("install",), ("-d", "--working-dir"), "composer.json")
    if opened is None:
        return None
    M, cj = opened
    data = _json(source.files, cj)
    repos = data.get("repositories")
    repos = list(repos.values()) if isinstance(repos, dict) else (repos or [])
    if any(isinstance(r, dict) and r.get("type") == "path" for r in repos):
        raise Reject("composer.json has a path repository")
    M.get("composer.lock")
    M.get("auth.json")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    scripts = data.get("scripts") if isinstance(data.get("scripts"), dict) else {}
    autoload = data.get("autoload") if isinstance(data.get("autoload"), dict) else {}
    runs_scripts = any(e in scripts for e in _COMPOSER_EVENTS) and not tool.has_flag("--no-scripts")
    optimize = tool.has_flag("-o", "--optimize-autoloader", "-a", "--classmap-authoritative",
                             "--apcu-autoloader") or bool(config.get("optimize-autoloader")) \
        or bool(config.get("classmap-authoritative"))
    scans = not tool.has_flag("--no-autoloader") and (optimize or "classmap" in autoload or "files" in autoload)
    vendor = config.get("vendor-dir") if isinstance(config.get("vendor-dir"), str) else "vendor"
    inst = Install(_what(tool), M.found, outputs=[o for o in [M.img(vendor)] if o])
    if runs_scripts or scans:
        inst.dup = True
        added = [f for f in ("--no-scripts", "--no-autoloader") if not tool.has_flag(f)]
        off, _ = _insert_flag(tool, "")
        inst.inserts.append((off, " " + " ".join(added)))
        inst.unsafe.append("composer.json runs scripts or builds an autoloader from the source: the "
                           f"hoisted install gets {' '.join(added)} and the original stays after the "
                           "source copy")
    return inst


# -- a download step the Dockerfile does not have yet ----------------------------------------------


def _missing_step(ctx, stage, source, run, script, cwd, kinds) -> RunPlan | None:
    """`go build` / `mvn package` right after the source copy: add the download step first."""
    chain = script.chain
    link = chain[0]
    if link.kind is not Construct.COMMAND or len(link.commands) != 1 or _bind_mount(ctx, run):
        return None
    cmd = link.commands[0]
    tool = parse_tool(cmd)
    if tool is None:
        return None
    try:
        if tool.manager == "go" and tool.subcommand in ("build", "install", "test", "vet") \
                and not tool.packages:
            if tool.has_flag("-mod", "-modfile", "-C") or _earlier_tool(stage, source, ctx, "go", {"mod download"}):
                return None
            if any(i.keyword == "ENV" and re.search(r"-mod=|GO111MODULE[= ]+off", i.args)
                   for i in stage.instructions):
                return None
            M = _M(source, cwd)
            if _go_module(M) is None or M.get("go.sum", add=False) is None or M.exists_any("vendor"):
                return None
            env = [a.raw for a in cmd.assignments if a.name in _GO_ENV]
            step = " ".join([*env, "go mod download"])
            inst = Install("go mod download", M.found, added=True, unsafe=[
                "adds a `go mod download` step the Dockerfile did not have"])
            return RunPlan([inst], step, _whole_rest(ctx, run, script))
        if tool.manager == "mvn" and any(w.text in _MVN_BUILD_GOALS for w in tool.operands):
            if tool.has_flag("-f", "--file", "-pl", "--projects", "-rf", "--resume-from", "-o", "--offline"):
                return None
            if _earlier_tool_mvn(stage, source, ctx):
                return None
            M = _M(source, cwd)
            if _maven_pom(M) is None:
                return None
            _mvn_tool_files(M, tool)
            words = [tool.tool_word.raw]
            for f in tool.flags:
                if f.word.raw not in words:
                    words.append(f.word.raw)
                if f.value_word is not None and f.value_word is not f.word:
                    words.append(f.value_word.raw)
            step = " ".join([*[a.raw for a in cmd.assignments], *words, "dependency:go-offline"])
            inst = Install("mvn dependency:go-offline", M.found, added=True, unsafe=[
                "adds a `mvn dependency:go-offline` step; plugins resolved later still download "
                "during the build"])
            return RunPlan([inst], step, _whole_rest(ctx, run, script))
    except Reject:
        return None
    return None


def _whole_rest(ctx, run: Instruction, script) -> str:
    text = ctx.text
    last = run.lines[-1]
    content_end = last.start + len(last.content)
    return text[run.logical_to_offset(run.args_offset):content_end].rstrip(" \t")


# which reader understands each package manager's install (defined above)
_INSTALL_READERS = {
    "npm": _node, "yarn": _node, "pnpm": _node, "pip": _pip, "poetry": _poetry, "pipenv": _pipenv,
    "uv": _uv, "go": _go, "bundle": _bundle, "mvn": _mvn, "composer": _composer,
}

"""Reading a single build stage: where it works, what it copies in, what its build commands
produce, where those products end up, and what the image runs.

The multi-stage split (DO301) asks this module for the *artifacts* of a build (the files the
final image needs from the builder) and for the reasons it cannot tell them. Everything is
read statically: the Dockerfile, the shell of each RUN (dockopt.shell) and, when there is a
build context, the manifests the build commands read (go.mod, Cargo.toml, package.json,
Makefile, pom.xml...).
"""
from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..facts import images
from ..facts.files import ContextFiles
from ..facts.paths import clean, is_under, join
from ..facts.variables import expand
from ..shell import parse_rm, parse_script, parse_tool
from ..shell.model import SimpleCommand
from ..shell.options import OptionSpec, parse_arguments
from ..syntax import Instruction, Stage

if TYPE_CHECKING:  # pragma: no cover
    from .base import Context

class CannotTell(Exception):
    """The stage does something the split cannot reproduce or see through; the message says what."""


# --------------------------------------------------------------------------- the model

@dataclass
class ContextCopy:
    ins: Instruction
    sources: tuple[str, ...]
    dest: str | None          # absolute, None when it cannot be resolved
    dest_is_dir: bool


@dataclass
class Output:
    """A file or directory a build command leaves in the builder's filesystem."""

    path: str                 # absolute
    language: str
    ins: Instruction          # the RUN that makes it
    what: str                 # "binary", "dir", "jar", "jars", "file"
    lineage: int              # outputs copied from one another share a lineage
    order: int = 0
    glob: bool = False        # path holds a wildcard (target/*.jar)


@dataclass
class BuildStep:
    language: str
    tool: str                 # "go build", "cargo build", "make", "javac", "npm run build", ...
    ins: Instruction
    command: SimpleCommand
    cwd: str | None
    notes: dict = field(default_factory=dict)


@dataclass
class Entry:
    """What the image runs: ENTRYPOINT + CMD, as exec argv or as a shell command."""

    entrypoint: Instruction | None
    cmd: Instruction | None
    argv: list[str] | None     # exec form, ENTRYPOINT and CMD joined
    shell: str | None          # shell form text (run by /bin/sh -c)

    @property
    def present(self) -> bool:
        return self.entrypoint is not None or self.cmd is not None

    def commands(self) -> list[list[str]]:
        """Each command the entry runs, as argv (shell form parsed; dynamic words kept as '$')."""
        if self.argv is not None:
            if len(self.argv) >= 3 and posixpath.basename(self.argv[0]) in ("sh", "bash") and self.argv[1] == "-c":
                return _shell_commands(self.argv[2])
            return [self.argv]
        if self.shell is not None:
            return _shell_commands(self.shell)
        return []

    @property
    def needs_shell(self) -> bool:
        if self.shell is not None:
            return True
        return bool(self.argv) and posixpath.basename(self.argv[0]) in ("sh", "bash", "/bin/sh")


def _shell_commands(text: str) -> list[list[str]]:
    script = parse_script(text)
    out = []
    for c in script.commands:
        if c.name_index is None:
            continue
        out.append([w.text if w.text is not None else "$" for w in c.argv[c.name_index:]])
    return out


@dataclass
class StageModel:
    stage: Stage
    base: str                              # the base image, ARGs expanded
    env: dict[str, str | None]             # ENV/ARG values in force at the end (None: unknown)
    args: dict[str, Instruction]           # ARG declarations of the stage, by name
    workdir: str | None                    # final WORKDIR (None when it holds unknown variables)
    workdir_set: bool                      # the Dockerfile sets a WORKDIR
    workdirs: dict[int, str | None]        # id(instruction) -> WORKDIR in force
    users: dict[int, str | None]           # id(instruction) -> USER in force
    user: str | None                       # final USER (None: the base's default)
    copies: list[ContextCopy]
    entry: Entry
    healthcheck: Instruction | None
    path_dirs: tuple[str, ...]

    files: ContextFiles

    def _is_dir_source(self, src_rel: str) -> bool:
        if src_rel == ".":
            return True
        if self.files.sent(src_rel):
            return (self.files.root / src_rel).is_dir()
        base = posixpath.basename(src_rel)
        return "." not in base and base not in ("Makefile", "Dockerfile", "LICENSE", "Gemfile", "Pipfile")

    def context_path(self, image_path: str) -> str | None:
        """The build-context path that a file at `image_path` was copied from (last COPY wins)."""
        for copy in reversed(self.copies):
            if copy.dest is None:
                continue
            for src in copy.sources:
                src_rel = clean(src).lstrip("/") or "."
                if src_rel.startswith(".."):
                    continue
                if any(ch in src for ch in "*?["):
                    if copy.dest_is_dir and image_path == copy.dest:
                        return posixpath.dirname(src_rel) or "."
                    continue
                if self._is_dir_source(src_rel):
                    # a directory source copies its contents into the destination
                    if is_under(image_path, copy.dest):
                        rel = posixpath.relpath(image_path, copy.dest)
                        return src_rel if rel == "." else clean(posixpath.join(src_rel, rel))
                    continue
                file_dest = posixpath.join(copy.dest, posixpath.basename(src_rel)) if copy.dest_is_dir else copy.dest
                if image_path == file_dest:
                    return src_rel
                if copy.dest_is_dir and image_path == copy.dest:
                    return posixpath.dirname(src_rel) or "."
        return None


def model_stage(ctx: Context, stage: Stage) -> StageModel:
    """The stage as the facts layer reads it, in the shape the split works with."""
    end = ctx.end_state(stage)
    args: dict[str, Instruction] = {}
    workdirs: dict[int, str | None] = {}
    users: dict[int, str | None] = {}
    copies: list[ContextCopy] = []
    entrypoint = cmd = healthcheck = None
    for ins in stage.instructions:
        state = ctx.state(ins)
        workdirs[id(ins)] = state.cwd
        users[id(ins)] = state.user if state.user is None or "$" not in state.user else None
        kw = ins.keyword
        if kw == "ARG":
            for val in ins.values:
                args[val.partition("=")[0]] = ins
        elif kw in ("COPY", "ADD") and ins.flag("from") is None:
            vals = list(ins.values)
            if len(vals) >= 2:
                dest_raw = expand(vals[-1], state.values)
                dest = join(state.cwd, dest_raw) if dest_raw is not None else None
                dest_is_dir = bool(dest_raw) and (dest_raw.endswith("/") or len(vals) > 2 or dest_raw in (".", "./"))
                copies.append(ContextCopy(ins, tuple(vals[:-1]), dest, dest_is_dir))
        elif kw == "ENTRYPOINT":
            entrypoint = ins
            cmd = None  # an ENTRYPOINT resets the CMD inherited so far
        elif kw == "CMD":
            cmd = ins
        elif kw == "HEALTHCHECK":
            healthcheck = ins
    path = end.value("PATH")
    path_dirs = tuple(p for p in path.split(":") if p) if path else images.DEFAULT_PATH
    return StageModel(stage, ctx.graph.base_image(stage), end.values, args, end.cwd,
                      any(i.keyword == "WORKDIR" for i in stage.instructions), workdirs, users, end.user,
                      copies, _entry(entrypoint, cmd), healthcheck, path_dirs, ctx.files)


def _entry(entrypoint: Instruction | None, cmd: Instruction | None) -> Entry:
    if entrypoint is not None:
        if entrypoint.is_json:
            argv = list(entrypoint.values)
            if cmd is not None and cmd.is_json:
                argv += list(cmd.values)
            elif cmd is not None:
                argv += ["/bin/sh", "-c", cmd.args]
            return Entry(entrypoint, cmd, argv, None)
        return Entry(entrypoint, cmd, None, entrypoint.args)
    if cmd is not None:
        if cmd.is_json:
            return Entry(None, cmd, list(cmd.values), None)
        return Entry(None, cmd, None, cmd.args)
    return Entry(None, None, None, None)


# --------------------------------------------------------------------------- RUN walking

@dataclass
class RunCommand:
    ins: Instruction
    command: SimpleCommand
    cwd: str | None
    env: dict[str, str | None]


def run_commands(ctx: Context, model: StageModel) -> list[RunCommand]:
    """Every simple command of the stage's RUNs, in order, with the directory it runs in."""
    return [RunCommand(ins, step.command, step.cwd, dict(step.env))
            for ins in model.stage.instructions if ins.keyword == "RUN" for step in ctx.steps(ins)]


def word_texts(c: SimpleCommand) -> list[str | None]:
    return [w.text for w in c.args]


# --------------------------------------------------------------------------- Go

_GO_BOOL = {"-a", "-n", "-race", "-msan", "-asan", "-v", "-work", "-x", "-trimpath", "-linkshared",
            "-modcacherw", "-cover", "-i"}
_GO_VALUE = frozenset({"-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-modfile", "-p",
                       "-pkgdir", "-buildmode", "-compiler", "-installsuffix", "-overlay", "-pgo",
                       "-toolexec", "-C", "-gccgoflags", "-coverpkg", "-covermode", "-buildvcs"})
# modules that only build with cgo
CGO_ONLY_MODULES = (
    "github.com/mattn/go-sqlite3", "github.com/confluentinc/confluent-kafka-go",
    "gopkg.in/gographics/imagick", "github.com/google/gopacket/pcap", "github.com/miekg/pkcs11",
    "github.com/go-gl/", "github.com/veandco/go-sdl2", "github.com/tecbot/gorocksdb",
    "github.com/linxGnu/grocksdb", "github.com/DataDog/zstd", "github.com/ceph/go-ceph",
    "github.com/libgit2/git2go", "github.com/h2non/bimg", "github.com/davidbyttow/govips",
    "github.com/mattn/go-oci8", "github.com/godror/godror", "github.com/ibmdb/go_ibm_db",
    "github.com/gen2brain/go-fitz", "github.com/karalabe/hid", "github.com/boltdb/bolt/cgo",
    "fyne.io/fyne", "gioui.org", "github.com/therecipe/qt", "github.com/hajimehoshi/ebiten",
)


def go_module_name(files: ContextFiles, ctx_dir: str | None) -> str | None:
    if ctx_dir is None:
        return None
    text = files.sent_text(posixpath.join(ctx_dir, "go.mod"))
    if text is None:
        return None
    m = re.search(r"^\s*module\s+(\S+)", text, re.MULTILINE)
    return m.group(1).strip('"') if m else None


def go_binary_name(import_path: str) -> str:
    """`go build` names the binary after the last element of the import path (not a /vN suffix)."""
    parts = [p for p in import_path.rstrip("/").split("/") if p]
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts = parts[:-1]
    return parts[-1] if parts else import_path


@dataclass
class GoFacts:
    cgo_needed: bool | None      # None: cannot tell (no context)
    cgo_reason: str = ""
    needs_certs: bool | None = None
    needs_tzdata: bool | None = None
    reads_files: list[str] = field(default_factory=list)


def go_source_facts(files: ContextFiles, ctx_dir: str | None) -> GoFacts:
    if ctx_dir is None or not files.available:
        return GoFacts(None, "no build context to read the Go sources from")
    gofiles = files.sent_files(ctx_dir, ".go")
    if not gofiles:
        return GoFacts(None, "no .go files found in the build context")
    cgo_reason = ""
    certs = tz = False
    tzdata_embedded = False
    reads = []
    for rel in gofiles:
        if rel.endswith("_test.go"):
            continue
        text = files.sent_text(rel) or ""
        if re.search(r'(?m)^\s*import\s+"C"\s*$', text) or re.search(r'(?ms)^\s*import\s*\((?:[^)]*?)^\s*"C"\s*$', text):
            cgo_reason = cgo_reason or f'{rel} imports "C"'
        for mod in CGO_ONLY_MODULES:
            if f'"{mod}' in text:
                cgo_reason = cgo_reason or f"{rel} imports {mod} (cgo only)"
        if '"crypto/tls"' in text or "x509.SystemCertPool" in text or (
                '"net/http"' in text and "https://" in text):
            certs = True
        if re.search(r"\btime\.LoadLocation\b", text):
            tz = True
        if '"time/tzdata"' in text:
            tzdata_embedded = True
        for m in re.finditer(r'(?:template\.ParseFiles|template\.ParseGlob|os\.ReadFile|ioutil\.ReadFile|'
                             r'os\.Open|http\.Dir|godotenv\.Load)\(\s*"([^"/][^"]*)"', text):
            reads.append(f"{rel}: {m.group(1)}")
    gomod = files.sent_text(posixpath.join(ctx_dir, "go.mod")) or ""
    for mod in CGO_ONLY_MODULES:
        if mod in gomod and not cgo_reason:
            cgo_reason = f"go.mod requires {mod} (cgo only)"
    return GoFacts(bool(cgo_reason), cgo_reason, certs, tz and not tzdata_embedded, reads)


def go_build_outputs(step_cmd: RunCommand, model: StageModel, files: ContextFiles) -> tuple[list[str], dict]:
    """Absolute output paths of one `go build`, and notes (cgo flags)."""
    c = step_cmd.command
    words = list(c.args[1:])  # after "build"
    parsed = parse_arguments(words, OptionSpec(_GO_VALUE, clustering=False))
    notes: dict = {}
    cwd = step_cmd.cwd
    out_flag = None
    for f in parsed.flags:
        if f.name == "-o":
            out_flag = f.value if f.value is not None else "$"
        if f.name == "-C":
            cwd = join(cwd, f.value)
        if f.name in ("-race", "-msan", "-asan", "-linkshared"):
            notes["cgo_flag"] = f.name
        if f.name == "-buildmode" and f.value in ("c-shared", "c-archive", "plugin", "shared"):
            notes["cgo_flag"] = f"-buildmode={f.value}"
        if f.name == "-ldflags" and f.value and "-linkmode" in f.value and "external" in f.value:
            notes["cgo_flag"] = "-ldflags -linkmode=external"
    if any(w.text is None for w in parsed.operands):
        raise CannotTell(f"the packages of `{_cmd_text(c)}` are only known at build time")
    pkgs = [w.text for w in parsed.operands]
    if out_flag == "$":
        raise CannotTell("the -o output of `go build` is only known at build time")
    if out_flag is not None:
        target = join(cwd, out_flag)
        if target is None:
            raise CannotTell("the directory `go build` runs in is only known at build time")
        if out_flag.endswith("/"):
            notes["dir"] = True
        return [target], notes
    if len(pkgs) > 1 or any(p.endswith("...") for p in pkgs):
        return [], notes      # several packages and no -o: go build only checks that they compile
    pkg = pkgs[0] if pkgs else "."
    if pkg.endswith(".go"):
        name = posixpath.basename(pkg)[:-3]
    elif pkg in (".", "./"):
        ctx_dir = model.context_path(cwd) if cwd else None
        module = go_module_name(files, ctx_dir)
        if module is None:
            raise CannotTell("`go build` without -o names the binary after the module in go.mod, "
                             "which the build context does not show")
        name = go_binary_name(module)
    elif pkg.startswith(("./", "../")):
        name = posixpath.basename(pkg.rstrip("/"))
    else:
        name = go_binary_name(pkg)
    target = join(cwd, name)
    if target is None:
        raise CannotTell("the directory `go build` runs in is only known at build time")
    return [target], notes


# --------------------------------------------------------------------------- Rust

_CARGO_VALUE = frozenset({"--profile", "--bin", "--target", "--target-dir", "--manifest-path", "-p",
                          "--package", "-j", "--jobs", "--features", "-F", "--example", "--root",
                          "--path", "--config", "-Z", "--color", "--message-format", "--exclude",
                          "--version", "--git", "--branch", "--tag", "--rev", "--index", "--registry"})


def cargo_bins(files: ContextFiles, ctx_dir: str | None) -> list[str] | None:
    if ctx_dir is None:
        return None
    text = files.sent_text(posixpath.join(ctx_dir, "Cargo.toml"))
    if text is None:
        return None
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(text)
    except Exception:
        return None
    bins = [b.get("name") for b in data.get("bin", []) if isinstance(b, dict) and b.get("name")]
    pkg = data.get("package", {}).get("name") if isinstance(data.get("package"), dict) else None
    if (pkg and (files.sent(posixpath.join(ctx_dir, "src/main.rs")) or not bins)
            and data.get("package", {}).get("autobins", True) is not False and pkg not in bins):
        bins.insert(0, pkg)
    if "workspace" in data and not pkg:
        return None
    return bins or None


def cargo_outputs(rc: RunCommand, model: StageModel, files: ContextFiles) -> list[str]:
    c = rc.command
    sub = c.args[0].text if c.args else None
    parsed = parse_arguments(list(c.args[1:]), OptionSpec(_CARGO_VALUE, clustering=True))
    if any(w.text is None for w in c.args):
        raise CannotTell(f"`{_cmd_text(c)}` has words only known at build time")
    flags = {f.name: f.value for f in parsed.flags}
    names = [f.value for f in parsed.flags if f.name == "--bin" and f.value]
    cwd = rc.cwd
    manifest = flags.get("--manifest-path")
    pkg_dir = join(cwd, posixpath.dirname(manifest) or ".") if manifest else cwd
    if pkg_dir is None:
        raise CannotTell("the directory cargo runs in is only known at build time")
    if not names:
        names = cargo_bins(files, model.context_path(pkg_dir)) or []
    if sub == "install":
        if "--path" not in flags:
            raise CannotTell("`cargo install` of a crate from a registry: its binary name is not in the build context")
        root = flags.get("--root") or rc.env.get("CARGO_INSTALL_ROOT") or rc.env.get("CARGO_HOME") \
            or model.env.get("CARGO_HOME") or images.RUST_CARGO_HOME
        src_dir = join(cwd, flags["--path"])
        if not names and src_dir:
            names = cargo_bins(files, model.context_path(src_dir)) or []
        if not names:
            return [join("/", root + "/bin")]
        return [join("/", f"{root}/bin/{n}") for n in names]
    profile = flags.get("--profile")
    if "--release" in flags or "-r" in flags:
        profile = "release"
    profile_dir = "debug" if profile in (None, "dev", "test") else profile
    target_dir = flags.get("--target-dir") or rc.env.get("CARGO_TARGET_DIR") or model.env.get("CARGO_TARGET_DIR")
    base = join(pkg_dir, target_dir or "target")
    if flags.get("--target"):
        base = f"{base}/{flags['--target']}"
    out_dir = f"{base}/{profile_dir}"
    if not names:
        return [out_dir]           # names come from what is copied out of it, or the entry
    return [f"{out_dir}/{n}" for n in names]


# --------------------------------------------------------------------------- make / C

@dataclass
class Makefile:
    variables: dict[str, str]
    rules: dict[str, list[str]]       # target -> recipe lines
    first_target: str | None
    phony: set[str]

    def expand(self, text: str, extra: dict[str, str], target: str | None = None, depth: int = 0) -> str:
        if depth > 10:
            return text

        def sub(m: re.Match) -> str:
            name = m.group(1) or m.group(2) or m.group(3)
            if name == "@" and target:
                return target
            if name in extra:
                return extra[name]
            if name in self.variables:
                return self.expand(self.variables[name], extra, target, depth + 1)
            return ""
        return re.sub(r"\$\(([A-Za-z_@<^][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([@<^])", sub, text)


def read_makefile(text: str) -> Makefile:
    variables: dict[str, str] = {}
    rules: dict[str, list[str]] = {}
    first = None
    phony: set[str] = set()
    current: list[str] | None = None
    lines = text.replace("\\\n", " ").splitlines()
    for line in lines:
        if line.startswith("\t"):
            if current is not None:
                current.append(line.strip())
            continue
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.strip():
            continue
        m = re.match(r"^\s*(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|\+=|=)\s*(.*)$", stripped)
        if m:
            name, op, value = m.groups()
            if op == "?=" and name in variables:
                pass
            elif op == "+=":
                variables[name] = (variables.get(name, "") + " " + value).strip()
            else:
                variables[name] = value.strip()
            current = None
            continue
        m = re.match(r"^([^:=\t][^:=]*?)\s*::?(?!=)\s*(.*)$", stripped)
        if m:
            targets = m.group(1).split()
            if ".PHONY" in targets:
                phony |= set(m.group(2).split())
                current = None
                continue
            recipe: list[str] = []
            for t in targets:
                rules.setdefault(t, recipe)
                if first is None and not t.startswith(".") and "%" not in t:
                    first = t
            current = rules[targets[0]] if targets else None
            continue
        current = None
    return Makefile(variables, rules, first, phony)


def install_destinations(mk: Makefile, target: str, extra: dict[str, str]) -> list[tuple[str, str]]:
    """(source, absolute destination file) pairs that the recipe of `target` installs."""
    out = []
    for line in mk.rules.get(target, []):
        line = line.lstrip("@-+")
        text = mk.expand(line, extra, target)
        try:
            words = shlex.split(text)
        except ValueError:
            continue
        for cmd in _split_words_on_ops(words):
            if not cmd:
                continue
            prog = posixpath.basename(cmd[0])
            if prog not in ("install", "cp"):
                continue
            opts = [w for w in cmd[1:] if w.startswith("-")]
            ops = []
            skip = False
            for i, w in enumerate(cmd[1:]):
                if skip:
                    skip = False
                    continue
                if w in ("-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory", "-S"):
                    skip = True
                    if w in ("-t", "--target-directory") and i + 2 < len(cmd):
                        opts.append("-t=" + cmd[i + 2])
                    continue
                if not w.startswith("-"):
                    ops.append(w)
            if any(o in ("-d", "--directory") for o in opts) or len(ops) < 1:
                continue
            tdir = next((o[3:] for o in opts if o.startswith("-t=")), None)
            if tdir:
                out += [(s, clean(posixpath.join(tdir, posixpath.basename(s)))) for s in ops]
                continue
            if len(ops) < 2:
                continue
            *srcs, dest = ops
            if not dest.startswith("/"):
                continue
            dest_is_dir = (len(srcs) > 1 or dest.endswith("/")
                           or (prog == "install" and "-D" not in opts
                               and posixpath.basename(dest) != posixpath.basename(srcs[0])
                               and posixpath.basename(dest.rstrip("/")) in ("bin", "sbin", "lib", "lib64", "libexec")))
            for s in srcs:
                out.append((s, clean(posixpath.join(dest, posixpath.basename(s))) if dest_is_dir else clean(dest)))
    return out


def _split_words_on_ops(words: list[str]) -> list[list[str]]:
    out, cur = [], []
    for w in words:
        if w in ("&&", "||", ";", "|"):
            out.append(cur)
            cur = []
        else:
            cur.append(w)
    out.append(cur)
    return out


_MAKE_PATH_VARS = {"PREFIX", "prefix", "DESTDIR", "BINDIR", "bindir", "exec_prefix", "INSTALL_PREFIX", "SBINDIR"}
_MAKE_VALUE = frozenset({"-C", "--directory", "-f", "--file", "--makefile", "-j", "--jobs", "-l",
                         "-o", "-W", "-I", "--include-dir"})


def make_outputs(rc: RunCommand, model: StageModel, files: ContextFiles) -> list[str]:
    c = rc.command
    parsed = parse_arguments(list(c.args), OptionSpec(_MAKE_VALUE))
    cwd = rc.cwd
    mkfile = "Makefile"
    for f in parsed.flags:
        if f.name in ("-C", "--directory"):
            cwd = join(cwd, f.value)
        if f.name in ("-f", "--file", "--makefile"):
            mkfile = f.value or mkfile
    if cwd is None:
        raise CannotTell("the directory make runs in is only known at build time")
    goals, overrides = [], {}
    for w in parsed.operands:
        if w.text is None:
            raw = w.raw.lstrip("\"'")
            if raw.startswith("-"):
                continue           # -j"$(nproc)" and the like
            name = raw.split("=", 1)[0] if "=" in raw else None
            if name is None or name in _MAKE_PATH_VARS:
                raise CannotTell(f"`{_cmd_text(c)}` has words only known at build time")
            continue
        if "=" in w.text:
            k, _, v = w.text.partition("=")
            overrides[k] = v
        else:
            goals.append(w.text)
    ctx_dir = model.context_path(cwd)
    text = None
    if ctx_dir is not None:
        for name in ([mkfile] if mkfile != "Makefile" else ["GNUmakefile", "makefile", "Makefile"]):
            text = files.sent_text(posixpath.join(ctx_dir, name))
            if text is not None:
                break
    if text is None:
        raise CannotTell(f"make builds from a Makefile that the build context does not show ({cwd})")
    mk = read_makefile(text)
    env = {k: v for k, v in rc.env.items() if v is not None}
    extra = {**{k: v for k, v in env.items() if k not in mk.variables}, **overrides}
    extra.setdefault("DESTDIR", "")
    outs = []
    for goal in goals or [mk.first_target]:
        if goal is None:
            continue
        if goal == "install" or goal.startswith("install"):
            dests = install_destinations(mk, goal, extra)
            if not dests:
                raise CannotTell(f"cannot tell what `make {goal}` installs from the Makefile")
            outs += [d for _s, d in dests]
        elif goal in mk.phony or goal in ("all", "clean", "check", "test"):
            # `all` builds its prerequisites: name them from the rule line if they are plain files
            continue
        else:
            name = mk.expand(goal, extra)
            if "%" in name or not name:
                continue
            outs.append(join(cwd, name))
    return outs


_CC = {"gcc", "cc", "g++", "c++", "clang", "clang++", "tcc", "musl-gcc"}
_CC_VALUE = frozenset({"-o", "-I", "-L", "-l", "-D", "-U", "-x", "-include", "-isystem", "-MF", "-MT", "-std"})


def cc_outputs(rc: RunCommand) -> list[str]:
    c = rc.command
    if any(w.text in ("-c", "-S", "-E", "-M", "-MM", "--version", "-v", "-dumpversion") for w in c.args):
        return []
    out = None
    words = [w.text for w in c.args]
    for i, w in enumerate(words):
        if w == "-o" and i + 1 < len(words):
            out = words[i + 1]
        elif w and w.startswith("-o") and len(w) > 2:
            out = w[2:]
    if out is None:
        if not any((w or "").endswith((".c", ".cc", ".cpp", ".cxx", ".o")) for w in words):
            return []
        out = "a.out"
    target = join(rc.cwd, out)
    if target is None:
        raise CannotTell("the output of the compiler is only known at build time")
    return [target]


# --------------------------------------------------------------------------- Java

def jar_outputs(rc: RunCommand) -> list[str]:
    c = rc.command
    words = [w.text for w in c.args]
    if any(w is None for w in words):
        raise CannotTell(f"`{_cmd_text(c)}` has words only known at build time")
    out = None
    for i, w in enumerate(words):
        if w.startswith("--file="):
            out = w[len("--file="):]
        elif w in ("--file", "-f") and i + 1 < len(words):
            out = words[i + 1]
    if out is None and len(words) > 1 and re.fullmatch(r"[cu][a-zA-Z]*", words[0]) and "f" in words[0]:
        # old style: jar cvf app.jar ... (the f option's file comes first after the letters)
        out = words[1]
    if out is None:
        return []
    target = join(rc.cwd, out)
    if target is None:
        raise CannotTell("the jar's directory is only known at build time")
    return [target]


def maven_output_dir(rc: RunCommand, model: StageModel) -> str | None:
    words = [w.text for w in rc.command.args]
    cwd = rc.cwd
    for i, w in enumerate(words):
        if w in ("-f", "--file") and i + 1 < len(words) and words[i + 1]:
            path = words[i + 1]
            cwd = join(cwd, path if not path.endswith(".xml") else posixpath.dirname(path) or ".")
    return join(cwd, "target") if cwd else None


# --------------------------------------------------------------------------- Node

_NODE_TOOL_DIRS = [
    (re.compile(r"\breact-scripts\s+build\b"), "build"),
    (re.compile(r"\bvite\s+build\b"), "dist"),
    (re.compile(r"\bvue-cli-service\s+build\b"), "dist"),
    (re.compile(r"\bng\s+build\b"), "dist"),
    (re.compile(r"\bparcel\s+build\b"), "dist"),
    (re.compile(r"\bwebpack\b"), "dist"),
    (re.compile(r"\bgatsby\s+build\b"), "public"),
    (re.compile(r"\bastro\s+build\b"), "dist"),
    (re.compile(r"\bnuxt\s+(?:build|generate)\b"), ".output"),
    (re.compile(r"\brollup\b"), "dist"),
    (re.compile(r"\bnest\s+build\b"), "dist"),
]
_NODE_OUT_OPTS = re.compile(
    r"(?:--out-?[dD]ir|--outdir|--outDir|--dist-dir|--output-path|--output|--outfile|--out-file|-d|-o)(?:=|\s+)"
    r"(['\"]?)([^\s'\"&|;]+)\1")


def node_build_outputs(script_text: str, scripts: dict[str, str], files: ContextFiles, pkg_dir: str | None,
                       seen: set[str] | None = None) -> tuple[list[str], list[str]]:
    """Top-level paths (relative to the package) a package.json script writes, and the reasons
    for anything it cannot follow."""
    seen = seen if seen is not None else set()
    outs: list[str] = []
    problems: list[str] = []
    if re.search(r"\bnext\s+build\b", script_text):
        problems.append("`next build` output (.next) runs with `next start` and the whole node_modules")
    for m in re.finditer(r"\b(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([A-Za-z0-9:_.-]+)", script_text):
        name = m.group(1)
        if name in scripts and name not in seen:
            seen.add(name)
            o, p = node_build_outputs(scripts[name], scripts, files, pkg_dir, seen)
            outs += o
            problems += p
    for m in _NODE_OUT_OPTS.finditer(script_text):
        outs.append(m.group(2))
    for m in re.finditer(r"\bmkdir\s+(?:-p\s+)?([^\s&|;]+)", script_text):
        outs.append(m.group(1))
    if re.search(r"\btsc\b", script_text) and not any(True for _ in _NODE_OUT_OPTS.finditer(script_text)):
        tsconfig = files.sent_text(posixpath.join(pkg_dir, "tsconfig.json")) if pkg_dir is not None else None
        outdir = None
        if tsconfig:
            m = re.search(r'"outDir"\s*:\s*"([^"]+)"', tsconfig)
            outdir = m.group(1) if m else None
        if outdir:
            outs.append(outdir)
        else:
            problems.append("`tsc` writes next to the sources unless tsconfig.json sets outDir")
    if not outs:
        for pattern, d in _NODE_TOOL_DIRS:
            if pattern.search(script_text):
                outs.append(d)
                break
    tops = []
    for o in outs:
        o = clean(o)
        if o.startswith(("/", "..")):
            problems.append(f"the build writes outside the package ({o})")
            continue
        top = o.split("/", 1)[0]
        if top in (".", "") or top == "node_modules":
            continue
        if top not in tops:
            tops.append(top)
    return tops, problems


def read_package_json(files: ContextFiles, pkg_dir: str | None) -> dict | None:
    if pkg_dir is None:
        return None
    text = files.sent_text(posixpath.join(pkg_dir, "package.json"))
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- file moves

_CP_SPEC = OptionSpec(frozenset({"-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o",
                                 "--owner", "-g", "--group", "--backup", "--preserve", "--reflink",
                                 "--sparse", "--no-preserve"}))


def moves(rc: RunCommand) -> list[tuple[str, str, str]]:
    """(kind, source, destination) for cp/mv/install/ln commands with static operands."""
    c = rc.command
    prog = c.program
    if prog not in ("cp", "mv", "install", "ln"):
        return []
    parsed = parse_arguments(list(c.args), _CP_SPEC)
    if any(w.text is None for w in parsed.operands):
        return []
    names = {f.name for f in parsed.flags}
    if prog == "install" and ("-d" in names or "--directory" in names):
        return []
    ops = [w.text for w in parsed.operands]
    tdir = next((f.value for f in parsed.flags if f.name in ("-t", "--target-directory")), None)
    out = []
    if tdir is not None:
        for s in ops:
            src = join(rc.cwd, s)
            dst = join(rc.cwd, posixpath.join(tdir, posixpath.basename(s.rstrip("/"))))
            if src and dst:
                out.append((prog, src, dst))
        return out
    if len(ops) < 2:
        return out
    *srcs, dest = ops
    dest_dir_hint = dest.endswith("/") or len(srcs) > 1 or (
        prog == "install" and "-D" not in names and posixpath.basename(dest.rstrip("/")) in ("bin", "sbin"))
    for s in srcs:
        src = join(rc.cwd, s)
        dst = join(rc.cwd, posixpath.join(dest, posixpath.basename(s.rstrip("/"))) if dest_dir_hint else dest)
        if src and dst:
            out.append((prog, src, dst))
    return out


def _cmd_text(c: SimpleCommand) -> str:
    return " ".join(w.raw for w in c.argv)


def removed_paths(rc: RunCommand) -> list[str]:
    rm = parse_rm(rc.command) if rc.command.program == "rm" else None
    if rm is None:
        return []
    out = []
    for t in rm.path_texts:
        p = join(rc.cwd, t) if t else None
        if p and not any(ch in p for ch in "*?["):
            out.append(p)
    return out


def tool_of(c: SimpleCommand):
    return parse_tool(c)


def is_path_dir(path: str, dirs: tuple[str, ...]) -> bool:
    return posixpath.dirname(path) in dirs


def path_parts(path: str) -> tuple[str, ...]:
    return PurePosixPath(path).parts

"""Go: what `go mod download` reads (hoisting), where modules and the build cache live, and
what `go build` writes and its program needs at run time (the multi-stage split)."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..facts.files import ContextFiles
from ..facts.paths import join
from ..shell import Flag, PathUse, SimpleCommand, ToolCommand, parse_tool
from .common import CannotTell, Install, InstallSite, Manifests, Project, Reject, command_text, what

__all__ = ["CGO_ONLY_MODULES", "GoFacts", "binary_name", "build_outputs", "install_effects", "module_manifests",
           "module_name", "read_install", "source_facts"]


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`go mod download` reads go.mod and go.sum and fills the module cache; a build reads the
    whole module and is not modelled here."""
    if tool.subcommand != "mod download" or tool.has_flag("-modfile", "-C"):
        return None
    modules = env.get("GOMODCACHE") or ((env.get("GOPATH") or "/go").split(":")[0] + "/pkg/mod")
    return (PathUse("go.mod", "go"), PathUse("go.sum", "go")), (PathUse(modules, "go", tree=True),)


# --------------------------------------------------------------------------- what an install reads

_LOCAL_REPLACE = re.compile(r"=>\s*(\.{1,2}/|/|\.{1,2}\s*$)", re.M)


def module_manifests(M: Manifests) -> str | None:
    """Record go.mod and go.sum; Reject a module that reads more of the project (a workspace, a
    local replace)."""
    gomod = M.get("go.mod")
    if gomod is None:
        return None
    if M.exists_any("go.work"):
        raise Reject("go.work makes a multi-module workspace")
    if _LOCAL_REPLACE.search(M.files.text(gomod) or ""):
        raise Reject("go.mod replaces a module with a local directory")
    M.get("go.sum")
    return gomod


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """The manifests `go mod download` reads."""
    if tool.subcommand != "mod download" or tool.has_flag("-modfile", "-C"):
        return None
    if site.earlier_run("go", {"mod download"}):
        return None
    M = Manifests(site)
    if module_manifests(M) is None:
        return None
    return Install(what(tool), M.found)


# --------------------------------------------------------------------------- what a build writes

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
_CGO_FLAGS = ("-race", "-msan", "-asan", "-linkshared")
_FILE_READERS = re.compile(r'(?:template\.ParseFiles|template\.ParseGlob|os\.ReadFile|ioutil\.ReadFile|'
                           r'os\.Open|http\.Dir|godotenv\.Load)\(\s*"([^"/][^"]*)"')


def module_name(files: ContextFiles, ctx_dir: str | None) -> str | None:
    if ctx_dir is None:
        return None
    text = files.sent_text(posixpath.join(ctx_dir, "go.mod"))
    if text is None:
        return None
    m = re.search(r"^\s*module\s+(\S+)", text, re.MULTILINE)
    return m.group(1).strip('"') if m else None


def binary_name(import_path: str) -> str:
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


def source_facts(files: ContextFiles, ctx_dir: str | None) -> GoFacts:
    """What the Go sources of a directory need: cgo, CA certificates, time zones, files by relative path."""
    if ctx_dir is None or not files.available:
        return GoFacts(None, "no build context to read the Go sources from")
    gofiles = [rel for rel in files.sent_files(ctx_dir, ".go") if not rel.endswith("_test.go")]
    if not gofiles and not files.sent_files(ctx_dir, ".go"):
        return GoFacts(None, "no .go files found in the build context")
    facts = GoFacts(False)
    tz = tzdata_embedded = False
    for rel in gofiles:
        text = files.sent_text(rel) or ""
        facts.cgo_reason = facts.cgo_reason or _cgo_reason(rel, text)
        if '"crypto/tls"' in text or "x509.SystemCertPool" in text or ('"net/http"' in text and "https://" in text):
            facts.needs_certs = True
        tz = tz or bool(re.search(r"\btime\.LoadLocation\b", text))
        tzdata_embedded = tzdata_embedded or '"time/tzdata"' in text
        facts.reads_files += [f"{rel}: {m.group(1)}" for m in _FILE_READERS.finditer(text)]
    gomod = files.sent_text(posixpath.join(ctx_dir, "go.mod")) or ""
    if not facts.cgo_reason:
        facts.cgo_reason = next((f"go.mod requires {mod} (cgo only)" for mod in CGO_ONLY_MODULES if mod in gomod), "")
    facts.cgo_needed = bool(facts.cgo_reason)
    facts.needs_certs = bool(facts.needs_certs)
    facts.needs_tzdata = tz and not tzdata_embedded
    return facts


def _cgo_reason(rel: str, text: str) -> str:
    if re.search(r'(?m)^\s*import\s+"C"\s*$', text) or re.search(r'(?ms)^\s*import\s*\((?:[^)]*?)^\s*"C"\s*$', text):
        return f'{rel} imports "C"'
    return next((f"{rel} imports {mod} (cgo only)" for mod in CGO_ONLY_MODULES if f'"{mod}' in text), "")


def build_outputs(command: SimpleCommand, cwd: str | None, project: Project) -> tuple[list[str], dict[str, object]]:
    """Absolute output paths of one `go build`, and notes (cgo flags, `dir` for an -o directory)."""
    tool = parse_tool(command)
    if tool is None or tool.subcommand != "build":
        return [], {}
    out_flag, cwd, notes = _build_flags(tool.flags, cwd)
    if any(w.text is None for w in tool.operands):
        raise CannotTell(f"the packages of `{command_text(command)}` are only known at build time")
    if out_flag == "$":
        raise CannotTell("the -o output of `go build` is only known at build time")
    if out_flag is not None:
        if out_flag.endswith("/"):
            notes["dir"] = True
        return [_in(cwd, out_flag)], notes
    pkgs = [w.text or "" for w in tool.operands]
    if len(pkgs) > 1 or any(p.endswith("...") for p in pkgs):
        return [], notes      # several packages and no -o: go build only checks that they compile
    return [_in(cwd, _default_name(pkgs[0] if pkgs else ".", cwd, project))], notes


def _build_flags(flags: tuple[Flag, ...], cwd: str | None) -> tuple[str | None, str | None, dict[str, object]]:
    """(the -o value, "$" when unknown; the directory -C moves to; notes) of `go build`'s flags."""
    notes: dict[str, object] = {}
    out_flag = None
    for f in flags:
        if f.name == "-o":
            out_flag = f.value if f.value is not None else "$"
        if f.name == "-C":
            cwd = join(cwd, f.value)
        cgo = _cgo_flag(f.name, f.value)
        if cgo:
            notes["cgo_flag"] = cgo
    return out_flag, cwd, notes


def _cgo_flag(name: str, value: str | None) -> str | None:
    if name in _CGO_FLAGS:
        return name
    if name == "-buildmode" and value in ("c-shared", "c-archive", "plugin", "shared"):
        return f"-buildmode={value}"
    if name == "-ldflags" and value and "-linkmode" in value and "external" in value:
        return "-ldflags -linkmode=external"
    return None


def _default_name(pkg: str, cwd: str | None, project: Project) -> str:
    """The binary `go build <pkg>` writes without -o."""
    if pkg.endswith(".go"):
        return posixpath.basename(pkg)[:-3]
    if pkg in (".", "./"):
        module = module_name(project.files, project.context_path(cwd) if cwd else None)
        if module is None:
            raise CannotTell("`go build` without -o names the binary after the module in go.mod, "
                             "which the build context does not show")
        return binary_name(module)
    if pkg.startswith(("./", "../")):
        return posixpath.basename(pkg.rstrip("/"))
    return binary_name(pkg)


def _in(cwd: str | None, name: str) -> str:
    target = join(cwd, name)
    if target is None:
        raise CannotTell("the directory `go build` runs in is only known at build time")
    return target

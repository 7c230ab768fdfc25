"""Node.js: npm, yarn and pnpm — what an install reads (hoisting), where their caches live, and
which directories a package.json build script writes (the multi-stage split)."""
from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..facts.files import ContextFiles
from ..facts.paths import clean
from ..shell import PathUse, ToolCommand
from .common import Install, InstallSite, Manifests, Reject, read_json, table, what

__all__ = [
    "CACHES",
    "INSTALL_CONFIG",
    "LOCKFILES",
    "MANIFESTS",
    "AppFiles",
    "NodeCache",
    "app_files",
    "build_outputs",
    "build_script_refs",
    "install_effects",
    "read_install",
    "read_package_json",
]

# the lockfile each installer reads, besides package.json and .npmrc
LOCKFILES = {"npm": ("package-lock.json", "npm-shrinkwrap.json"), "yarn": ("yarn.lock", ".yarnrc", ".yarnrc.yml"),
             "pnpm": ("pnpm-lock.yaml",)}


@dataclass(frozen=True)
class NodeCache:
    """Where a package manager keeps what it downloads, and how to empty or move it."""

    filling: frozenset[str]            # subcommands that fill the cache
    clean: str                         # the subcommand that empties it
    cleaned_by: str                    # how that subcommand reads once parsed ("cache clean")
    directories: tuple[str, ...]       # its usual places
    options: tuple[str, ...]           # options that move it
    variables: tuple[str, ...]         # variables that move it


CACHES = {
    "npm": NodeCache(frozenset({"install", "ci"}), "cache clean --force", "cache clean",
                     ("/root/.npm", "/home/node/.npm"), ("--cache",), ("npm_config_cache", "NPM_CONFIG_CACHE")),
    "yarn": NodeCache(frozenset({"install", "add", "global add"}), "cache clean", "cache clean",
                      ("/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/node/.cache/yarn"),
                      ("--cache-folder",), ("YARN_CACHE_FOLDER", "yarn_cache_folder")),
    "pnpm": NodeCache(frozenset({"install", "add"}), "store prune", "store prune",
                      ("/root/.local/share/pnpm/store", "/root/.pnpm-store", "/pnpm/store"),
                      ("--store-dir",), ("npm_config_store_dir", "PNPM_HOME")),
}
_GLOBAL_DIRS = ("/usr/local/lib/node_modules", "/usr/local/bin")


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """A project install reads the manifests and writes node_modules; it is modelled only with
    --ignore-scripts (otherwise package.json's lifecycle scripts run project code)."""
    manager, sub = tool.manager, tool.subcommand or ""
    cache = CACHES.get(manager)
    if cache is None:
        return None
    caches = tuple(PathUse(d, manager, tree=True) for d in cache.directories)
    if sub == cache.cleaned_by or sub.startswith(("cache", "config", "store")):
        return (), caches
    if tool.has_flag("-g", "--global") or sub == "global add":
        if tool.files:
            return None
        # yarn 1 reads the configuration of the directory it runs in, global mode or not
        config = tuple(PathUse(n, manager) for n in (".yarnrc", ".npmrc")) if manager == "yarn" else ()
        return config, caches + tuple(PathUse(d, manager, tree=True) for d in _GLOBAL_DIRS)
    if sub in cache.filling and tool.has_flag("--ignore-scripts") and not tool.files:
        names = ("package.json", ".npmrc", *LOCKFILES[manager])
        return tuple(PathUse(n, manager) for n in names), (PathUse("node_modules", manager, tree=True), *caches)
    return None


# --------------------------------------------------------------------------- what an install reads

_LOCAL_SPEC = re.compile(r"^(?:file:|link:|portal:|workspace:|\.{1,2}/|/|~/)")
_WORD_SPLIT = re.compile(r"[\s;&|()<>\"'`=,]+")
_LIFECYCLE = ("preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare")
_ELSEWHERE = ("-g", "--global", "--prefix", "-C", "--dir", "--cwd", "-w", "--workspace", "--workspaces",
              "--modules-folder", "--filter", "-F", "--location", "--global-folder")


def _project_install(tool: ToolCommand) -> bool:
    """An install of the project's dependencies into its own directory."""
    m, sub = tool.manager, tool.subcommand
    if m == "npm":
        ok = sub == "ci" or (sub == "install" and not tool.packages and not tool.files)
    elif m == "yarn":
        ok = sub == "install" and not tool.operands
    else:
        ok = (sub == "install" and not tool.operands) or sub == "fetch"
    return ok and not tool.has_flag(*_ELSEWHERE)


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """The manifests `npm ci`/`yarn install`/`pnpm install` read; Reject when it reads more."""
    if not _project_install(tool) or site.earlier_run(tool.manager, {tool.subcommand or ""}):
        return None
    M = Manifests(site)
    if tool.manager == "pnpm" and tool.subcommand == "fetch":
        M.get("package.json", add=False)
        if M.get("pnpm-lock.yaml") is None:
            return None
        M.get(".npmrc")
        return Install(what(tool), M.found, outputs=[], unsafe=[])
    pkg = M.get("package.json")
    if pkg is None:
        return None
    data = read_json(M.files, pkg)
    workspaces = _workspaces(tool, M, data, posixpath.dirname(pkg) or ".")
    _check_package(tool, M, data, bool(workspaces))
    unsafe = _read_locks(tool, M)
    unsafe += _lifecycle(tool, M, data, posixpath.dirname(pkg) or ".")
    outputs = [o for o in [M.img("node_modules")] if o]
    for rel in workspaces:
        ws_pkg = M.get(f"{rel}/package.json")
        assert ws_pkg is not None
        ws_data = read_json(M.files, ws_pkg)
        _check_package(tool, M, ws_data, True)
        if M.exists_any(f"{rel}/binding.gyp"):
            raise Reject(f"{rel}/binding.gyp makes the install build native code from the project")
        unsafe += [f"workspace {rel}: {r}" for r in _lifecycle(tool, M, ws_data, posixpath.dirname(ws_pkg) or ".",
                                                               native_check=False)]
        if ws_data.get("bin"):
            unsafe.append(f"workspace {rel} declares programs (bin), which the install links before the source "
                          "copy brings them")
        outputs += [o for o in [M.img(f"{rel}/node_modules")] if o]
    return Install(what(tool), M.found, outputs=outputs, unsafe=unsafe)


def _workspaces(tool: ToolCommand, M: Manifests, data: dict[str, Any], pkg_dir: str) -> list[str]:
    """The workspace directories of an npm or Yarn project, relative to the install's directory:
    the install reads each one's package.json too. Reject what cannot be listed from the context."""
    if tool.manager == "pnpm" and M.exists_any("pnpm-workspace.yaml"):
        raise Reject("pnpm-workspace.yaml declares a workspace")
    declared = data.get("workspaces")
    if not declared:
        return []
    patterns = declared.get("packages") if isinstance(declared, dict) else declared
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise Reject("package.json declares workspaces in a form dockopt does not read")
    found: list[str] = []
    for pattern in patterns:
        pattern = clean(pattern.removeprefix("./"))
        if pattern.startswith(("!", "/", "..")) or "**" in pattern or "{" in pattern:
            raise Reject(f"the workspace pattern {pattern} is not one dockopt can list")
        for match in M.files.glob(pattern if pkg_dir == "." else f"{pkg_dir}/{pattern}"):
            rel = posixpath.relpath(match, pkg_dir) if pkg_dir != "." else match
            if M.files.is_dir(match) and M.files.sent_file(f"{match}/package.json") and rel not in found:
                found.append(rel)
    if not found:
        raise Reject("package.json declares workspaces, and none of them is in the build context")
    return found


def _check_package(tool: ToolCommand, M: Manifests, data: dict[str, Any], workspaces: bool = False) -> None:
    """Reject what makes the install read more than package.json and its lockfile (the workspaces'
    package.json files when it has workspaces, which `workspace:` dependencies name)."""
    for section in ("dependencies", "devDependencies", "optionalDependencies", "overrides", "resolutions"):
        deps = data.get(section)
        for name, spec in (deps.items() if isinstance(deps, dict) else ()):
            if isinstance(spec, str) and _LOCAL_SPEC.match(spec) and not (workspaces and spec.startswith("workspace:")):
                raise Reject(f"{name} is a local path dependency ({spec})")
    pnpm_cfg = table(data, "pnpm")
    if pnpm_cfg.get("patchedDependencies") or data.get("patchedDependencies"):
        raise Reject("package.json patches dependencies with files of the project")


def _read_locks(tool: ToolCommand, M: Manifests) -> list[str]:
    """Record the lockfile and configuration the install reads; the reasons it is unsafe."""
    for name in (*LOCKFILES[tool.manager], ".npmrc"):
        M.get(name)
    unsafe: list[str] = []
    if tool.manager == "yarn":
        if M.exists_any(".yarn/cache"):
            raise Reject("the install reads the offline cache .yarn/cache")
        for d in (".yarn/releases", ".yarn/plugins", ".yarn/patches"):
            M.add_tree(d)
    if tool.manager == "pnpm" and M.exists_any(".pnpmfile.cjs"):
        M.get(".pnpmfile.cjs")
        unsafe.append(".pnpmfile.cjs runs hooks during the install")
    return unsafe


def _lifecycle(tool: ToolCommand, M: Manifests, data: dict[str, Any], pkg_dir: str,
               native_check: bool = True) -> list[str]:
    """package.json's install scripts: Reject when they name project files, unsafe when they run."""
    scripts = table(data, "scripts")
    lifecycle = [k for k in _LIFECYCLE if isinstance(scripts.get(k), str) and scripts[k].strip()]
    npmrc = M.get(".npmrc", add=False)
    if tool.has_flag("--ignore-scripts") or (
            npmrc is not None and re.search(r"^\s*ignore-scripts\s*=\s*true", M.files.text(npmrc) or "", re.M)):
        return []
    if native_check and "install" not in scripts and "preinstall" not in scripts and M.exists_any("binding.gyp"):
        raise Reject("binding.gyp makes the install build native code from the project")
    manifests = {c for c, _ in M.found}
    for k in lifecycle:
        refs = _script_refs(M.files, pkg_dir, scripts[k], manifests)
        if refs:
            raise Reject(f"the {k} script reads {', '.join(refs)}")
    if not lifecycle:
        return []
    shown = "; ".join(f"{k}: `{scripts[k]}`" for k in lifecycle)
    return [f"package.json runs lifecycle scripts on install ({shown}); they may read project files"]


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


# --------------------------------------------------------------------------- what a build writes

_TOOL_DIRS = [
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
_OUT_OPTIONS = re.compile(
    r"(?:--out-?[dD]ir|--outdir|--outDir|--dist-dir|--output-path|--output|--outfile|--out-file|-d|-o)(?:=|\s+)"
    r"(['\"]?)([^\s'\"&|;]+)\1")
_RUN_SCRIPT = re.compile(r"\b(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([A-Za-z0-9:_.-]+)")


def build_outputs(script_text: str, scripts: Mapping[str, str], files: ContextFiles, pkg_dir: str | None,
                  seen: set[str] | None = None) -> tuple[list[str], list[str]]:
    """Top-level paths (relative to the package) a package.json script writes, and the reasons
    for anything it cannot follow."""
    seen = seen if seen is not None else set()
    outs: list[str] = []
    problems: list[str] = []
    if re.search(r"\bnext\s+build\b", script_text):
        problems.append("`next build` output (.next) runs with `next start` and the whole node_modules")
    for m in _RUN_SCRIPT.finditer(script_text):
        name = m.group(1)
        if name in scripts and name not in seen:
            seen.add(name)
            o, p = build_outputs(scripts[name], scripts, files, pkg_dir, seen)
            outs += o
            problems += p
    outs += [m.group(2) for m in _OUT_OPTIONS.finditer(script_text)]
    outs += [m.group(1) for m in re.finditer(r"\bmkdir\s+(?:-p\s+)?([^\s&|;]+)", script_text)]
    if re.search(r"\btsc\b", script_text) and not _OUT_OPTIONS.search(script_text):
        outdir = _tsc_outdir(files, pkg_dir)
        if outdir:
            outs.append(outdir)
        else:
            problems.append("`tsc` writes next to the sources unless tsconfig.json sets outDir")
    if not outs:
        outs += [d for pattern, d in _TOOL_DIRS if pattern.search(script_text)][:1]
    return _top_directories(outs, problems)


def without_outputs(script_text: str) -> str:
    """A package.json script with the output options (`--outDir build`, `-o dist`) taken out: what
    is left names what it reads."""
    return _OUT_OPTIONS.sub(" ", script_text)


def _tsc_outdir(files: ContextFiles, pkg_dir: str | None) -> str | None:
    tsconfig = files.sent_text(posixpath.join(pkg_dir, "tsconfig.json")) if pkg_dir is not None else None
    m = re.search(r'"outDir"\s*:\s*"([^"]+)"', tsconfig) if tsconfig else None
    return m.group(1) if m else None


def _top_directories(outs: list[str], problems: list[str]) -> tuple[list[str], list[str]]:
    tops: list[str] = []
    for o in outs:
        o = clean(o)
        if o.startswith(("/", "..")):
            problems.append(f"the build writes outside the package ({o})")
            continue
        top = o.split("/", 1)[0]
        if top not in (".", "", "node_modules") and top not in tops:
            tops.append(top)
    return tops, problems


def read_package_json(files: ContextFiles, pkg_dir: str | None) -> dict[str, Any] | None:
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


# --------------------------------------------------------------------------- what the app reads at run time

MANIFESTS = ("package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
# read by `npm ci` / `yarn install` (registry, auth, engine settings): a runtime install needs them too
INSTALL_CONFIG = (".npmrc", ".yarnrc", ".yarnrc.yml")
# what only building, testing or editing reads; the app never opens these at run time
_BUILD_ONLY = re.compile(
    r"^(?:src|test|tests|__tests__|spec|specs|e2e|cypress|coverage|\.nyc_output|docs?|\.git|\.github|\.gitlab"
    r"|\.vscode|\.idea|\.husky|\.circleci|\.storybook|node_modules|\.hg|\.svn"
    # what a developer's machine or a local build leaves (the context's ignore file may drop it too)
    r"|\.DS_Store|Thumbs\.db|desktop\.ini|[\w.-]+\.sw[po]|[\w.-]+~|__pycache__|[\w.-]+\.pyc|\.coverage|htmlcov"
    r"|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox|\.nox|\.hypothesis|\.parcel-cache|\.sass-cache|\.venv"
    r"|\.cache|\.turbo|\.eslintcache|dist|build|target|\.next"
    r"|\.gitignore|\.gitattributes|\.dockerignore|\.editorconfig|\.nvmrc|\.node-version|\.eslintignore"
    r"|\.prettierignore|\.browserslistrc|\.swcrc|\.babelrc(?:\.\w+)?|\.eslintrc(?:\.\w+)?|\.prettierrc(?:\.\w+)?"
    r"|tsconfig(?:\.[\w-]+)?\.json|jsconfig\.json|nest-cli\.json|tslint\.json|\.stylelintrc(?:\.\w+)?"
    r"|(?:webpack|vite|rollup|babel|jest|vitest|esbuild|tsup|postcss|tailwind|eslint|prettier|karma|playwright"
    r"|cypress|stylelint|commitlint|lint-staged|svelte|astro)(?:\.[\w-]+)*\.config\.[cm]?[jt]s"
    r"|(?:README|CHANGELOG|CONTRIBUTING|LICEN[CS]E|AUTHORS|HISTORY)(?:\.\w+)?"
    r"|(?:[\w.-]+\.)?Dockerfile|Dockerfile(?:\.[\w.-]+)?|[\w.-]+\.dockerfile|(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml"
    r"|[\w.-]+\.log|[\w.-]+\.md)$")
_SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
# calls that open a file (or serve a directory) by the path they are given
_FILE_CALL = re.compile(r"\b(readFileSync|readFile|createReadStream|readdirSync|readdir|openSync|sendFile|"
                        r"res\.download|express\.static|serveStatic|loadFile|readJsonSync|readJson)\s*\(")
_LITERAL = re.compile(r"""(['"`])((?:(?!\1)[^\\\n]|\\.)*)\1""")


@dataclass
class AppFiles:
    """The names in the app directory (besides the manifests, the build output and node_modules)
    as the runtime stage of a split sees them."""

    install_config: list[str]       # copied with the manifests: the runtime install reads them
    runtime: list[str]              # what the app may read at run time
    build_only: list[str]           # left in the builder
    unseen: list[str]               # file reads whose path the sources do not spell out


def build_script_refs(files: ContextFiles, pkg: Mapping[str, Any] | None, script_name: str,
                      pkg_dir: str | None) -> set[str]:
    """The names in the package directory that a build script, and the scripts it runs, name."""
    scripts = (pkg or {}).get("scripts") or {}
    if pkg_dir is None or not isinstance(scripts, dict):
        return set()
    todo, seen, refs = [script_name], set(), set()
    while todo:
        name = todo.pop()
        if name in seen or not isinstance(scripts.get(name), str):
            continue
        seen.add(name)
        text = " && ".join(s for s in (scripts.get("pre" + name), scripts[name], scripts.get("post" + name))
                           if isinstance(s, str))
        todo += [m.group(1) for m in _RUN_SCRIPT.finditer(text)]
        refs |= {posixpath.relpath(r, pkg_dir).split("/", 1)[0]
                 for r in _script_refs(files, pkg_dir, without_outputs(text), set())}
    return refs


def app_files(files: ContextFiles, entries: Mapping[str, tuple[str | None, object]], outputs: set[str],
              build_refs: set[str]) -> AppFiles:
    """Sort what the build context put in the app directory (`entries`: name -> (the context path
    it is a copy of, the COPY)):
    everything is runtime unless it is known to serve only the build (`build_refs`: names the
    build scripts name) and the app's sources do not name it; when a source opens a path it does
    not spell out, nothing is left out."""
    out = AppFiles([], [], [], [])
    named: set[str] = set()
    for name in sorted(entries):
        if name in outputs or name in MANIFESTS or name == "node_modules":
            continue
        if name in INSTALL_CONFIG:
            out.install_config.append(name)
        elif name in build_refs or _BUILD_ONLY.match(name):
            out.build_only.append(name)
        else:
            out.runtime.append(name)
    app_sources = [n for n in entries if n not in build_refs and n not in ("node_modules", "coverage")
                   and not re.match(r"^(?:test|tests|__tests__|spec|specs|e2e|cypress)$", n)]
    for name in app_sources:
        source = entries[name][0]
        for rel in _source_files(files, source) if source is not None else ():
            text = files.sent_text(rel) or ""
            named |= {seg for m in _LITERAL.finditer(text) for seg in _segments(m.group(2))}
            out.unseen += [f"{rel}:{text.count(chr(10), 0, m.start()) + 1} {m.group(1)}(...)"
                           for m in _FILE_CALL.finditer(text) if not _literal_argument(text, m.end())]
    keep = [n for n in out.build_only if n in named or out.unseen]
    out.build_only = [n for n in out.build_only if n not in keep]
    out.runtime = sorted(out.runtime + keep)
    return out


def _source_files(files: ContextFiles, rel: str) -> list[str]:
    if files.is_file(rel):
        return [rel] if rel.endswith(_SOURCE_SUFFIXES) else []
    return [f for f in files.sent_files(rel, limit=2000) if f.endswith(_SOURCE_SUFFIXES)
            and "/node_modules/" not in f"/{f}" and not re.search(r"\.(test|spec)\.[cm]?[jt]sx?$", f)][:500]


def _segments(literal: str) -> set[str]:
    """The path segments a string literal of the sources names (`'../views/index.html'` -> views, ...)."""
    if len(literal) > 200 or "://" in literal:
        return set()
    return {s for s in re.split(r"[/\\]", literal) if s not in ("", ".", "..")}


def _literal_argument(text: str, start: int) -> bool:
    """The call's first argument (up to a top-level comma or the closing parenthesis, at most 200
    characters) holds a string literal."""
    depth, i = 1, start
    while i < len(text) and i < start + 200 and depth:
        ch = text[i]
        if ch in "'\"`":
            m = _LITERAL.match(text, i)
            i = m.end() if m else i + 1
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 1:
            break
        i += 1
    return bool(_LITERAL.search(text[start:i]))

"""The build context sends files the image does not need: exclude them in .dockerignore.

## What it does
When a `COPY .` / `ADD .` copies the whole build context, looks for what is sent that no
image needs: version control (`.git`, `.hg`, `.svn`), dependency trees the build installs again
(`node_modules`, `.venv`), caches (`__pycache__`, `*.pyc`, `.pytest_cache`, `.mypy_cache`,
`.ruff_cache`, `.tox`), coverage output (`coverage/`, `.nyc_output`, `htmlcov`, `.coverage`),
logs (`*.log`), editor and OS files (`.idea`, `.vscode`, `.DS_Store`), local environment files
(`.env`, `.env.local`, ...; not `.env.example`) and build outputs (`dist/`, `build/`,
`target/`, `.next/`) that a `RUN` of the Dockerfile rebuilds. The finding lists what is sent
and how big it is. The fix creates `.dockerignore` in the context, or appends to the one in
use, keeping its text. Needs the build context.

## Why is this bad?
Everything the context sends is transferred to the builder on every build, and `COPY .` puts
it in the image: a `.git` directory or a host `node_modules` can be hundreds of MB. Any change
to those files (every commit, every local install) also invalidates the `COPY .` layer and
every layer after it. Environment files put local secrets into the image.

## Example
A context with `.git/`, `node_modules/` and `npm-debug.log`, and no `.dockerignore`:
```dockerfile
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
```
Add a `.dockerignore`:
```text
.git
node_modules
**/*.log
```

## Fix safety
Never excludes a path the Dockerfile names (a `COPY`/`ADD` source or a `RUN --mount` bind
source, or any parent of one), a path a build step reads (a script a `RUN` runs, such as
`node build/build.js`, `./scripts/build.sh` or `go run build.go`, a file a `package.json` script
names, an argument naming a file of the copy), nor a path an exception (`!pattern`) of the
existing file re-includes. `.git` stays when a build step reads it: a `RUN` runs `git` (not
`git clone` of another repository; `rm -rf /app/.git` is no read), `go build` stamps VCS data,
or a script, Makefile, `package.json` script, bundler config (vite, webpack, ...) or build
backend (setuptools-scm, hatch-vcs, versioneer, ...) the build runs calls git; when a step runs
a file that cannot be read, `.git` is reported without a fix. `**/*.log` is not offered when
logs are also test data (`testdata/panic.log`). Safe for paths no build step reads: caches,
logs, coverage, editor files, build outputs the Dockerfile rebuilds, `node_modules` / `.venv`
when the stage installs its dependencies itself, `.git` as above. Otherwise (a `.env` file the
application may read at run time, `node_modules` the image may use as it is) the exclusion is
an unsafe fix, offered separately.

When another Dockerfile lies in the context (`Dockerfile.ci`, `docker/app.Dockerfile`), the
context's `.dockerignore` may be its too: the exclusions then go to `<Dockerfile
name>.dockerignore` beside this Dockerfile (`Dockerfile.dockerignore`), a copy of the shared
file plus the new entries, which BuildKit reads for this Dockerfile instead of `.dockerignore`
(the classic builder does not read it: there the fix changes nothing).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..ecosystems.build_inputs import build_reads
from ..facts.dockerignore import IgnoreMatcher, ParentMatches
from ..facts.files import ContextFiles
from ..facts.paths import has_vars, is_remote, is_under
from ..findings import FileWrite, Finding, Fix, Safety
from ..shell import SimpleCommand, parse_tool
from ..syntax import Instruction
from .base import Context, MayChange, Pass
from .copies import copy_op, human_size

_VCS = {".git", ".hg", ".svn"}
_JUNK_FILES = ((".pyc", "**/*.pyc"), (".log", "**/*.log"))
_ROOT_ONLY_CACHE = {".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".hypothesis",
                    ".nyc_output", "htmlcov", ".parcel-cache", ".sass-cache"}
_ENV_KEEP = (".example", ".sample", ".template", ".dist", ".defaults", ".schema", ".tmpl")
_BUILD_OUTPUTS = {"dist": "js|py", "build": "js|py|gradle", "target": "cargo|mvn", ".next": "js"}
_MAX_DIRS = 4000
# directories whose files are inputs of the project's tests, not leftovers (a `*.log` there is data)
_TEST_DATA = frozenset({"testdata", "_testdata", "test-data", "test_data", "fixtures", "__fixtures__",
                        "test", "tests", "spec"})
_JS_BUILDERS = {"tsc", "vite", "webpack", "ng", "next", "nuxt", "rollup", "esbuild", "parcel", "tsup"}
_COVERAGE_MARKERS = ("lcov.info", "index.html", "coverage-final.json", "clover.xml", "coverage-summary.json",
                     "lcov-report", "cobertura-coverage.xml")


@dataclass
class Junk:
    path: str             # context-relative
    pattern: str          # what goes into .dockerignore
    kind: str
    unsafe: str = ""      # the reason it is not a safe exclusion
    unsure: str = ""      # the reason dockopt cannot tell whether a build step reads it: no fix
    size: int = 0
    files: int = 0
    complete: bool = True


def _excludable_globs() -> tuple[str, ...]:
    """Where in the image what the exclusions keep out of the context can be (under any COPY
    destination): the entries _kind and _root_kind name."""
    names = sorted(_VCS | _ROOT_ONLY_CACHE | set(_BUILD_OUTPUTS) | {
        ".idea", ".vscode", ".coverage", "coverage", ".venv", ".env", ".env.*", "node_modules", "__pycache__",
        ".DS_Store"})
    return (*(g for n in names for g in (f"*/{n}", f"*/{n}/*")), *(f"*{suffix}" for suffix, _p in _JUNK_FILES))


class Dockerignore(Pass):
    code = "DO204"
    name = "dockerignore"
    summary = "COPY . sends files the image does not need: exclude them in .dockerignore"
    needs_context = True
    may_change = MayChange(paths=_excludable_globs())

    def check(self, ctx: Context) -> Iterable[Finding]:
        whole = [i for i in ctx.tree.instructions if self._copies_all(i)]
        if not whole:
            return
        target = ignore_target(ctx)
        if target is None:
            return
        current, matcher, write_path, shared = target.current, target.matcher, target.write_path, target.shared
        fs = ctx.files
        junk = self._scan(ctx, fs, matcher)
        if not junk:
            return
        named = context_names(ctx)
        junk = [j for j in junk if not self._conflicts(j, named, matcher)]
        if not junk:
            return
        yield from self._findings(whole[0], junk, current, write_path, shared)

    def _findings(self, first: Instruction, junk: list[Junk], current: str | None,
                  ignore_path: Path, shared: list[str]) -> Iterator[Finding]:
        unsure = [j for j in junk if j.unsure]
        junk = [j for j in junk if not j.unsure]
        safe = [j for j in junk if not j.unsafe]
        risky = [j for j in junk if j.unsafe]
        base = current if current is not None else ""
        where = "no .dockerignore" if current is None else "the .dockerignore in use does not exclude them"
        if shared:
            where += (f"; {', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''} may build with the same "
                      f"context, so the exclusions go to {ignore_path.name}, which BuildKit reads for this "
                      f"Dockerfile instead of .dockerignore")
        shown = safe or risky
        sent = "; ".join(self._describe(j) for j in shown)
        total = sum(j.size for j in shown)
        head = (f"`{first.logical.strip()[:40]}` copies the whole context, which sends {sent} "
                f"({human_size(total)} in all; {where})")
        if safe:
            fix = self._exclusion(base, safe, current is None, ignore_path, Safety.SAFE)
            if fix is not None:
                yield Finding(self.code, head, first.start_line, first.column, first.end_line, fix)
        if risky:
            reasons = "; ".join(f"{j.path}: {j.unsafe}" for j in risky)
            message = (head if not safe else
                       f"the context also sends {'; '.join(self._describe(j) for j in risky)}")
            message += f" (unsafe to exclude: {reasons})"
            fix = self._exclusion(base, risky, current is None and not safe, ignore_path, Safety.UNSAFE)
            yield Finding(self.code, message, first.start_line, first.column, first.end_line, fix)
        if unsure:
            message = (f"`{first.logical.strip()[:40]}` copies the whole context, which also sends "
                       f"{'; '.join(self._describe(j) for j in unsure)}; no fix, a build step may read it: "
                       f"{'; '.join(j.unsure for j in unsure)}")
            yield Finding(self.code, message, first.start_line, first.column, first.end_line)

    def _exclusion(self, base: str, junk: list[Junk], create: bool, ignore_path: Path,
                   safety: Safety) -> Fix | None:
        """The fix that appends the entries the new file does exclude; None when none is."""
        fixed = self._verify(self._append(base, junk, create), junk, ignore_path)
        if not fixed:
            return None
        return Fix(f"Exclude {', '.join(j.pattern for j in fixed)} in {ignore_path.name}",
                   safety, (), (FileWrite(str(ignore_path), self._append(base, fixed, create)),))

    # -- which instructions copy everything -----------------------------------------------
    @staticmethod
    def _copies_all(ins: Instruction) -> bool:
        op = copy_op(ins)
        if op is None or op.from_stage:
            return False
        return any(ContextFiles.norm(s) == "." for s in op.sources if not is_remote(s) and not has_vars(s))

    # -- the walk -----------------------------------------------------------------------
    def _scan(self, ctx: Context, fs: ContextFiles, matcher: IgnoreMatcher) -> list[Junk]:
        facts = _BuildFacts(ctx, fs)
        found: dict[str, Junk] = {}
        by_pattern: dict[str, Junk] = {}
        root = fs.root
        stack: list[tuple[str, ParentMatches | None]] = [("", None)]
        dirs = 0
        test_data: set[str] = set()
        while stack and dirs < _MAX_DIRS:
            directory, info = stack.pop()
            dirs += 1
            try:
                with os.scandir(root / directory if directory else root) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            depth = directory.count("/") + 1 if directory else 0
            for entry in entries:
                path = f"{directory}/{entry.name}" if directory else entry.name
                excluded, child = matcher.match(path, info)
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                kind = self._kind(entry.name, is_dir, depth, facts)
                if kind is not None and not excluded:
                    pattern, unsafe = kind
                    j = by_pattern.get(pattern)
                    if j is None:
                        j = by_pattern[pattern] = Junk(path, pattern, pattern, unsafe)
                        found[path] = j
                    size, count, complete = fs.tree_size(path) if is_dir else (self._size(root, path), 1, True)
                    j.size += size
                    j.files += count
                    j.complete &= complete
                    if not is_dir and _TEST_DATA.intersection(directory.split("/")):
                        test_data.add(pattern)
                    continue
                if is_dir and (not excluded or matcher.may_reinclude_under(path)):
                    stack.append((path, child))
        # a pattern that also matches the project's test data is no junk pattern (`**/*.log`
        # beside `testdata/panic.log`)
        found = {p: j for p, j in found.items() if j.pattern not in test_data}
        git = found.get(".git")
        if git is not None and facts.git_unsure:
            git.unsure = f"whether a step reads .git cannot be told ({facts.git_unsure})"
        return sorted(found.values(), key=lambda j: (j.path.count("/"), j.path))

    @staticmethod
    def _size(root: Path, path: str) -> int:
        try:
            return os.lstat(root / path).st_size
        except OSError:
            return 0

    @staticmethod
    def _kind(name: str, is_dir: bool, depth: int, facts: _BuildFacts) -> tuple[str, str] | None:
        """(pattern, unsafe reason) for a junk entry, None for anything else."""
        if depth == 0:
            kind = _root_kind(name, is_dir, facts)
            if kind is not None:
                return kind
        if is_dir:
            if name == "node_modules":
                return "**/node_modules", ("" if facts.installs_node else
                                           "the image may use the node_modules the context sends")
            return ("**/__pycache__", "") if name == "__pycache__" else None
        if name == ".DS_Store":
            return "**/.DS_Store", ""
        pattern = next((p for suffix, p in _JUNK_FILES if name.endswith(suffix)), None)
        return (pattern, "") if pattern is not None else None

    # -- what the Dockerfile names -----------------------------------------------------------
    @staticmethod
    def _named_paths(ctx: Context, fs: ContextFiles) -> list[str]:
        out: list[str] = []
        for ins in ctx.tree.instructions:
            op = copy_op(ins)
            if op is not None and not op.from_stage:
                out.extend(_named(s for s in op.sources if not is_remote(s)))
            if ins.keyword in ("RUN", "ONBUILD"):
                out.extend(n for n in (ContextFiles.norm(m.source or ".") for m in ctx.mounts(ins)
                                       if m.reads_context) if n)
                if ins.keyword == "ONBUILD" and ins.onbuild is not None:
                    out.extend(_named(ins.onbuild.values[:-1]))
        return out

    @staticmethod
    def _conflicts(j: Junk, named: list[str], matcher: IgnoreMatcher) -> bool:
        one = IgnoreMatcher.from_text(j.pattern)
        for n in named:
            if n == ".":
                if j.path == ".":
                    return True
                continue
            # the named path, a parent of it, or (a pattern source) something it may match
            if one.is_excluded(n.rstrip("/")) or is_under(n, j.path) or (re.search(r"[*?\[]", n) and (
                    _glob_may_match(n, j.path))):
                return True
        # an exception of the existing file re-includes something under it: the user wants it
        for p in matcher.patterns:
            if p.exception and (is_under(p.without_trailing_glob, j.path)
                                or (j.pattern.startswith("**") and j.pattern[3:] in p.text)):
                return True
        return False

    # -- the new text --------------------------------------------------------------------------
    @staticmethod
    def _append(base: str, junk: list[Junk], create: bool) -> str:
        return append_entries(base, [j.pattern for j in junk], create, "Not needed in the image (dockopt DO204)")

    @staticmethod
    def _verify(text: str, junk: list[Junk], path: Path) -> list[Junk]:
        """The entries that the new file does exclude (so that the finding does not come back)."""
        try:
            m = IgnoreMatcher.from_text(text, path)
        except ValueError:
            return []
        return [j for j in junk if m.is_excluded(j.path)]

    @staticmethod
    def _describe(j: Junk) -> str:
        size = human_size(j.size) + ("+" if not j.complete else "")
        what = j.pattern if j.pattern.startswith("**") else j.path
        return f"{what} ({size}, {j.files}{'+' if not j.complete else ''} file{'s' if j.files != 1 else ''})"




@dataclass
class IgnoreTarget:
    """The ignore file in use for a Dockerfile and where new exclusions go."""

    in_use: Path
    current: str | None          # its text (None: there is none)
    matcher: IgnoreMatcher
    write_path: Path             # the file the exclusions go to (`<Dockerfile>.dockerignore` when shared)
    shared: list[str]            # the other Dockerfiles in the context, when the context's file is shared


def ignore_target(ctx: Context) -> IgnoreTarget | None:
    """The ignore file a fix may extend, None without a context or when the one in use cannot be
    read (never overwrite a file dockopt cannot read)."""
    ignore_path = ctx.files.ignore_file
    if ignore_path is None:
        return None
    current = ctx.read_side_file(ignore_path)
    if current is None and ignore_path.exists():
        return None
    try:
        matcher = IgnoreMatcher.from_text(current or "", ignore_path)
    except ValueError:
        return None
    write_path, shared = _own_ignore_file(ctx, ignore_path)
    return IgnoreTarget(ignore_path, current, matcher, write_path, shared)


def context_names(ctx: Context) -> list[str]:
    """The context paths the Dockerfile's steps read by name: COPY/ADD sources, bind mounts,
    ONBUILD sources, and the files build steps run or read (`ecosystems.build_inputs`)."""
    return Dockerignore._named_paths(ctx, ctx.files) + sorted(build_reads(ctx).files)


def append_entries(base: str, patterns: list[str], create: bool, comment: str) -> str:
    """`base` with `# comment` and the patterns appended, in the file's line endings."""
    nl = "\r\n" if "\r\n" in base else "\n"
    block = "# " + comment + nl + nl.join(patterns) + nl
    if create and not base:
        return block
    sep = "" if not base or base.endswith(("\n", "\r")) else nl
    return base + sep + block


def excluded_by(text: str, path: Path, rels: list[str]) -> list[str]:
    """The context paths an ignore file with `text` excludes."""
    try:
        m = IgnoreMatcher.from_text(text, path)
    except ValueError:
        return []
    return [r for r in rels if m.is_excluded(r)]


def junk_name(name: str) -> bool:
    """A name DO204 itself may exclude (version control, caches, dependency trees, ...)."""
    return name in _VCS or name in _ROOT_ONLY_CACHE or name in _BUILD_OUTPUTS or name in {
        ".idea", ".vscode", ".coverage", "coverage", ".venv", "node_modules", "__pycache__", ".DS_Store",
        ".env"} or name.startswith(".env.") or name.endswith(tuple(s for s, _p in _JUNK_FILES))


def _root_kind(name: str, is_dir: bool, facts: _BuildFacts) -> tuple[str, str] | None:
    """(pattern, unsafe reason) for junk at the top of the context, None for anything else."""
    if name == ".git" and facts.git_read:
        return None
    if name in _VCS:
        return name, ""
    if not is_dir:
        if name == ".coverage":
            return name, ""
        if (name == ".env" or name.startswith(".env.")) and not name.endswith(_ENV_KEEP):
            return name, "the application may read it at run time (it also puts local secrets in the image)"
        return None
    if name in _ROOT_ONLY_CACHE or name in (".idea", ".vscode"):
        return name, ""
    if name == "coverage" and facts.coverage_output:
        return name, ""
    if name == ".venv":
        return name, "" if facts.installs_python else "the image may use this virtualenv as it is"
    if name in _BUILD_OUTPUTS and facts.rebuilds(name):
        return name, ""
    return None


def _own_ignore_file(ctx: Context, in_use: Path) -> tuple[Path, list[str]]:
    """Where the exclusions go, and the other Dockerfiles that share the context's .dockerignore.

    A `<Dockerfile>.dockerignore` already in use is this Dockerfile's own. The context's
    `.dockerignore` is every Dockerfile's that builds with the context: when another Dockerfile
    lies in the context (it may build with it), the exclusions go to a new
    `<Dockerfile>.dockerignore` beside this one, which starts as a copy of the shared file."""
    path = ctx.path
    if path is None or in_use.name != ".dockerignore":
        return in_use, []
    own = Path(str(path) + ".dockerignore")
    if own == in_use:
        return in_use, []
    others = [rel for rel in _dockerfiles(ctx.files) if (ctx.files.root / rel).resolve() != Path(path).resolve()]
    return (own, others) if others else (in_use, [])


_DOCKERFILE_NAME = re.compile(r"^(?:Dockerfile|Containerfile)(?:[.-][\w.-]*)?$"
                              r"|^[\w.-]+\.(?:[Dd]ockerfile|Containerfile)$")
_FROM = re.compile(r"^[ \t]*FROM[ \t]+\S", re.M | re.I)   # a Dockerfile has a FROM; a backup or notes need not
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "vendor", "__pycache__", "target", "dist", "build"})


def _dockerfiles(fs: ContextFiles, cap: int = 2000) -> list[str]:
    """The Dockerfiles in the context directory (`Dockerfile`, `Dockerfile.ci`, `app.Dockerfile`, ...
    holding a FROM), walking at most `cap` of its directories."""
    out: list[str] = []
    stack = [""]
    seen = 0
    while stack and seen < cap:
        directory = stack.pop()
        seen += 1
        try:
            with os.scandir(fs.root / directory if directory else fs.root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            rel = f"{directory}/{e.name}" if directory else e.name
            if e.is_dir(follow_symlinks=False):
                if e.name not in _SKIP_DIRS:
                    stack.append(rel)
            elif _DOCKERFILE_NAME.match(e.name) and ".dockerignore" not in e.name and \
                    _FROM.search(fs.head(rel, 8192).decode("utf-8", errors="replace")):
                out.append(rel)
    return sorted(out)


def _named(sources: Iterable[str]) -> Iterator[str]:
    """The context paths that sources name, less the whole context."""
    for source in sources:
        n = ContextFiles.norm(source)
        if n and n != ".":
            yield n


def _glob_may_match(pattern: str, path: str) -> bool:
    from ..facts.paths import go_match

    parts = path.split("/")
    pat_parts = pattern.split("/")
    # the pattern names the junk path or something under it
    n = min(len(parts), len(pat_parts))
    try:
        return all(go_match(pat_parts[i], parts[i]) for i in range(n))
    except ValueError:
        return True


class _BuildFacts:
    """What the Dockerfile's RUN steps do, for the safety of each exclusion."""

    def __init__(self, ctx: Context, fs: ContextFiles) -> None:
        self.js_build = self.py_build = self.gradle = self.cargo = self.mvn = False
        node_stages: set[int] = set()
        python_stages: set[int] = set()
        for ins in ctx.tree.instructions:
            if ins.keyword != "RUN":
                continue
            stage = ctx.stage(ins)
            index = stage.index if stage is not None else -1
            script = ctx.script(ins)
            for cmd in script.commands if script is not None else ():
                installs = self._read(cmd)
                if installs == "node":
                    node_stages.add(index)
                elif installs == "python":
                    python_stages.add(index)
        # every stage that copies the whole context installs the dependencies itself (in it or
        # in a stage it is built from): the context's copy is never what runs
        copying = [st for st in ctx.tree.stages if any(Dockerignore._copies_all(i) for i in st.instructions)]
        lineage = {st.index: {s.index for s in ctx.graph.chain(st)} for st in copying}
        self.installs_node = bool(copying) and all(lineage[st.index] & node_stages for st in copying)
        self.installs_python = bool(copying) and all(lineage[st.index] & python_stages for st in copying)
        self.coverage_output = any(fs.exists("coverage/" + m) for m in _COVERAGE_MARKERS)
        reads = build_reads(ctx)
        # a build step reads .git: it is needed, not junk; a step that cannot be read: no fix
        self.git_read = bool(reads.git)
        self.git_unsure = "; ".join(reads.unsure)

    def _read(self, cmd: SimpleCommand) -> str | None:
        """Note what one command builds; "node" or "python" when it installs that ecosystem's dependencies."""
        prog = cmd.program or ""
        args = [w.text or "" for w in cmd.args]
        tool = parse_tool(cmd)
        m = tool.manager if tool else None
        sub = (tool.subcommand or "") if tool else ""
        runner = args[0] if prog in ("npx", "pnpx", "bunx") and args else prog
        if runner in _JS_BUILDERS or (m in ("npm", "yarn", "pnpm") and (
                (sub in ("run", "build", "run-script") and "build" in args) or sub == "build")):
            self.js_build = True
        if (m, sub) in (("poetry", "build"), ("uv", "build"), ("pip", "wheel")) or (
                prog.startswith("python") and ("build" in args or any(a.endswith("setup.py") for a in args))):
            self.py_build = True
        self.gradle |= prog in ("gradle", "gradlew")
        self.cargo |= prog == "cargo" and args[:1] != [] and args[0] in ("build", "install", "test")
        self.mvn |= m == "mvn"
        if tool is not None and m in ("npm", "yarn", "pnpm") and (
                sub == "ci" or (sub == "install" and not tool.has_flag("-g", "--global"))):
            return "node"
        if m in ("pip", "poetry", "pipenv", "uv") and sub in ("install", "sync", "pip install", "pip sync"):
            return "python"
        return None

    def rebuilds(self, name: str) -> bool:
        if name in ("dist", ".next"):
            return self.js_build or (name == "dist" and self.py_build)
        if name == "build":
            return self.js_build or self.py_build or self.gradle
        if name == "target":
            return self.cargo or self.mvn
        return False



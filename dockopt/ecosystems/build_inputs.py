"""What the build steps read from the project beyond what the Dockerfile names: the files a RUN
runs or configures its tools with, and whether any of them reads version-control data (.git).

`build_reads(facts)` looks at every RUN that sees files of the build context (below a COPY/ADD of
a context directory, or with a bind mount of it) and collects, as context paths:
- the files a command names: a script it runs (`./build.sh`, `sh build/x.sh`, `node build/build.js`,
  `go run build.go`, `python setup.py`), any argument naming a file of the copy;
- the configuration of the build tools it runs: `make` (the Makefile, `-C`, `-f`), npm/yarn/pnpm
  (package.json, the scripts a `run` executes and the lifecycle scripts of an install, with the
  files those name and the bundler configs beside package.json), the Python build backends
  (pyproject.toml, setup.py, setup.cfg), Maven, Gradle, Cargo (build.rs), CMake, Rake.
Each of those texts is searched for a call of git (`git describe`, `exec.Command("git", ...`,
`$(shell git rev-parse ...)`) or a tool that reads the version from git (setuptools-scm,
hatch-vcs, versioneer, git-revision-webpack-plugin, ...); `git` itself (not `git clone` of a
remote) and `go build`/`go install` (they stamp VCS data) read it directly. A file that a step
runs but that cannot be read as text, or a RUN whose script is not read, makes the answer unsure.
A word such as `.git` in `rm -rf /app/.git` is no evidence: only what runs counts.
"""
from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..facts import FileFacts
from ..facts.files import ContextFiles
from ..facts.paths import is_under, join, relative
from ..shell import SimpleCommand, parse_tool
from ..syntax import Instruction

__all__ = ["BuildReads", "build_reads", "git_evidence"]

# a call of git in a script, a Makefile or a config (`git describe`, `"git", "rev-parse"`, `git log -1`)
_GIT_CALL = re.compile(
    r"""(?<![\w.+/@-])git(?:\.exe)?["'`]?(?:\s*,\s*["'`]|\s+)(?:-C\s+\S+\s+)?"""
    r"(describe|rev-parse|rev-list|log|show|status|tag|branch|symbolic-ref|diff|ls-files|name-rev|cat-file|"
    r"for-each-ref|shortlog|blame|stash|remote|config|archive|submodule|worktree|ls-tree|var)\b")
# tools and libraries that read the version or the commit from .git
_GIT_TOOLS = re.compile(
    r"setuptools[_-]scm|hatch[_-]vcs|versioneer|versioningit|dunamai|dynamic[_-]versioning|setuptools[_-]git|"
    r"pbr\b|git-commit-id|gradle-git-properties|com\.palantir\.git-version|axion-release|jgit|"
    r"git-revision-webpack-plugin|git-rev-sync|simple-git|isomorphic-git|nodegit|git-repo-info|"
    r"GitPython|pygit2|dulwich|go-git|vergen|built\b.*git2|Nerdbank\.GitVersioning|GitVersion|"
    r"\.git/(?:HEAD|refs)", re.I)
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"})
_INTERPRETERS = frozenset({"node", "nodejs", "ruby", "perl", "php", "deno", "bun", "tsx", "ts-node", "Rscript",
                           "lua"}) | _SHELLS
_PYTHON = re.compile(r"^python[0-9.]*$")
# build tools and the files they read as configuration, relative to the directory they run in
_TOOL_FILES = {
    "make": ("Makefile", "GNUmakefile", "makefile"),
    "cmake": ("CMakeLists.txt",),
    "mvn": ("pom.xml",), "mvnw": ("pom.xml",),
    "gradle": ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"),
    "gradlew": ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"),
    "cargo": ("Cargo.toml", "build.rs"),
    "rake": ("Rakefile",),
    "sbt": ("build.sbt",),
}
_PY_BUILD = ("pyproject.toml", "setup.py", "setup.cfg")
# the configs of the bundlers and frameworks a package.json script runs, beside package.json
_JS_CONFIGS = tuple(f"{name}.{ext}" for name in ("vite.config", "webpack.config", "rollup.config", "next.config",
                                                 "nuxt.config", "svelte.config", "astro.config", "vue.config",
                                                 "quasar.config", "craco.config", "tsup.config", "gatsby-config",
                                                 "babel.config")
                    for ext in ("js", "cjs", "mjs", "ts", "mts", "cts"))
_LIFECYCLE = ("preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare")
_JS_MANAGERS = ("npm", "yarn", "pnpm")
_SCRIPT_WORDS = re.compile(r"[\s;&|()<>\"'`=,]+")
_RUN_SCRIPT = re.compile(r"\b(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([A-Za-z0-9:_.-]+)")


@dataclass
class BuildReads:
    """What the build steps read from the context besides the Dockerfile's COPY sources."""

    files: set[str] = field(default_factory=set)     # context paths run or read by a step
    git: list[str] = field(default_factory=list)     # why a step reads .git ("" entries never)
    unsure: list[str] = field(default_factory=list)  # why it cannot be told whether one does


def git_evidence(text: str) -> str | None:
    """What in a script or a config reads version-control data, None when nothing does."""
    m = _GIT_CALL.search(text)
    if m:
        return f"runs `git {m.group(1)}`"
    m = _GIT_TOOLS.search(text)
    return f"uses {m.group(0)}" if m else None


@dataclass(frozen=True)
class _Copy:
    """A context directory that is at an image directory when a RUN runs."""

    src: str      # context-relative ("." for the whole context)
    dest: str     # absolute image directory

    def entry(self, image_path: str) -> str | None:
        if not is_under(image_path, self.dest):
            return None
        rel = relative(image_path, self.dest)
        if self.src == ".":
            return rel
        return posixpath.normpath(posixpath.join(self.src, rel))


class _Reader:
    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.fs: ContextFiles = facts.files
        self.out = BuildReads()
        self._checked: set[str] = set()

    # -- the copies in force at a RUN -------------------------------------------------------------
    def copies(self, ins: Instruction) -> list[_Copy]:
        out: list[_Copy] = []
        for earlier in self.facts.graph.before(ins):
            if earlier.keyword not in ("COPY", "ADD") or earlier.flag("from") is not None:
                continue
            effects = self.facts.effects(earlier)
            dest = effects.writes[0].path if effects.writes else None
            for read in effects.context_reads:
                if dest is not None and (read.source == "." or self.fs.is_dir(read.source)):
                    out.append(_Copy(read.source, dest))
        for m in self.facts.mounts(ins):
            if m.reads_context and m.target:
                target = join(self.facts.state(ins).cwd, m.target)
                if target is not None:
                    out.append(_Copy(posixpath.normpath((m.source or ".").lstrip("/") or "."), target))
        return out

    # -- recording --------------------------------------------------------------------------------
    def read(self, rel: str, runs: bool = False) -> None:
        """A step reads (or, `runs`, executes) this context file; look for git in its text."""
        if not self.fs.sent(rel) or rel in self._checked:
            return
        self._checked.add(rel)
        self.out.files.add(rel)
        if self.fs.is_dir(rel):
            return
        text = self.fs.text(rel)
        if text is None or (runs and "\x00" in text[:1024]):
            if runs:
                self.out.unsure.append(f"a step runs {rel}, which cannot be read")
            return
        found = git_evidence(text)
        if found:
            self.out.git.append(f"{rel} {found}")

    def image_file(self, copies: list[_Copy], image_path: str | None, runs: bool = False) -> str | None:
        if image_path is None:
            return None
        for c in reversed(copies):
            rel = c.entry(image_path)
            if rel is not None and self.fs.exists(rel):
                self.read(rel, runs)
                return rel
        return None

    # -- one RUN ----------------------------------------------------------------------------------
    def run(self, ins: Instruction) -> None:
        copies = self.copies(ins)
        if not copies:
            return
        if self.facts.script(ins) is None and not ins.is_json:
            _rs, reason = self.facts.run_script(ins)
            self.out.unsure.append(f"line {ins.start_line}: {reason}")
            return
        for step in self.facts.steps(ins):
            if step.effects.modelled:   # what a modelled command reads is known (rm reads nothing)
                for access in step.reads:
                    self.image_file(copies, access.path)
            self.command(step.command, step.cwd, step.env, copies, step.effects.modelled)

    def command(self, cmd: SimpleCommand, cwd: str | None, env: Mapping[str, str | None],
                copies: list[_Copy], modelled: bool) -> None:
        program = cmd.program or ""
        words = [w.text for w in cmd.args if w.text]
        tool = parse_tool(cmd)
        if not modelled and tool is None and program not in _TOOL_FILES and program not in ("go", "git"):
            # an unknown command may read the files it names (a package manager or a build tool
            # names packages, scripts and targets instead)
            for word in words:
                if not word.startswith("-") and "$" not in word and word not in (".", "./"):
                    self.image_file(copies, join(cwd, word))
        self.script_run(cmd, program, words, cwd, copies)
        if program == "git":
            self.git_command(words)
        elif program == "go":
            self.go(words, cwd, copies, env.get("GOFLAGS") or "")
        elif program in _TOOL_FILES:
            self.tool(program, words, cwd, copies)
        if tool is not None and tool.manager in _JS_MANAGERS:
            self.js(tool.manager, tool.subcommand or "", words, tool.has_flag("--ignore-scripts"), cwd, copies)
        elif tool is not None and tool.manager in ("pip", "uv", "poetry", "pdm", "hatch", "pipenv") and (
                any(f.path in (".", "./") or not f.path.endswith((".txt", ".in")) for f in tool.files)
                or (tool.manager != "pip" and (tool.subcommand or "") in ("build", "install", "sync"))):
            self.configs(copies, cwd, _PY_BUILD)

    def script_run(self, cmd: SimpleCommand, program: str, words: list[str], cwd: str | None,
                   copies: list[_Copy]) -> None:
        """A script of the context the command runs: by its path, or through an interpreter."""
        name = cmd.argv[cmd.name_index].text if cmd.name_index is not None else None
        if name and "/" in name:
            self.image_file(copies, join(cwd, name), runs=True)
        elif program in _INTERPRETERS or _PYTHON.match(program):
            script = next((a for a in words if not a.startswith("-")), None)
            if script is not None and not (program in _SHELLS and "-c" in words):
                self.image_file(copies, join(cwd, script), runs=True)
            if _PYTHON.match(program) and (words[:2] == ["-m", "build"] or "setup.py" in words):
                self.configs(copies, cwd, _PY_BUILD)

    def git_command(self, words: list[str]) -> None:
        sub = next((w for w in words if not w.startswith("-")), "")
        if sub in ("clone", "init", "ls-remote", "") or (sub == "config" and "--global" in words):
            return
        self.out.git.append(f"a RUN step runs `git {sub}`")

    def go(self, words: list[str], cwd: str | None, copies: list[_Copy], goflags: str) -> None:
        sub = words[0] if words else ""
        if sub in ("build", "install") and not any(w.startswith("-buildvcs") and w != "-buildvcs=true"
                                                   for w in [*words, *goflags.split()]):
            self.out.git.append(f"`go {sub}` stamps the binary with VCS data from .git")
        if sub in ("run", "generate", "test"):
            for w in words[1:]:
                if w.endswith(".go"):
                    self.image_file(copies, join(cwd, w), runs=True)

    def tool(self, program: str, words: list[str], cwd: str | None, copies: list[_Copy]) -> None:
        where = cwd
        names = list(_TOOL_FILES[program])
        for i, w in enumerate(words[:-1]):
            if w in ("-C", "--directory"):
                where = join(cwd, words[i + 1])
            elif w in ("-f", "--file", "--makefile"):
                names = [words[i + 1]]
        self.configs(copies, where, tuple(names))

    def configs(self, copies: list[_Copy], cwd: str | None, names: tuple[str, ...]) -> None:
        for name in names:
            self.image_file(copies, join(cwd, name))

    # -- npm, yarn, pnpm --------------------------------------------------------------------------
    def js(self, manager: str, sub: str, words: list[str], no_scripts: bool, cwd: str | None,
           copies: list[_Copy]) -> None:
        pkg = self.image_file(copies, join(cwd, "package.json"))
        if pkg is None:
            return
        try:
            data = json.loads(self.fs.text(pkg) or "")
        except ValueError:
            return
        scripts = data.get("scripts") if isinstance(data, dict) else None
        if not isinstance(scripts, dict):
            return
        pkg_dir = posixpath.dirname(pkg) or "."
        names: list[str] = []
        if sub in ("ci", "install", "") and not no_scripts:
            names += [k for k in _LIFECYCLE if k in scripts]
        elif sub in ("run", "run-script"):
            names += [w for w in words[1:2] if w in scripts]
        elif sub in scripts and (manager in ("yarn", "pnpm") or sub in ("test", "start", "build", "pack", "publish")):
            names.append(sub)
        for name in self._with_nested(names, scripts):
            self.js_script(str(scripts[name]), pkg_dir)

    @staticmethod
    def _with_nested(names: list[str], scripts: dict[str, object]) -> Iterator[str]:
        seen: set[str] = set()
        todo = [n for base in names for n in (f"pre{base}", base, f"post{base}")]
        while todo:
            name = todo.pop(0)
            if name in seen or not isinstance(scripts.get(name), str):
                continue
            seen.add(name)
            yield name
            todo += [m.group(1) for m in _RUN_SCRIPT.finditer(str(scripts[name]))]

    def js_script(self, script: str, pkg_dir: str) -> None:
        found = git_evidence(script)
        if found:
            self.out.git.append(f"a package.json script {found}")
        from . import node  # only a project with a package.json script

        for token in _SCRIPT_WORDS.split(node.without_outputs(script)):
            token = token.strip().removeprefix("./")
            if not token or token.startswith("-") or "$" in token or "://" in token:
                continue
            rel = posixpath.normpath(posixpath.join(pkg_dir, token))
            if not rel.startswith("..") and self.fs.exists(rel):
                self.read(rel, runs=True)
        # the bundlers a script runs read their config files beside package.json
        for name in _JS_CONFIGS:
            self.read(posixpath.normpath(posixpath.join(pkg_dir, name)))


def build_reads(facts: FileFacts) -> BuildReads:
    """What the RUN steps of the file read from the build context (see the module docstring);
    empty without a context."""
    cache = facts.memo("build_reads")
    if "all" not in cache:
        reader = _Reader(facts)
        if facts.files.available:
            for ins in facts.tree.instructions:
                if ins.keyword == "RUN" and facts.stage(ins) is not None:
                    reader.run(ins)
        cache["all"] = reader.out
    found: BuildReads = cache["all"]
    return found

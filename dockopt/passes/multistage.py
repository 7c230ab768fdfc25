"""Split a single-stage build whose image carries its toolchain into a builder and a runtime stage.

## What it does
Finds a Dockerfile with one stage that builds software in the image it ships: `go build` in
`golang`, `cargo build` in `rust`, `make`/`gcc` in `gcc` (or with compilers installed by
apt), `javac`/`mvn`/`gradle` in a JDK image, `npm run build` in `node`, a site generator run
inside `nginx`, or Python packages compiled with `gcc`/`*-dev` packages. It rewrites the file
into a builder stage (the original instructions, unchanged) and a runtime stage that starts from
a small image and copies only the artifacts:

* Go: the binary from `-o` (or named after the package / go.mod module), built with
  `CGO_ENABLED=0` when nothing needs cgo (no `import "C"`, no cgo-only module, no `-race`)
  into `gcr.io/distroless/static-debian12` (CA certificates and zoneinfo included); with
  `--runtime-base scratch`, the CA bundle and zoneinfo are copied from the builder when the
  program makes TLS calls or loads time zones. A cgo binary goes to the slim image of the
  builder's Debian release with the shared libraries it links.
* Rust: `target/<profile>/<bin>` (bin names from Cargo.toml, `--bin`, `--target`,
  `--target-dir`), or what `cargo install --path` installs; C/C++: the `-o` output of the
  compiler, the make targets and what `make install` installs (read from the Makefile). Both
  into `debian:<release>-slim` with the non-libc shared libraries the binaries link (found by
  `ldd` in the builder).
* Java: the jar `jar --file`/`mvn package`/`gradle build` makes and the CMD runs, into the JRE
  image of the same Java version (`eclipse-temurin:17-jdk` -> `eclipse-temurin:17-jre`).
* Node: the directories the package.json build script writes (`dist/`, `build/`, `out/`,
  `--outDir`...), package.json, and the production dependencies (`npm ci --omit=dev`, none
  when package.json has no `dependencies`) in the `-slim` image of the same Node version; an
  app that only serves its build output statically can be put in `nginx` instead
  (`--runtime-base nginx:stable`, or `runtime-base.node` in the config).
* Python: wheels built in the builder (`pip wheel --wheel-dir=/wheels`) and installed in the
  runtime without compilers (`python:3.11` -> `python:3.11-slim`); build-only packages
  (`gcc`, `build-essential`, `*-dev`) leave the image, the shared libraries of known `-dev`
  packages (`libpq-dev` -> `libpq5`) stay.
* A static site built inside a web server image: the server's document root, copied into a
  clean copy of the same server image.

The runtime stage keeps the image's configuration: ENV, the ARGs they use, WORKDIR, USER,
EXPOSE, LABEL, HEALTHCHECK, VOLUME, STOPSIGNAL, ONBUILD and the ENTRYPOINT/CMD; artifacts keep
their paths, so the command line still works. Packages installed for the app rather than the
build (not compilers, not `-dev`, not used only by build commands) are installed in the runtime
too; user accounts created with `useradd`/`adduser` are created there again. The runtime base
is the user's `runtime-base` for the language when one is configured.

When the pass cannot tell what the artifacts are (a build command it does not model, outputs
named at build time, a CMD that runs something the build does not produce), it reports the
single-stage build with the reason and changes nothing.

## Why is this bad?
Compilers, headers, package caches, sources and intermediate files ship in the final image:
hundreds of megabytes that every pull and every container start pays for, and a larger attack
surface (a shell and a compiler for whoever gets in). The program needs none of it at run time.

## Example
```dockerfile
FROM golang:1.19
WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/app .
CMD ["app"]
```
Use instead:
```dockerfile
FROM golang:1.19 AS build
ENV CGO_ENABLED=0
WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/app .

FROM gcr.io/distroless/static-debian12
WORKDIR /src
COPY --from=build /usr/local/bin/app /usr/local/bin/app
CMD ["app"]
```

## Fix safety
Unsafe (only with `--unsafe-fixes`): the runtime image holds only what the pass could see the
program needs. Files the program reads at run time from the source tree (templates, configs)
that are not build outputs, programs of the toolchain image it calls, and libraries it opens
with `dlopen` are not there any more; a static Go binary resolves users and DNS with Go's own
code. Build and run the result before shipping it (`dockopt --verify --smoke COMMAND`).
"""
from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..facts import images as rt
from ..facts.paths import display, is_under, join
from ..facts.variables import references
from ..findings import Edit, Finding
from ..syntax import Instruction
from ._artifacts import (
    _CC,
    CannotTell,
    Output,
    RunCommand,
    StageModel,
    cargo_outputs,
    cc_outputs,
    go_build_outputs,
    go_source_facts,
    jar_outputs,
    make_outputs,
    maven_output_dir,
    model_stage,
    moves,
    node_build_outputs,
    read_package_json,
    removed_paths,
    run_commands,
)
from .base import Context, Pass, newline_of, unsafe_fix

BUILDER = "build"
LIBS_DIR = "/runtime-libs"

# packages that only a build needs (apt and apk names)
BUILD_PACKAGES = {
    "gcc", "g++", "cpp", "c++", "clang", "llvm", "lld", "make", "cmake", "ninja-build", "ninja", "meson",
    "build-essential", "build-base", "autoconf", "automake", "libtool", "pkg-config", "pkgconf",
    "bison", "flex", "gfortran", "golang", "golang-go", "go", "rustc", "cargo", "rust", "maven",
    "gradle", "ant", "default-jdk", "default-jdk-headless", "musl-dev", "linux-headers", "libc6-dev",
    "libc-dev", "binutils", "dpkg-dev", "python3-dev", "python-dev", "cython3", "cython", "swig",
    "protobuf-compiler", "upx", "upx-ucl", "git", "npm", "yarnpkg", "patch", "gettext", "nasm", "yasm",
}
_BUILD_PACKAGE_RE = re.compile(r".*-(dev|devel)$|^openjdk-\d+-jdk(-headless)?$|^python3\.\d+-dev$|^gcc-\d+$|^g\+\+-\d+$|^clang-\d+$")
# runtime libraries of common -dev packages (Debian bookworm names; apk names)
DEV_RUNTIME_LIBS = {
    "libpq-dev": "libpq5", "libxml2-dev": "libxml2", "libxslt1-dev": "libxslt1.1",
    "libjpeg-dev": "libjpeg62-turbo", "libjpeg62-turbo-dev": "libjpeg62-turbo", "zlib1g-dev": None,
    "libffi-dev": "libffi8", "libssl-dev": "libssl3", "libmariadb-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3", "default-libmysqlclient-dev": "libmariadb3",
    "libyaml-dev": "libyaml-0-2", "libpng-dev": "libpng16-16", "libfreetype6-dev": "libfreetype6",
    "libfreetype-dev": "libfreetype6", "libsqlite3-dev": "libsqlite3-0", "libcurl4-openssl-dev": "libcurl4",
    "libldap2-dev": "libldap-2.5-0", "libsasl2-dev": "libsasl2-2", "libbz2-dev": None, "liblzma-dev": None,
    "libreadline-dev": "libreadline8", "libncurses-dev": None, "libncurses5-dev": None,
    "libgeos-dev": "libgeos-c1v5", "libmagic-dev": "libmagic1", "libwebp-dev": "libwebp7",
    "libtiff-dev": "libtiff6", "libopenjp2-7-dev": "libopenjp2-7", "liblcms2-dev": "liblcms2-2",
    "libzmq3-dev": "libzmq5", "libsnappy-dev": "libsnappy1v5", "libgmp-dev": "libgmp10",
    "libkrb5-dev": "libgssapi-krb5-2", "libpcre3-dev": "libpcre3", "libexpat1-dev": None,
    "uuid-dev": None, "libuuid-dev": None, "python3-dev": None, "python-dev": None,
}
# the same for apk (versions that do not depend on the Alpine release only)
APK_DEV_RUNTIME_LIBS = {
    "libffi-dev": "libffi", "libxml2-dev": "libxml2", "libxslt-dev": "libxslt", "postgresql-dev": "libpq",
    "libpq-dev": "libpq", "jpeg-dev": "libjpeg-turbo", "libjpeg-turbo-dev": "libjpeg-turbo", "zlib-dev": None,
    "yaml-dev": "yaml", "freetype-dev": "freetype", "sqlite-dev": "sqlite-libs", "musl-dev": None,
    "linux-headers": None, "python3-dev": None, "libc-dev": None,
}
# the programs a build package provides (to tell whether a later RUN still uses it)
PACKAGE_PROGRAMS = {
    "build-essential": {"gcc", "g++", "cc", "c++", "make"}, "build-base": {"gcc", "g++", "cc", "c++", "make"},
    "gcc": {"gcc", "cc"}, "g++": {"g++", "c++"}, "golang-go": {"go"}, "golang": {"go"}, "rustc": {"rustc"},
    "pkg-config": {"pkg-config"}, "pkgconf": {"pkg-config", "pkgconf"}, "ninja-build": {"ninja"},
    "default-jdk": {"javac", "java"}, "nodejs": {"node"}, "yarnpkg": {"yarn", "yarnpkg"},
}


def runtime_lib(manager: str | None, name: str) -> tuple[bool, str | None]:
    """(known, the runtime library package) of a -dev package for the manager."""
    table = APK_DEV_RUNTIME_LIBS if manager == "apk" else DEV_RUNTIME_LIBS
    return (name in table), table.get(name)


# runtime-only metadata: moved to the runtime stage
MOVED = {"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "LABEL", "MAINTAINER", "ONBUILD"}
# carried (copied) to the runtime stage and kept in the builder
CARRIED = {"ENV", "VOLUME"}
SETUP_COMMANDS = {"useradd", "adduser", "groupadd", "addgroup", "mkdir", "chown", "chmod", "ln", "touch",
                  "usermod", "chgrp", "true"}
SHELL_BUILTINS = {"exec", "cd", "export", "set", "test", "[", "echo", "printf", "true", "false", ":",
                  "trap", "wait", "eval", "shift", "unset", "read", "source", "."}
STATIC_SERVERS = {"serve", "http-server", "live-server", "static-server", "lite-server", "sirv"}
WEB_ROOTS = {"nginx": "/usr/share/nginx/html", "httpd": "/usr/local/apache2/htdocs"}
CERTS = "/etc/ssl/certs/ca-certificates.crt"
ZONEINFO = "/usr/share/zoneinfo"
TLS_CRATES = ("reqwest", "hyper-tls", "native-tls", "openssl", "rustls-native-certs", "ureq", "isahc",
              "curl", "surf", "attohttpc", "tokio-native-tls", "aws-sdk")


@dataclass
class Plan:
    language: str
    runtime: str
    artifacts: list[tuple[str, str, bool]] = field(default_factory=list)   # (builder path, dest, glob)
    builder_prefix: list[str] = field(default_factory=list)   # lines right after the builder FROM
    builder_suffix: list[str] = field(default_factory=list)   # lines at the end of the builder
    pre_copy: list[str] = field(default_factory=list)        # runtime lines before the artifacts
    post_copy: list[str] = field(default_factory=list)       # runtime lines after the artifacts
    chown: str | None = None
    drop_entry: bool = False          # the runtime image's own CMD serves (nginx)
    drop_expose: bool = False
    notes: list[str] = field(default_factory=list)
    builder_edits: dict[int, str] = field(default_factory=dict)   # id(ins) -> replacement text in the builder
    runtime_body: list[str] | None = None   # a full runtime body (Python): replaces the generic layout


class Multistage(Pass):
    code = "DO301"
    name = "multistage"
    summary = "A single-stage build ships its toolchain: build in a builder stage, copy the artifacts"
    severity = "info"
    needs_context = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        stages = ctx.tree.stages
        if len(stages) != 1:
            return
        stage = stages[0]
        if any(ins.keyword == "FROM" for ins in stage.instructions):
            return
        files = ctx.files
        model = model_stage(ctx, stage)
        image = rt.parse_image(model.base)
        if image is None or image.repository == "scratch":
            return
        commands = run_commands(ctx, model)
        language, evidence = _detect(ctx, model, image, commands)
        if language is None:
            return
        what = f"single-stage {_LANG_NAMES[language]} build ({evidence})"
        try:
            last_line = (stage.instructions[-1] if stage.instructions else stage.from_).lines[-1]
            if last_line.kind not in ("INSTR", "CONT_LAST", "HEREDOC_END"):
                raise CannotTell("the file ends inside a continued instruction")
            if any(ins.keyword == "SHELL" for ins in stage.instructions):
                raise CannotTell("a SHELL instruction changes how the runtime's commands run")
            if stage.platform and "BUILDPLATFORM" in stage.platform:
                raise CannotTell("the stage already cross-builds with --platform=$BUILDPLATFORM")
            planner = _PLANNERS[language]
            plan = planner(ctx, model, image, commands, files)
            text = _render(ctx, model, plan)
        except CannotTell as exc:
            last = stage.instructions[-1] if stage.instructions else stage.from_
            yield Finding(self.code, display(f"{what} ships its toolchain; cannot split it: {exc}"),
                          stage.from_.start_line, stage.from_.column, last.end_line)
            return
        start = stage.from_.start
        last = stage.instructions[-1] if stage.instructions else stage.from_
        edit = Edit(start, last.end, text)
        copied = ", ".join(src for src, _dst, _g in plan.artifacts if src != LIBS_DIR + "/") or "the artifacts"
        note = ("; " + "; ".join(plan.notes)) if plan.notes else ""
        yield Finding(
            self.code,
            f"{what} ships its toolchain in the image: build in a '{_builder_name(stage)}' stage and copy "
            f"{copied} into {plan.runtime}{note}",
            stage.from_.start_line, stage.from_.column, last.end_line,
            unsafe_fix(f"Split into a builder stage and a {plan.runtime} runtime stage", edit),
        )


_LANG_NAMES = {"go": "Go", "rust": "Rust", "c": "C/C++", "java": "Java", "node": "Node",
               "python": "Python", "static": "static-site"}


def _builder_name(stage) -> str:
    return stage.name or BUILDER


# --------------------------------------------------------------------------- detection

_JAVA_GRADLE_TASKS = {"build", "assemble", "bootJar", "jar", "shadowJar", "installDist", "bootDistTar",
                      "distTar", "distZip"}
_NODE_RUNNERS = {"npm", "yarn", "pnpm"}


def _installed(commands: list[RunCommand]) -> list[tuple[RunCommand, object]]:
    out = []
    for rc in commands:
        tool = rt_tool(rc)
        if tool is not None and tool.manager in ("apt-get", "apt", "aptitude", "apk") and tool.subcommand in ("install", "add"):
            out.append((rc, tool))
    return out


def rt_tool(rc: RunCommand):
    from ..shell import parse_tool

    return parse_tool(rc.command)


def _build_packages_installed(commands: list[RunCommand]) -> list[str]:
    out = []
    for rc, tool in _installed(commands):
        removed = _removed_packages(rc.ins, commands)
        for p in tool.packages:
            if is_build_package(p.name) and p.name not in removed:
                out.append(p.name)
    return out


def _removed_packages(ins: Instruction, commands: list[RunCommand]) -> set[str]:
    """Packages purged again in the same RUN (apt-get purge, apk del of a --virtual group)."""
    out: set[str] = set()
    virtuals: dict[str, set[str]] = {}
    installed: set[str] = set()
    auto_marked = False
    for rc in commands:
        if rc.ins is not ins:
            continue
        if rc.command.program == "apt-mark" and rc.command.args and rc.command.args[0].text == "auto":
            auto_marked = True
        tool = rt_tool(rc)
        if tool is None:
            continue
        if tool.subcommand in ("install", "add"):
            installed |= {p.name for p in tool.packages}
        # docker-library's pattern: apt-mark auto '.*' ...; apt-get purge --auto-remove
        if auto_marked and tool.manager in ("apt-get", "apt") and (
                tool.subcommand == "autoremove" or (tool.subcommand in ("purge", "remove")
                                                    and tool.has_flag("--auto-remove", "--autoremove"))):
            out |= installed
        if tool.manager == "apk" and tool.subcommand == "add":
            v = tool.flag("-t", "--virtual")
            if v is not None and v.value:
                virtuals[v.value] = {p.name for p in tool.packages}
        if tool.subcommand in ("purge", "remove", "autoremove", "del"):
            for p in tool.packages:
                out.add(p.name)
                out |= virtuals.get(p.name, set())
    return out


def _unknown_dev(name: str, manager: str | None = None) -> bool:
    """A -dev package whose runtime library is not known (it stays, headers and all)."""
    return not runtime_lib(manager, name)[0] and name not in BUILD_PACKAGES and name.endswith(("-dev", "-devel"))


def is_build_package(name: str) -> bool:
    return name in BUILD_PACKAGES or bool(_BUILD_PACKAGE_RE.match(name))


def _cmd_words(rc: RunCommand) -> list[str | None]:
    return [w.text for w in rc.command.args]


def _detect(ctx, model: StageModel, image, commands: list[RunCommand]) -> tuple[str | None, str]:
    toolchain = rt.toolchain_of(image)
    build_pkgs = _build_packages_installed(commands)
    found: dict[str, str] = {}
    for rc in commands:
        prog = rc.command.program
        args = _cmd_words(rc)
        first = args[0] if args else None
        if prog == "go" and first in ("build", "install"):
            found.setdefault("go", f"go {first}")
        elif prog == "cargo" and first in ("build", "install", "b"):
            found.setdefault("rust", f"cargo {first}")
        elif (prog == "javac" and any((a or "").endswith(".java") or (a or "").startswith("@") for a in args)) or (
                prog == "jar" and _jar_creates(args)) or (prog in ("mvn", "mvnw") and any(
                a in ("package", "install", "verify") or (a or "").endswith(":repackage") for a in args)) or (
                prog in ("gradle", "gradlew") and any(a in _JAVA_GRADLE_TASKS for a in args)):
            found.setdefault("java", prog)
        elif prog in _NODE_RUNNERS and _node_build_script(args, prog):
            found.setdefault("node", f"{prog} {' '.join(a or '$' for a in args[:2])}")
        elif prog in ("make", "cmake", "ninja") or prog in _CC:
            found.setdefault("native", prog)
    if toolchain == "go" and ("go" in found or "native" in found):
        return "go", found.get("go") or found["native"]
    if toolchain == "rust" and ("rust" in found or "native" in found):
        return "rust", found.get("rust") or found["native"]
    if toolchain == "java" and "java" in found:
        return "java", found["java"]
    for lang in ("go", "rust", "java"):
        if lang in found:
            return lang, found[lang]
    if "node" in found:
        return "node", found["node"]
    if "native" in found and (toolchain == "c" or any(p in ("gcc", "g++", "clang", "build-essential", "build-base",
                                                             "make", "cmake") or p.startswith(("gcc-", "g++-"))
                                                      for p in build_pkgs)):
        return "c", found["native"]
    pip = [rc for rc in commands if _pip_install(rc) is not None and _pip_builds(_pip_install(rc))]
    compilers = [p for p in build_pkgs if p in _COMPILER_PACKAGES or p.endswith(("-dev", "-devel"))]
    if pip and compilers:
        return "python", f"{', '.join(compilers[:3])} for pip install"
    if image.name in WEB_ROOTS and _installed(commands):
        root = WEB_ROOTS[image.name]
        if any(any(a and a.startswith(root) for a in _cmd_words(rc)) for rc in commands if not _is_pkg_cmd(rc)):
            pkgs = [p.name for _rc, t in _installed(commands) for p in t.packages]
            return "static", f"{', '.join(pkgs[:3])} installed to generate {root}"
    return None, ""


def _jar_creates(args: list[str | None]) -> bool:
    if any(a in ("--create", "-c", "--update", "-u") for a in args):
        return True
    first = args[0] if args else None
    return bool(first) and not first.startswith("-") and first[0] in "cu" and "f" in first and first.isalpha()


def _is_pkg_cmd(rc: RunCommand) -> bool:
    tool = rt_tool(rc)
    return tool is not None and tool.manager in ("apt-get", "apt", "apk", "aptitude")


def _node_build_script(args: list[str | None], prog: str) -> str | None:
    """The package.json script a npm/yarn/pnpm command runs, when it looks like a build."""
    if not args:
        return None
    if args[0] in ("run", "run-script"):
        name = args[1] if len(args) > 1 else None
    elif prog in ("yarn", "pnpm") and args[0] not in ("install", "add", "global", "cache", "remove", "config",
                                                     "upgrade", "dlx", "exec", "start", "test"):
        name = args[0]
    else:
        return None
    if name and (name == "build" or name.startswith(("build:", "build-", "compile", "bundle", "dist", "export",
                                                    "generate"))):
        return name
    return None


_COMPILER_PACKAGES = {"gcc", "g++", "clang", "build-essential", "build-base", "musl-dev", "libc6-dev", "libc-dev",
                      "python3-dev", "python-dev", "gfortran", "cython3"}
_PACKAGING_TOOLS = {"pip", "setuptools", "wheel", "virtualenv", "pipenv", "poetry", "uv", "pipx", "pip-tools"}


def _pip_builds(tool) -> bool:
    """The pip install installs something besides packaging tools."""
    if tool.files:
        return True
    names = {p.name.lower() for p in tool.packages}
    return bool(names - _PACKAGING_TOOLS) or any(w.text is None for w in tool.operands)


def _pip_install(rc: RunCommand):
    tool = rt_tool(rc)
    if tool is not None and tool.manager == "pip" and tool.subcommand == "install":
        return tool
    return None


# --------------------------------------------------------------------------- common planning

@dataclass
class Traced:
    outputs: list[Output]
    producers: list[RunCommand]


def _trace(model: StageModel, commands: list[RunCommand], produce) -> Traced:
    """Follow the build's outputs through cp/mv/install/rm to where they end up."""
    outputs: list[Output] = []
    producers: list[RunCommand] = []
    lineage = 0
    order = 0
    for rc in commands:
        made = produce(rc)
        if made:
            producers.append(rc)
            for path, what in made:
                lineage += 1
                order += 1
                outputs = [o for o in outputs if o.path != path]
                outputs.append(Output(path, "", rc.ins, what, lineage, order, glob=any(ch in path for ch in "*?[")))
            continue
        for kind, src, dst in moves(rc):
            for o in list(outputs):
                if o.path == src or is_under(src, o.path):
                    order += 1
                    what = o.what if o.path == src else ("dir" if src.endswith("/") else "file")
                    outputs = [x for x in outputs if x.path != dst]
                    outputs.append(Output(dst, o.language, rc.ins, what, o.lineage, order))
                    if kind == "mv" and o.path == src:
                        outputs.remove(o)
                    break
        for gone in removed_paths(rc):
            outputs = [o for o in outputs if not is_under(o.path, gone)]
    return Traced(outputs, producers)


def _entry_refs(model: StageModel) -> tuple[list[str], list[list[str]]]:
    """Absolute paths the entry (and HEALTHCHECK) may mean, and its commands."""
    cmds = model.entry.commands()
    if model.healthcheck is not None and model.healthcheck.values and model.healthcheck.values[0].upper() == "CMD":
        text = model.healthcheck.args
        m = re.match(r"(?is)^(?:--\S+\s+)*CMD\s+(.*)$", text)
        if m:
            body = m.group(1).strip()
            if body.startswith("["):
                try:
                    cmds.append(list(json.loads(body)))
                except ValueError:
                    pass
            else:
                from ._artifacts import _shell_commands

                cmds += _shell_commands(body)
    refs: list[str] = []
    wd = model.workdir or "/"
    for argv in cmds:
        for i, word in enumerate(argv):
            if word in (None, "$") or (word.startswith("-") and i):
                continue
            if i == 0 and "/" not in word:
                refs += [f"{d}/{word}" for d in model.path_dirs]
            elif "/" in word or i > 0:
                p = join(wd, word.split("=", 1)[-1])
                if p:
                    refs.append(p)
    return refs, cmds


def _select(traced: Traced, refs: list[str], whole_dirs: bool) -> list[tuple[str, bool]]:
    """Which output locations to copy: per lineage, the one the entry uses, else the last one.

    For a directory output the entry points into (`java -jar target/app.jar`), only the paths
    it names are copied unless `whole_dirs`."""
    by_lineage: dict[int, list[Output]] = {}
    for o in traced.outputs:
        by_lineage.setdefault(o.lineage, []).append(o)
    chosen: list[tuple[str, bool]] = []
    referenced_names = set()
    unreferenced: list[Output] = []
    for locs in by_lineage.values():
        hit = []
        for o in locs:
            exact = [r for r in refs if r == o.path]
            inside = [r for r in refs if is_under(r, o.path) and r != o.path]
            if o.glob:
                import fnmatch

                exact += [r for r in refs if fnmatch.fnmatch(r, o.path)]
            if exact:
                hit.append((o.path, o.glob))
            elif inside:
                if whole_dirs:
                    hit.append((o.path, False))
                else:
                    hit += [(r, any(ch in r for ch in "*?[")) for r in inside]
        if hit:
            chosen += hit
            referenced_names |= {posixpath.basename(p) for p, _g in hit}
        else:
            unreferenced.append(max(locs, key=lambda o: o.order))
    for o in unreferenced:
        if posixpath.basename(o.path) in referenced_names:
            continue   # the same program, built once and installed elsewhere
        chosen.append((o.path, o.glob))
    out = []
    for p, g in chosen:
        if (p, g) not in out and not any(is_under(p, q) and p != q for q, _ in chosen):
            out.append((p, g))
    return out


def _package_programs(packages: list[str]) -> set[str]:
    out: set[str] = set()
    for p in packages:
        name = re.split(r"[=<>~]", p, 1)[0]
        out |= PACKAGE_PROGRAMS.get(name, {name})
    return out


def _check_entry(model: StageModel, cmds: list[list[str]], artifacts: list[str], runtime: str,
                 extra_programs: set[str] = frozenset()) -> None:
    """Every program the entry runs must be an artifact or part of the runtime image."""
    if not cmds:
        return
    wd = model.workdir or "/"
    for argv in cmds:
        if not argv or argv[0] in ("$", None):
            if argv and argv[0] == "$":
                raise CannotTell("the command the image runs is only known at run time")
            continue
        prog = argv[0]
        name = posixpath.basename(prog)
        if name in SHELL_BUILTINS or name in extra_programs:
            continue
        if "/" in prog:
            path = join(wd, prog)
            if any(path == a or is_under(path, a) for a in artifacts):
                continue
        else:
            if any(posixpath.basename(a) == prog and posixpath.dirname(a) in model.path_dirs for a in artifacts):
                continue
        if rt.provides(runtime, prog):
            continue
        if name in extra_programs:
            continue
        raise CannotTell(f"the image runs `{prog}`, which is neither a build output nor part of {runtime}")


def _setup_runs(ctx, model: StageModel, commands: list[RunCommand], outputs: list[str]) -> list[Instruction]:
    """RUNs that only set up users and directories (replayed in the runtime)."""
    out = []
    for ins in model.stage.instructions:
        if ins.keyword != "RUN":
            continue
        cmds = [rc for rc in commands if rc.ins is ins]
        if not cmds:
            continue
        if all(rc.command.program in SETUP_COMMANDS for rc in cmds):
            words = [w.text or "" for rc in cmds for w in rc.command.args]
            if any(any(w.startswith(o) for o in outputs) for w in words):
                continue
            if any(ins.flags):
                continue
            out.append(ins)
    return out


def _runtime_packages(model: StageModel, commands: list[RunCommand], build_cmds: set[int],
                      entry_programs: set[str]) -> tuple[str | None, list[str], list[str]]:
    """(manager, packages the app needs at run time, build-only packages dropped)."""
    manager = None
    keep: list[str] = []
    dropped: list[str] = []
    used_by_build = set()
    for rc in commands:
        # programs the build runs: the packages that provide only them are build tools
        if (id(rc.ins) in build_cmds or not _is_pkg_cmd(rc)) and rc.command.program:
            used_by_build.add(rc.command.program)
    for rc, tool in _installed(commands):
        removed = _removed_packages(rc.ins, commands)
        manager = "apk" if tool.manager == "apk" else "apt-get"
        for p in tool.packages:
            name = p.name
            if name in removed:
                continue
            program = {"python3": "python3", "nodejs": "node"}.get(name, name)
            build_only = is_build_package(name) or (program in used_by_build and program not in entry_programs)
            if build_only:
                dropped.append(name)
                lib = runtime_lib(manager, name)[1]
                if lib and lib not in keep:
                    keep.append(lib)
                elif _unknown_dev(name, manager) and name not in keep:
                    # a -dev package whose library dpkg does not tell us: keep it (headers and all)
                    keep.append(name)
                    dropped.remove(name)
            elif p.word.raw not in keep:
                keep.append(p.word.raw)
    return manager, keep, dropped


def _pkg_install_line(manager: str, packages: list[str]) -> str:
    if manager == "apk":
        return f"RUN apk add --no-cache {' '.join(packages)}"
    return ("RUN apt-get update && apt-get install -y --no-install-recommends "
            f"{' '.join(packages)} && rm -rf /var/lib/apt/lists/*")


def _copy_line(src: str | list[str], dest: str, chown: str | None, builder: str) -> str:
    """COPY --from=<builder> of one path, or of several (`src` a list or space-separated)."""
    flags = f"--from={builder}" + (f" --chown={chown}" if chown else "")
    srcs = src if isinstance(src, list) else [src]
    if any(c.isspace() for c in "".join(srcs) + dest) or '"' in "".join(srcs) + dest:
        return f"COPY {flags} {json.dumps(srcs + [dest])}"
    return f"COPY {flags} {' '.join(srcs)} {dest}"


def _build_user(model: StageModel, ins: Instruction) -> str | None:
    user = model.users.get(id(ins))
    if user in (None, "root", "0", "0:0", "root:root"):
        return None
    return user


def _lib_collector(binaries: list[str]) -> str:
    bins = " ".join(shlex.quote(b) for b in binaries)
    return (f"RUN mkdir -p {LIBS_DIR} && for bin in {bins}; do ldd \"$bin\" 2>/dev/null || true; done "
            "| awk '$3 ~ /^\\// {print $3}' | sort -u "
            "| grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|libutil|libgcc_s|libstdc\\+\\+|libz)\\.so|/ld-linux' "
            f"| xargs -r cp --parents -L -t {LIBS_DIR}")


def _choose(ctx, language: str, default: str) -> tuple[str, bool]:
    """The runtime image: the user's for the language, else `default`; and whether it is the user's."""
    settings = ctx.settings
    configured = settings.runtime_image(language) if settings is not None and hasattr(settings, "runtime_image") else None
    return (configured, True) if configured else (default, False)


def _native_runtime(ctx, language: str, image, *, static: bool, needs_shell: bool, pkgs: list[str],
                    manager: str | None) -> tuple[str, bool]:
    release = rt.release_of(image)
    slim = rt.debian_slim(release) or rt.debian_slim(rt.Release("debian", rt.DEFAULT_DEBIAN))
    if static and not needs_shell and not pkgs:
        default = rt.distroless_static(release) if release.family != "alpine" else slim
    else:
        default = slim
    if manager == "apk" and release.family != "alpine":
        raise CannotTell("packages installed with apk on a non-Alpine image")
    runtime, configured = _choose(ctx, language, default)
    facts = rt.image_facts(runtime)
    if (needs_shell or pkgs) and facts.shell is False:
        raise CannotTell(f"the runtime {runtime} has no shell, which "
                         + ("the entry point needs" if needs_shell else "installing " + " ".join(pkgs) + " needs"))
    return runtime, configured


def _carry_setup(plan: Plan, setup: list[Instruction], runtime: str) -> None:
    if not setup:
        return
    if rt.image_facts(runtime).shell is False:
        raise CannotTell(f"the stage creates users or directories with RUN, which {runtime} cannot run")
    for ins in setup:
        plan.pre_copy.append(ins.source.rstrip("\r\n"))


def _user_needs(model: StageModel, setup: list[Instruction], runtime: str) -> None:
    """The final USER must exist in the runtime image."""
    user = model.user
    if user is None:
        return
    name = user.split(":", 1)[0]
    if name.isdigit() or name in ("root", ""):
        return
    created = any(re.search(rf"\b(useradd|adduser)\b[^&;|]*\b{re.escape(name)}\b", ins.args) for ins in setup)
    if created:
        return
    image = rt.parse_image(runtime)
    known = {"root", "nobody", "daemon", "bin", "sys"}
    if image is not None and image.name == "node":
        known.add("node")
    if image is not None and image.path.startswith("gcr.io/distroless/"):
        known = {"root", "nobody", "nonroot"}
    if image is not None and image.repository == "scratch":
        known = set()
    if image is not None and image.name in WEB_ROOTS:
        known |= {"nginx", "www-data"}
    if name not in known:
        raise CannotTell(f"USER {user} is not created by this Dockerfile and may not exist in {runtime}")


# --------------------------------------------------------------------------- Go

def _plan_go(ctx, model: StageModel, image, commands, files) -> Plan:
    notes_cgo: dict = {}

    def produce(rc: RunCommand):
        c = rc.command
        if c.program == "go":
            sub = c.args[0].text if c.args else None
            if sub == "install":
                raise CannotTell("`go install` puts the binary in GOBIN: use `go build -o`")
            if sub == "build":
                paths, notes = go_build_outputs(rc, model, files)
                notes_cgo.update(notes)
                for a in c.assignments:
                    if a.name == "CGO_ENABLED":
                        notes_cgo["assigned"] = a.value_text
                return [(p, "dir" if notes.get("dir") else "binary") for p in paths]
        if c.program == "make":
            return [(p, "binary") for p in make_outputs(rc, model, files)]
        return []

    traced = _trace(model, commands, produce)
    if not traced.outputs:
        raise CannotTell("no binary comes out of the build (go build of several packages without -o only checks them)")
    refs, cmds = _entry_refs(model)
    if not model.entry.present:
        raise CannotTell("no CMD or ENTRYPOINT: cannot tell what the image runs")
    chosen = _select(traced, refs, whole_dirs=False)
    paths = [p for p, _g in chosen]
    build_ids = {id(rc.ins) for rc in traced.producers}
    entry_programs = {posixpath.basename(a[0]) for a in cmds if a}
    manager, pkgs, dropped = _runtime_packages(model, commands, build_ids, entry_programs)
    setup = _setup_runs(ctx, model, commands, paths)

    # cgo
    env_cgo = model.env.get("CGO_ENABLED")
    assigned = notes_cgo.get("assigned", env_cgo)
    ctx_dir = None
    for rc in traced.producers:
        if rc.cwd:
            ctx_dir = model.context_path(rc.cwd)
            break
    facts = go_source_facts(files, ctx_dir)
    plan_notes = []
    if assigned == "0":
        static = True
    elif assigned == "1" or notes_cgo.get("cgo_flag"):
        static = False
        plan_notes.append(f"cgo stays on ({notes_cgo.get('cgo_flag') or 'CGO_ENABLED=1'})")
    elif facts.cgo_needed is None:
        static = False
        plan_notes.append(f"cgo left on: {facts.cgo_reason}")
    elif facts.cgo_needed:
        static = False
        plan_notes.append(f"cgo stays on: {facts.cgo_reason}")
    else:
        static = True
    if facts.reads_files:
        raise CannotTell("the program reads files by relative path at run time (" + "; ".join(facts.reads_files[:3])
                         + "): copy them into the runtime stage by hand")
    needs_shell = model.entry.needs_shell or bool(setup)   # RUN useradd etc. need a shell
    runtime, configured = _native_runtime(ctx, "go", image, static=static, needs_shell=needs_shell, pkgs=pkgs,
                                          manager=manager)
    plan = Plan("go", runtime, notes=plan_notes)
    if static and assigned is None:
        plan.builder_prefix.append("ENV CGO_ENABLED=0")
    runtime_img = rt.parse_image(runtime)
    _check_entry(model, cmds, paths, runtime, _package_programs(pkgs))
    _user_needs(model, setup, runtime)
    certs = facts.needs_certs if facts.needs_certs is not None else True
    tz = facts.needs_tzdata if facts.needs_tzdata is not None else True
    chown = _build_user(model, traced.producers[-1].ins)
    family = rt.release_of(runtime_img).family if runtime_img is not None else "unknown"
    if family == "scratch":
        if certs:
            plan.artifacts.append((CERTS, CERTS, False))
        if tz:
            plan.artifacts.append((ZONEINFO, ZONEINFO, False))
    elif family in ("debian", "ubuntu") and not configured:
        # the slim images have neither the CA bundle nor zoneinfo
        for need, pkg in ((certs, "ca-certificates"), (tz, "tzdata")):
            if need and pkg not in pkgs:
                pkgs.append(pkg)
        manager = manager or "apt-get"
    _finish_native(ctx, model, plan, chosen, pkgs, manager, setup, chown, static)
    if dropped:
        plan.notes.append("leaves out " + ", ".join(dropped))
    return plan


def _finish_native(ctx, model, plan: Plan, chosen, pkgs, manager, setup, chown, static: bool) -> None:
    _carry_setup(plan, setup, plan.runtime)
    if pkgs:
        plan.pre_copy.insert(0, _pkg_install_line(manager or "apt-get", pkgs))
    for p, g in chosen:
        plan.artifacts.append((p, p if not g else posixpath.dirname(p) + "/", g))
    plan.chown = chown
    if not static:
        binaries = [p for p, g in chosen if not g]
        if binaries and rt.image_facts(plan.runtime).shell is not False:
            plan.builder_suffix.append(_lib_collector(binaries))
            plan.artifacts.append((LIBS_DIR + "/", "/", False))


# --------------------------------------------------------------------------- Rust

def _plan_rust(ctx, model, image, commands, files) -> Plan:
    def produce(rc: RunCommand):
        c = rc.command
        if c.program == "cargo" and c.args and c.args[0].text in ("build", "b", "install"):
            what = "binary"
            outs = cargo_outputs(rc, model, files)
            return [(p, what if not p.endswith(("/release", "/debug", "/bin")) else "dir") for p in outs]
        if c.program == "make":
            return [(p, "binary") for p in make_outputs(rc, model, files)]
        return []

    traced = _trace(model, commands, produce)
    return _plan_compiled(ctx, model, image, commands, files, traced, "rust")


def _plan_compiled(ctx, model, image, commands, files, traced: Traced, language: str) -> Plan:
    if not traced.outputs:
        raise CannotTell("cannot tell which files the build produces")
    if not model.entry.present:
        raise CannotTell("no CMD or ENTRYPOINT: cannot tell what the image runs")
    refs, cmds = _entry_refs(model)
    chosen = _select(traced, refs, whole_dirs=False)
    for p, _g in chosen:
        if p.endswith(("/target/release", "/target/debug")) or any(
                o.path == p and o.what == "dir" for o in traced.outputs):
            raise CannotTell(f"cannot tell which binaries of {p} the image needs (no names in Cargo.toml, "
                             "no copy of them, no CMD naming them)")
    paths = [p for p, _g in chosen]
    build_ids = {id(rc.ins) for rc in traced.producers}
    entry_programs = {posixpath.basename(a[0]) for a in cmds if a}
    manager, pkgs, dropped = _runtime_packages(model, commands, build_ids, entry_programs)
    setup = _setup_runs(ctx, model, commands, paths)
    needs_shell = model.entry.needs_shell or bool(setup)   # RUN useradd etc. need a shell
    runtime, configured = _native_runtime(ctx, language, image, static=False, needs_shell=needs_shell,
                                          pkgs=pkgs, manager=manager)
    plan = Plan(language, runtime)
    _check_entry(model, cmds, paths, runtime, _package_programs(pkgs))
    _user_needs(model, setup, runtime)
    if language == "rust":
        ctx_dir = None
        for rc in traced.producers:
            if rc.cwd:
                ctx_dir = model.context_path(rc.cwd)
        manifest = files.sent_text(posixpath.join(ctx_dir, "Cargo.toml")) if ctx_dir else None
        lock = files.sent_text(posixpath.join(ctx_dir, "Cargo.lock")) if ctx_dir else None
        tls = manifest is None or any(re.search(rf'(?m)^\s*{re.escape(c)}\s*=|name = "{re.escape(c)}"', (manifest or "") + (lock or ""))
                                      for c in TLS_CRATES)
        family = rt.release_of(rt.parse_image(runtime)).family if rt.parse_image(runtime) else "unknown"
        if tls and not configured and family in ("debian", "ubuntu") and "ca-certificates" not in pkgs:
            pkgs.append("ca-certificates")
            manager = manager or "apt-get"
    chown = _build_user(model, traced.producers[-1].ins)
    _finish_native(ctx, model, plan, chosen, pkgs, manager, setup, chown, static=False)
    if dropped:
        plan.notes.append("leaves out " + ", ".join(dropped))
    return plan


# --------------------------------------------------------------------------- C / C++

def _plan_c(ctx, model, image, commands, files) -> Plan:
    def produce(rc: RunCommand):
        c = rc.command
        if c.program == "make":
            return [(p, "binary") for p in make_outputs(rc, model, files)]
        if c.program in _CC:
            return [(p, "binary") for p in cc_outputs(rc)]
        if c.program in ("cmake", "ninja"):
            args = [w.text for w in c.args]
            if c.program == "ninja" or "--build" in args or "--install" in args:
                raise CannotTell(f"cannot tell what `{c.program}` builds or installs without configuring the project")
        return []

    traced = _trace(model, commands, produce)
    return _plan_compiled(ctx, model, image, commands, files, traced, "c")


# --------------------------------------------------------------------------- Java

def _plan_java(ctx, model, image, commands, files) -> Plan:
    def produce(rc: RunCommand):
        c = rc.command
        prog = c.program
        args = [w.text for w in c.args]
        if prog == "jar":
            return [(p, "jar") for p in jar_outputs(rc)]
        if prog in ("mvn", "mvnw") and any(a in ("package", "install", "verify") or (a or "").endswith(":repackage")
                                            for a in args):
            d = maven_output_dir(rc, model)
            return [(d, "jars")] if d else []
        if prog in ("gradle", "gradlew") and any(a in _JAVA_GRADLE_TASKS for a in args):
            if rc.cwd is None:
                raise CannotTell("the directory gradle runs in is only known at build time")
            if "installDist" in args:
                return [(join(rc.cwd, "build/install"), "dir")]
            return [(join(rc.cwd, "build/libs"), "jars")]
        return []

    traced = _trace(model, commands, produce)
    if not traced.outputs:
        raise CannotTell("cannot tell which jar the build produces")
    if not model.entry.present:
        raise CannotTell("no CMD or ENTRYPOINT: cannot tell what the image runs")
    refs, cmds = _entry_refs(model)
    chosen = _select(traced, refs, whole_dirs=False)
    for p, _g in chosen:
        if any(o.path == p and o.what == "jars" for o in traced.outputs):
            raise CannotTell(f"the CMD names no jar of {p}: cannot tell which one the image runs")
    paths = [p for p, _g in chosen]
    jre = rt.jre_of(image)
    if jre is None:
        raise CannotTell(f"no JRE image is known for {model.base}")
    build_ids = {id(rc.ins) for rc in traced.producers}
    entry_programs = {posixpath.basename(a[0]) for a in cmds if a}
    manager, pkgs, dropped = _runtime_packages(model, commands, build_ids, entry_programs)
    if manager == "apk" and "alpine" not in jre:
        raise CannotTell("packages installed with apk")
    runtime, _configured = _choose(ctx, "java", jre)
    setup = _setup_runs(ctx, model, commands, paths)
    plan = Plan("java", runtime)
    _check_entry(model, cmds, paths, runtime, _package_programs(pkgs))
    _user_needs(model, setup, runtime)
    _carry_setup(plan, setup, runtime)
    if pkgs:
        if rt.image_facts(runtime).shell is False:
            raise CannotTell(f"the runtime {runtime} cannot install " + " ".join(pkgs))
        plan.pre_copy.insert(0, _pkg_install_line(manager or "apt-get", pkgs))
    plan.chown = _build_user(model, traced.producers[-1].ins)
    for p, g in chosen:
        plan.artifacts.append((p, p if not g else posixpath.dirname(p) + "/", g))
    if dropped:
        plan.notes.append("leaves out " + ", ".join(dropped))
    return plan


# --------------------------------------------------------------------------- Node

_LOCKS = (("package-lock.json", "npm"), ("npm-shrinkwrap.json", "npm"), ("yarn.lock", "yarn"),
          ("pnpm-lock.yaml", "pnpm"))


def _plan_node(ctx, model, image, commands, files) -> Plan:
    builds = []
    for rc in commands:
        prog = rc.command.program
        if prog in _NODE_RUNNERS:
            name = _node_build_script(_cmd_words(rc), prog)
            if name:
                builds.append((rc, name))
    rc, script_name = builds[-1]
    pkg_dir = rc.cwd
    if pkg_dir is None:
        raise CannotTell("the directory the build runs in is only known at build time")
    ctx_dir = model.context_path(pkg_dir)
    pkg = read_package_json(files, ctx_dir)
    outputs: list[str] = []
    problems: list[str] = []
    if pkg is not None:
        scripts = pkg.get("scripts") or {}
        if script_name not in scripts:
            raise CannotTell(f"package.json has no '{script_name}' script")
        text = " && ".join(s for s in (scripts.get("pre" + script_name), scripts[script_name],
                                       scripts.get("post" + script_name)) if s)
        outputs, problems = node_build_outputs(text, scripts, files, ctx_dir)
    if problems:
        raise CannotTell("; ".join(problems))
    _refs, cmds = _entry_refs(model)
    entry_cmds = _node_entry_commands(cmds, pkg)
    if not outputs:
        # the build's output is not readable from the script: the entry's script names the directory
        for argv in entry_cmds:
            if argv and posixpath.basename(argv[0]) == "node" and len(argv) > 1:
                script = next((a for a in argv[1:] if not a.startswith("-")), None)
                p = join(model.workdir or "/", script) if script else None
                if p and is_under(p, pkg_dir) and p != pkg_dir:
                    top = posixpath.relpath(p, pkg_dir).split("/", 1)[0]
                    if top in ("dist", "build", "out", "lib", ".output", "public"):
                        outputs = [top]
        if not outputs and pkg is None:
            raise CannotTell("cannot read package.json from the build context to see what the build writes")
    if not outputs:
        raise CannotTell(f"cannot tell which directory `{script_name}` writes")
    out_paths = [join(pkg_dir, o) for o in outputs]
    # what serves the app
    static_server = None
    node_script = None
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
    configured = ctx.settings.runtime_image("node") if ctx.settings is not None else None
    cfg_image = rt.parse_image(configured) if configured else None
    if cfg_image is not None and cfg_image.name in WEB_ROOTS:
        if node_script is not None or (static_server is None and model.entry.present):
            raise CannotTell(f"the runtime {configured} serves static files, but the image runs a Node program")
        if len(out_paths) != 1:
            raise CannotTell("the build writes several directories: cannot tell which one to serve")
        plan = Plan("node", configured, drop_entry=True, drop_expose=True)
        plan.artifacts.append((out_paths[0] + "/", WEB_ROOTS[cfg_image.name] + "/", False))
        plan.notes.append(f"serves {out_paths[0]} with {cfg_image.name}")
        return plan
    if node_script is not None and not any(is_under(node_script, o) for o in out_paths):
        raise CannotTell(f"the app starts from {node_script}, which is not in the build output "
                         f"({', '.join(out_paths)}): cannot tell which sources it needs at run time")
    if not model.entry.present:
        raise CannotTell("no CMD or ENTRYPOINT: cannot tell what the image runs")
    runtime_default = rt.slim_of(image)
    if runtime_default is None:
        raise CannotTell(f"no slim Node image is known for {model.base}")
    runtime, _cfg = _choose(ctx, "node", runtime_default)
    plan = Plan("node", runtime)
    if static_server:
        plan.notes.append("it only serves static files: `--runtime-base nginx:stable` puts them in nginx")
    deps = (pkg or {}).get("dependencies") if pkg is not None else None
    needs_deps = pkg is None or bool(deps)
    if static_server and pkg is not None and static_server not in (deps or {}):
        raise CannotTell(f"the image serves files with `{static_server}`, which is not a production dependency")
    chown = _build_user(model, rc.ins)
    plan.chown = chown
    wd = pkg_dir
    manifests = [posixpath.join(pkg_dir, "package.json")]
    install = None
    if needs_deps:
        lock_tool = None
        for lock, tool in _LOCKS:
            if (ctx_dir is not None and files.sent(posixpath.join(ctx_dir, lock))) or (
                    pkg is None and any(lock in " ".join(c.sources) for c in model.copies)):
                manifests.append(posixpath.join(pkg_dir, lock))
                lock_tool = lock_tool or tool
        if lock_tool == "pnpm":
            raise CannotTell("pnpm is not in the slim Node image to install the production dependencies")
        if lock_tool == "yarn":
            install = "RUN yarn install --production --frozen-lockfile && yarn cache clean"
        elif lock_tool == "npm":
            install = "RUN npm ci --omit=dev && npm cache clean --force"
        else:
            install = "RUN npm install --omit=dev && npm cache clean --force"
    if model.workdir != wd:
        raise CannotTell(f"the build runs in {wd}, not in the WORKDIR {model.workdir}")
    if len(manifests) > 1:
        plan.artifacts.append((" ".join(manifests), pkg_dir.rstrip("/") + "/", False))
    else:
        plan.artifacts.append((manifests[0], manifests[0], False))
    for o in out_paths:
        plan.artifacts.append((o, o, False))
    if install:
        plan.post_copy.insert(0, install)
        # the production install goes before the build output, so that it is cached apart
        plan.notes.append("installs the production dependencies only")
    build_ids = {id(r.ins) for r, _n in builds}
    manager, pkgs, dropped = _runtime_packages(model, commands, build_ids, {"node"})
    _check_entry(model, entry_cmds, out_paths, runtime, _package_programs(pkgs))
    if dropped:
        plan.notes.append("leaves out " + ", ".join(dropped))
    if pkgs:
        plan.pre_copy.insert(0, _pkg_install_line(manager or "apt-get", pkgs))
    setup = _setup_runs(ctx, model, commands, out_paths)
    _user_needs(model, setup, runtime)
    _carry_setup(plan, setup, runtime)
    return plan


def _node_entry_commands(cmds: list[list[str]], pkg: dict | None) -> list[list[str]]:
    out = []
    for argv in cmds:
        if argv and posixpath.basename(argv[0]) in ("npm", "yarn", "pnpm") and len(argv) > 1 and (
                argv[1] == "start" or (argv[1] == "run" and len(argv) > 2)):
            name = "start" if argv[1] == "start" else argv[2]
            scripts = (pkg or {}).get("scripts") or {}
            if name not in scripts:
                raise CannotTell(f"the image runs `{' '.join(argv)}`, but package.json has no '{name}' script to read")
            from ._artifacts import _shell_commands

            out += _shell_commands(scripts[name])
        else:
            out.append(argv)
    return out


# --------------------------------------------------------------------------- static sites

def _plan_static(ctx, model, image, commands, files) -> Plan:
    root = WEB_ROOTS[image.name]
    build_ids = {id(rc.ins) for rc in commands
                 if not _is_pkg_cmd(rc) and any(a and a.startswith(root) for a in _cmd_words(rc))}
    runtime = model.base
    plan = Plan("static", runtime)
    _refs, cmds = _entry_refs(model)
    entry_programs = {posixpath.basename(a[0]) for a in cmds if a} | {"nginx", "httpd"}
    manager, pkgs, dropped = _runtime_packages(model, commands, build_ids, entry_programs)
    if not dropped:
        raise CannotTell("every package it installs may be needed at run time")
    if pkgs:
        plan.pre_copy.append(_pkg_install_line(manager or "apt-get", pkgs))
    # configuration copied from the context into the server's config stays
    for copy in model.copies:
        if copy.dest and (copy.dest.startswith("/etc/") or copy.dest.startswith("/docker-entrypoint")):
            plan.pre_copy.append(copy.ins.source.rstrip("\r\n"))
    setup = _setup_runs(ctx, model, commands, [root])
    _carry_setup(plan, setup, runtime)
    plan.artifacts.append((root + "/", root + "/", False))
    plan.notes.append("leaves out " + ", ".join(dropped))
    return plan


# --------------------------------------------------------------------------- Python

_PIP_INSTALL_ONLY_BOOL = {"-U", "--upgrade", "--force-reinstall", "-I", "--ignore-installed", "--user",
                          "--no-warn-script-location", "--break-system-packages", "--compile", "--no-compile",
                          "--no-warn-conflicts", "--no-cache-dir", "-q", "--quiet", "-v", "--verbose",
                          "--disable-pip-version-check", "--no-input"}
_PIP_KEEP_IN_RUNTIME = {"--user", "--no-deps", "--no-warn-script-location", "--break-system-packages", "--compile",
                        "--no-compile", "-q", "--quiet", "--no-warn-conflicts", "--root-user-action"}
_PIP_BAD = {"-e", "--editable", "-t", "--target", "--prefix", "--root", "--src", "--require-hashes"}


def _plan_python(ctx, model, image, commands, files) -> Plan:
    pips = [(rc, t) for rc in commands if (t := _pip_install(rc)) is not None]
    if len(pips) != 1:
        raise CannotTell("several pip installs: wheels for each would have to be built and installed in turn")
    rc, tool = pips[0]
    for f in tool.flags:
        if f.name in _PIP_BAD:
            raise CannotTell(f"`pip install {f.name}` cannot be replaced by installing wheels")
    script = ctx.script(rc.ins)
    if script is None or script.has_error or not script.is_and_chain:
        raise CannotTell("the RUN with pip install is not a plain `a && b` chain")
    if rc.command.scopes:
        raise CannotTell("pip install runs inside a shell construct")
    if rc.ins.flags:
        raise CannotTell("the RUN with pip install has flags")
    if image.official and image.name == "python":
        runtime_default = rt.slim_of(image)
    elif image.official and image.name == "pypy":
        runtime_default = model.base
    else:
        raise CannotTell(f"{model.base} is not a Python image: the toolchain may be what the image is for")
    runtime, _cfg = _choose(ctx, "python", runtime_default)
    runtime_image = rt.parse_image(runtime)
    if runtime_image is None or rt.facts_of(runtime_image).shell is False:
        raise CannotTell(f"the runtime {runtime} cannot run pip")
    plan = Plan("python", runtime)
    nl = newline_of(ctx.tree)

    # the pip command, rewritten for each stage
    c = rc.command
    text = script.text
    head = text[c.start:tool.subcommand_words[-1].start] if tool.subcommand_words else None
    if head is None:
        raise CannotTell("cannot read the pip command")
    args_text = text[tool.subcommand_words[-1].end:c.end]
    wheel_args = _strip_pip_flags(text, tool, drop=_PIP_INSTALL_ONLY_BOOL | {"--root-user-action"})
    keep_flags = " ".join(text[f.start:f.end] for f in tool.flags if f.name in _PIP_KEEP_IN_RUNTIME)
    builder_cmd = f"{head}wheel --no-cache-dir --wheel-dir=/wheels{wheel_args}"
    runtime_cmd = (f"{head}install --no-cache-dir --no-index --find-links=/wheels"
                   f"{(' ' + keep_flags) if keep_flags else ''} /wheels/*.whl")
    del args_text

    # builder: everything up to the pip RUN, the pip RUN reduced to what comes before pip + pip wheel
    pip_link = c.link
    links = script.chain
    before = [text[links[i].start:links[i].end] for i in range(pip_link)]
    plan.builder_edits[id(rc.ins)] = "RUN " + " && ".join(before + [builder_cmd])
    seen = False
    for ins in model.stage.instructions:
        if seen and ins.keyword not in MOVED:
            plan.builder_edits[id(ins)] = ""      # nothing after the pip RUN is needed to build wheels
        if ins is rc.ins:
            seen = True

    # runtime: the original instructions, build-only packages dropped, pip from the wheels
    still_used = {r.command.program for r in commands
                  if r.command.program and r.command is not c and not _is_pkg_cmd(r)}
    still_used |= {a[0].rsplit("/", 1)[-1] for a in model.entry.commands() if a}
    body: list[str] = []
    build_pkgs_dropped: list[str] = []
    libs_added: list[str] = []
    for ins in model.stage.instructions:
        if ins.keyword != "RUN":
            body.append(ins.full_source.rstrip("\r\n"))
            continue
        s = ctx.script(ins)
        pkg_cmds = [r for r in commands if r.ins is ins]
        new_links, changed = _python_runtime_links(ctx, ins, s, pkg_cmds, commands, build_pkgs_dropped, libs_added,
                                                   rc if ins is rc.ins else None, runtime_cmd, still_used)
        lead = "".join(ln.text for ln in ins.leading).rstrip("\r\n")
        if ins is rc.ins:
            body.append(_copy_line("/wheels", "/wheels", None, BUILDER))
        if not changed:
            body.append(ins.full_source.rstrip("\r\n"))
        elif new_links:
            sep = " && " + ctx.tree.escape + nl + "    "
            body.append((lead + nl if lead else "") + "RUN " + sep.join(new_links))
        elif lead:
            body.append(lead)
    if not build_pkgs_dropped:
        raise CannotTell("no build-only package to leave out")
    plan.runtime_body = body
    plan.notes.append("builds wheels in the builder; leaves out " + ", ".join(build_pkgs_dropped)
                      + (("; installs " + ", ".join(libs_added)) if libs_added else ""))
    plan.artifacts.append(("/wheels", "/wheels", False))
    return plan


def _strip_pip_flags(text: str, tool, drop: set[str]) -> str:
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


def _python_runtime_links(ctx, ins, script, cmds, all_cmds, dropped_out, libs_out, pip_rc, runtime_cmd,
                          still_used: set[str]):
    """The RUN's top-level links for the runtime stage; (links, changed)."""
    if script is None:
        return [], False
    has_pkgs = any(_is_pkg_cmd(r) for r in cmds)
    if not has_pkgs and pip_rc is None:
        return [], False
    if not script.is_and_chain or script.has_error:
        if has_pkgs and any(is_build_package(p.name) for r in cmds if _is_pkg_cmd(r)
                            for p in (rt_tool(r).packages if rt_tool(r) else ())):
            raise CannotTell(f"line {ins.start_line}: the RUN that installs build packages is not a plain && chain")
        return [], False
    text = script.text
    removed = _removed_packages(ins, all_cmds)
    links = []
    changed = False
    apt_left = False
    for link in script.chain:
        ltext = text[link.start:link.end]
        cmd = link.commands[0] if len(link.commands) == 1 else None
        tool = rt_tool_from(cmd) if cmd is not None else None
        if pip_rc is not None and cmd is pip_rc.command:
            links.append(text[link.start:cmd.start] + runtime_cmd)
            changed = True
            continue
        if tool is not None and tool.manager in ("apt-get", "apt", "apk") and tool.subcommand in ("install", "add"):
            keep_words = []
            drop_words = []
            manager = "apk" if tool.manager == "apk" else "apt-get"
            for p in tool.packages:
                if is_build_package(p.name) and p.name not in removed:
                    lib = runtime_lib(manager, p.name)[1]
                    if _unknown_dev(p.name, manager):
                        continue      # unknown library: the -dev package stays
                    if PACKAGE_PROGRAMS.get(p.name, {p.name}) & still_used:
                        continue      # a later RUN (or the image's command) runs it
                    drop_words.append(p)
                    dropped_out.append(p.name)
                    if lib and lib not in libs_out and lib not in {q.name for q in tool.packages}:
                        libs_out.append(lib)
                        keep_words.append(lib)
            if not drop_words:
                links.append(ltext)
                if tool.packages:
                    apt_left = True
                continue
            changed = True
            rest = [p for p in tool.packages if p not in drop_words]
            if not rest and not keep_words:
                continue
            new = ltext
            for p in sorted(drop_words, key=lambda p: p.word.start, reverse=True):
                a, b = p.word.start - link.start, p.word.end - link.start
                new = new[:a].rstrip(" \t") + new[b:]
            if keep_words:
                new = new.rstrip() + " " + " ".join(keep_words)
            links.append(re.sub(r"[ \t]+", " ", new).strip())
            apt_left = True
            continue
        links.append(ltext)
    if not changed:
        return [], False
    if not apt_left:
        # nothing is installed any more: the update and cleanup of the package lists go too
        links = [ln for ln in links if not re.match(r"^\s*(apt-get|apt|apk)\s+(-\S+\s+)*(update|clean|autoremove|purge|remove|del)\b|^\s*rm\s+-[rf]+\s+/var/lib/apt/lists", ln)]
    return links, True


def rt_tool_from(cmd):
    from ..shell import parse_tool

    return parse_tool(cmd) if cmd is not None else None


_PLANNERS = {"go": _plan_go, "rust": _plan_rust, "c": _plan_c, "java": _plan_java, "node": _plan_node,
             "static": _plan_static, "python": _plan_python}


# --------------------------------------------------------------------------- rendering

def _render(ctx: Context, model: StageModel, plan: Plan) -> str:
    nl = newline_of(ctx.tree)
    stage = model.stage
    builder = _builder_name(stage)
    from_ins = stage.from_
    out: list[str] = []
    from_text = from_ins.source.rstrip("\r\n")
    if stage.name is None:
        from_text += f" AS {builder}"
    out.append(from_text)
    out += plan.builder_prefix
    moved: list[Instruction] = []
    carried: list[Instruction] = []
    for ins in stage.instructions:
        kw = ins.keyword
        if kw in MOVED:
            moved.append(ins)
            continue
        if kw in CARRIED or kw == "ARG":
            carried.append(ins)
        if id(ins) in plan.builder_edits:
            replacement = plan.builder_edits[id(ins)]
            if replacement:
                lead = "".join(ln.text for ln in ins.leading).rstrip("\r\n")
                out.append((lead + nl if lead else "") + replacement)
            continue
        out.append(ins.full_source.rstrip("\r\n"))
    out += plan.builder_suffix
    out.append("")
    # the runtime stage
    platform = stage.platform
    rt_from = "FROM " + (f"--platform={platform} " if platform else "") + plan.runtime
    out.append(rt_from)
    if plan.runtime_body is not None:
        out += [b.replace(f"--from={BUILDER} ", f"--from={builder} ") for b in plan.runtime_body]
        return nl.join(_fix_newlines(out, nl)) + (nl if _ends_with_newline(stage) else "")
    # ARGs the runtime's instructions use
    used_vars: set[str] = set()
    for ins in carried + moved:
        if ins.keyword != "ARG":
            used_vars |= set(references(ins.source))
    for ins in stage.instructions:
        if ins.keyword in ("WORKDIR", "USER"):
            used_vars |= set(references(ins.source))
    for ins in carried:
        if ins.keyword == "ARG":
            names = {v.partition("=")[0] for v in ins.values}
            if names & used_vars:
                out.append(ins.source.rstrip("\r\n"))
    global_needed = used_vars - set(model.args)
    for name in sorted(global_needed & set(ctx.graph.args)):
        out.insert(len(out) - 0, f"ARG {name}")
    for ins in carried:
        if ins.keyword == "ENV":
            out.append(ins.source.rstrip("\r\n"))
    # WORKDIR
    if model.workdir_set and not plan.drop_entry:
        if model.workdir is not None:
            out.append(f"WORKDIR {model.workdir}")
        else:
            out += [i.source.rstrip("\r\n") for i in stage.instructions if i.keyword == "WORKDIR"]
    out += plan.pre_copy
    for ins in carried:
        if ins.keyword == "VOLUME":
            pass  # declared after the files are in place (a VOLUME freezes its directory)
    first_output = True
    for src, dest, glob in plan.artifacts:
        line = _copy_line(src.split(" ") if " " in src and "\"" not in src and dest.endswith("/") else src, dest,
                          plan.chown if dest not in ("/",) else None, builder)
        if plan.post_copy and first_output and src.split()[-1].endswith((
                "package.json", "package-lock.json", "yarn.lock", "npm-shrinkwrap.json")):
            out.append(line)
            continue
        if plan.post_copy and first_output:
            out += plan.post_copy
            first_output = False
        out.append(line)
    if plan.post_copy and first_output:
        out += plan.post_copy
    for ins in carried:
        if ins.keyword == "VOLUME":
            out.append(ins.source.rstrip("\r\n"))
    if model.user is not None:
        users = [i for i in stage.instructions if i.keyword == "USER"]
        out.append(users[-1].source.rstrip("\r\n"))
    out += _moved_lines(moved, plan)
    return nl.join(_fix_newlines(out, nl)) + (nl if _ends_with_newline(stage) else "")


def _moved_lines(moved: list[Instruction], plan: Plan) -> list[str]:
    out = []
    for ins in moved:
        if plan.drop_entry and ins.keyword in ("CMD", "ENTRYPOINT"):
            continue
        if plan.drop_expose and ins.keyword == "EXPOSE":
            continue
        comments = "".join(ln.text for ln in ins.leading if ln.kind == "COMMENT").rstrip("\r\n")
        out.append((comments + "\n" if comments else "") + ins.source.rstrip("\r\n"))
    return out


def _fix_newlines(lines: list[str], nl: str) -> list[str]:
    if nl == "\n":
        return [ln.replace("\r\n", "\n") for ln in lines]
    return [re.sub(r"(?<!\r)\n", "\r\n", ln) for ln in lines]


def _ends_with_newline(stage) -> bool:
    last = stage.instructions[-1] if stage.instructions else stage.from_
    return bool(last.lines[-1].newline)

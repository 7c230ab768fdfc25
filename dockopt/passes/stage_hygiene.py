"""Stage hygiene of multi-stage builds: whole filesystems copied across, build tools left in the
final stage, stages nothing uses (DO303, DO304, DO305).

Each rule documents itself in its class docstring (``--explain DO303``).
"""
from __future__ import annotations

import inspect
import json
import posixpath
from collections.abc import Iterable, Iterator

from ..ecosystems import system
from ..facts import images as rt
from ..findings import Edit, Finding, Fix, Safety
from ..shell import Script, ToolCommand, parse_tool
from ..syntax import Instruction
from .base import PACKAGE_TREE, Context, MayChange, Pass


class _DocFromClass(Pass):
    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")


def _is_multistage(ctx: Context) -> bool:
    return len(ctx.tree.stages) > 1


class CopyWholeFilesystem(_DocFromClass):
    """Copy artifacts from a stage, not its whole filesystem.

    ## What it does
    Finds `COPY --from=<stage or image> / <dest>`: a copy of the source's entire root file system.

    ## Why is this bad?
    The copy brings the source's toolchain, package manager state, caches and sources along, so
    the multi-stage build saves nothing; and it overwrites the destination's own system files
    (`/etc/passwd`, libraries) with the builder's.

    ## Example
    ```dockerfile
    FROM golang:1.19 AS build
    RUN go build -o /out/app .
    FROM gcr.io/distroless/static-debian12
    COPY --from=build / /
    ```
    Use instead:
    ```dockerfile
    COPY --from=build /out/app /app
    ```

    ## Fix safety
    No fix: which files the image needs is for the author to say. (A stage written only to be
    copied whole, e.g. `FROM scratch` holding a prepared root, is fine: suppress the rule there
    with `# dockopt: ignore=DO303`.)
    """

    code = "DO303"
    name = "copy-from-whole-filesystem"
    summary = "COPY --from copies a stage's whole filesystem"

    def check(self, ctx: Context) -> Iterable[Finding]:
        stages = ctx.tree.stages
        for stage in stages:
            for ins in stage.instructions:
                if ins.keyword != "COPY":
                    continue
                src_flag = ins.flag("from")
                if src_flag is None or not src_flag.value:
                    continue
                sources = list(ins.values[:-1])
                if not any(posixpath.normpath(s.strip("\"'")) in ("/", "//") or s in ("/.", "/*") for s in sources):
                    continue
                ref = ctx.graph.ref(src_flag.value, stage.index)
                if ref is not None and ref.base.lower() == "scratch":
                    continue   # a prepared root file system, built to be copied whole
                what = f"stage '{src_flag.value}'" if ref is not None else f"image {src_flag.value}"
                yield self.finding(ins, f"COPY --from={src_flag.value} copies the whole filesystem of {what}: "
                                   "copy only the artifacts the image needs")


# the system package managers whose installs DO304 reads
_INSTALLERS = frozenset({"apt-get", "apt", "aptitude", "apk", "dnf", "yum", "microdnf", "zypper"})


class BuildToolsInFinalStage(_DocFromClass):
    r"""Keep compilers, headers and dev dependencies out of the final stage.

    ## What it does
    In a multi-stage build, finds the final stage installing build tools: compilers and build
    systems (`gcc`, `g++`, `make`, `cmake`, `build-essential`, `golang`, `rustc`, a JDK),
    `*-dev`/`*-devel` packages, `npm ci`/`npm install`/`yarn install` that also install
    devDependencies, or a final stage built `FROM` a toolchain image (`golang`, `rust`, `gcc`,
    `maven`, a JDK). Packages removed again in the same RUN (`apt-get purge`, `apk del` of a
    `--virtual` group) are not reported.

    ## Why is this bad?
    The final stage is the image that ships. Build tools there cost size and attack surface, and
    they undo the point of having a builder stage: build in the builder, copy the result.

    ## Example
    ```dockerfile
    FROM python:3.11 AS build
    RUN pip wheel --wheel-dir=/wheels -r requirements.txt
    FROM python:3.11-slim
    RUN apt-get update && apt-get install -y gcc libpq-dev
    ```
    Use instead:
    ```dockerfile
    FROM python:3.11-slim
    RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
        && rm -rf /var/lib/apt/lists/*
    ```

    ## Fix safety
    For devDependencies, a display-only suggestion adds `--omit=dev` (`--production` for yarn);
    nothing is applied: the final stage may really compile at run time.
    """

    code = "DO304"

    may_change = MayChange(paths=PACKAGE_TREE)
    name = "build-tools-in-final-stage"
    summary = "Build tools are installed in the final stage of a multi-stage build"

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not _is_multistage(ctx):
            return
        final = ctx.tree.stages[-1]
        base = ctx.graph.base_image(final)
        image = rt.parse_image(base) if "$" not in base else None
        tool = rt.toolchain_of(image) if image is not None else None
        if tool is not None:
            yield self.finding(final.from_, f"the final stage is built on {base}, a {tool} toolchain image: "
                               "copy the artifacts into a runtime image instead")
        for ins in final.instructions:
            script = ctx.script(ins) if ins.keyword == "RUN" else None
            if script is not None:
                yield from self._installs(ctx, ins, script)

    def _installs(self, ctx: Context, ins: Instruction, script: Script) -> Iterator[Finding]:
        tools = [t for c in script.commands if (t := parse_tool(c)) is not None]
        removed = system.removed_again(script.commands)
        names = [p.name for t in tools if t.manager in _INSTALLERS and t.subcommand in system.INSTALLING
                 for p in t.packages if system.is_build_tool(p.name) and p.name not in removed]
        if names:
            yield self.finding(ins, "the final stage installs build tools (" + ", ".join(dict.fromkeys(names))
                               + "): install them in the builder stage and copy the results")
        for t in tools:
            finding = self._dev_dependencies(ctx, ins, t)
            if finding is not None:
                yield finding

    def _dev_dependencies(self, ctx: Context, ins: Instruction, t: ToolCommand) -> Finding | None:
        cmd_env = {a.name: a.value_text for a in t.command.assignments}
        if ctx.state(ins).value("NODE_ENV") == "production" or cmd_env.get("NODE_ENV") == "production":
            return None
        if t.manager == "npm" and t.subcommand in ("ci", "install") and not t.packages:
            omit = [f.value for f in t.flags if f.name in ("--omit", "--only", "--production")]
            if t.has_flag("--production") or "dev" in omit or any((v or "").startswith("prod") for v in omit):
                return None
            flag = "--omit=dev"
        elif t.manager == "yarn" and t.subcommand in ("install", None) and not t.packages:
            if t.has_flag("--production", "--prod"):
                return None
            flag = "--production"
        else:
            return None
        if not self._has_dev_dependencies(ctx):
            return None
        at, text = t.flag_insertion(flag)
        rs, _ = ctx.run_script(ins)
        fix = None
        if rs is not None:
            a, b = rs.span(at, at)
            fix = Fix(f"Install production dependencies only ({flag})", Safety.DISPLAY, (Edit(a, b, text),))
        return self.finding(ins, f"`{t.manager} {t.subcommand or 'install'}` in the final stage installs the "
                            f"devDependencies too: add {flag} (or set NODE_ENV=production)", fix)

    @staticmethod
    def _has_dev_dependencies(ctx: Context) -> bool:
        try:
            data = json.loads(ctx.files.text("package.json") or "")
        except ValueError:
            return False
        return isinstance(data, dict) and bool(data.get("devDependencies"))


class UnusedStage(_DocFromClass):
    """Remove stages the final image does not use.

    ## What it does
    Finds stages that the final stage does not depend on: no `COPY --from=` or
    `RUN --mount=from=` of it and it is not the base (`FROM <stage>`) of a stage that is used,
    directly or through other stages.

    ## Why is this bad?
    BuildKit skips such a stage when it builds the final target, but the classic builder builds
    every stage; either way the stage is dead text that readers have to understand, and it is
    often a sign that a `COPY --from` points at the wrong stage.

    ## Example
    ```dockerfile
    FROM node:18 AS assets
    RUN npm ci && npm run build
    FROM golang:1.19 AS build
    RUN go build -o /out/app .
    FROM gcr.io/distroless/static-debian12
    COPY --from=build /out/app /app
    ```
    Here `assets` is never used.

    ## Fix safety
    Display only: the suggestion deletes the stage, but a stage can be meant for
    `docker build --target` (tests, a dev image), which dockopt cannot see.
    """

    code = "DO305"
    name = "unused-stage"
    summary = "A build stage is never used by the final stage"
    severity = "info"

    def check(self, ctx: Context) -> Iterable[Finding]:
        stages = ctx.tree.stages
        if len(stages) < 2:
            return
        used = ctx.graph.needed
        if used is None:
            return    # a reference only known at build time, or ONBUILD triggers: cannot tell
        for st in stages[:-1]:
            if st.index in used:
                continue
            label = f"'{st.name}'" if st.name else f"#{st.index}"
            first = st.from_
            nxt = stages[st.index + 1].from_
            # up to the next stage's FROM, keeping the comments above it
            end = next((ln.start for ln in nxt.leading if ln.kind == "COMMENT"), nxt.start)
            fix = Fix(f"Remove stage {label}", Safety.DISPLAY, (Edit(first.leading_start, end, ""),))
            yield self.finding(first, f"stage {label} (FROM {st.base}) is not used by the final stage "
                               "(no COPY --from, RUN --mount from or FROM of it)", fix)

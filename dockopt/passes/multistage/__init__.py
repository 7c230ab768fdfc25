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
  `--outDir`...), and the production dependencies (`npm ci --omit=dev`, none when package.json
  has no `dependencies`) in the `-slim` image of the same Node version. package.json, the
  lockfile and `.npmrc`/`.yarnrc` are copied from the build context and installed before
  anything else arrives; then every other file the build context put in the app directory
  (`views/`, `templates/`, `config/`, `locales/`, `public/`, `.env`, files it does not know)
  is copied from the context too, and the build output last, from the builder. Only what
  serves the build alone stays behind (`src/` and the files the build script names, compiler
  and bundler configs, tests, docs, Dockerfiles, logs), and none of it when the app's sources
  open a path they do not spell out (`readFileSync(file)`): the whole directory goes. An app
  that only serves its build output statically can be put in `nginx` instead
  (`--runtime-base nginx:stable`, or `runtime-base.node` in the config).
* Python: wheels built in the builder (`pip wheel --wheel-dir=/wheels`) and installed in the
  runtime without compilers (`python:3.11` -> `python:3.11-slim`) from a BuildKit bind mount
  of the builder's `/wheels`, so no wheel stays in the image (for the classic builder, the
  builder installs into a virtualenv, `/opt/venv`, which the runtime copies and puts first on
  `PATH`). The
  runtime replays the original instructions, so every source file is there; the install
  moves above the source copies it does not read, and the builder copies only the
  requirement files `pip wheel` reads. Build-only packages (`gcc`, `build-essential`, `*-dev`)
  leave the image, unless a step the runtime still runs needs them (`manage.py
  compilemessages` runs gettext's `msgfmt`); the shared libraries of known `-dev` packages
  (`libpq-dev` -> `libpq5`) and of packages built from source against the full image
  (`psycopg2` -> `libpq5`, `mysqlclient` -> `libmariadb3`) are installed.
* A static site built inside a web server image: the server's document root, copied into a
  clean copy of the same server image.

The runtime stage keeps the image's configuration: ENV, the ARGs they use, WORKDIR, USER,
EXPOSE, LABEL, HEALTHCHECK, VOLUME, STOPSIGNAL, ONBUILD and the ENTRYPOINT/CMD; artifacts keep
their paths, so the command line still works. Packages installed for the app rather than the
build (not compilers, not `-dev`, not used only by build commands) are installed in the runtime
too; user accounts created with `useradd`/`adduser` are created there again. The runtime base
is the user's `runtime-base` for the language when one is configured.

When the pass cannot tell what the artifacts are (a build command it does not model, outputs
named at build time, a CMD that runs something the build does not produce), or what the program
reads at run time (a Go, Rust or C program that opens files by relative path, a Node app whose
build context it cannot list), it reports the single-stage build with the reason and changes
nothing.

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
program needs. Files a compiled program reads at run time by a path its sources do not spell
out, files a Node app reads from a directory the pass takes for a build input (`src/`),
programs of the toolchain image it calls, and libraries it opens with `dlopen` are not there
any more; a static Go binary resolves users and DNS with Go's own code. Build and run the
result before shipping it (`dockopt --verify --smoke COMMAND`).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from ...ecosystems.common import CannotTell
from ...facts import images
from ...facts.paths import display
from ...findings import Edit, Finding
from ...syntax import Stage
from ..base import Context, MayChange, Pass, unsafe_fix
from .detect import detect
from .model import model_stage, run_commands
from .plan import LIBS_DIR, Plan, Site

_LANG_NAMES = {"go": "Go", "rust": "Rust", "c": "C/C++", "java": "Java", "node": "Node",
               "python": "Python", "static": "static-site"}
# language -> (module of this package, planner): a module is imported when its language is found
# (most files are not single-stage builds of a language, and a single-file run pays each import)
_PLANNERS: dict[str, tuple[str, str]] = {
    "go": ("go", "plan_go"), "rust": ("native", "plan_rust"), "c": ("native", "plan_c"),
    "java": ("java", "plan_java"), "node": ("node", "plan_node"), "static": ("static", "plan_static"),
    "python": ("python", "plan_python"),
}


def _planner(language: str) -> Callable[[Site], Plan]:
    module, name = _PLANNERS[language]
    planner: Callable[[Site], Plan] = getattr(importlib.import_module(f".{module}", __name__), name)
    return planner


class Multistage(Pass):
    code = "DO301"
    # the runtime stage keeps only the artifacts, on another base: what must still be there
    # is proven by running the image (smoke command or liveness probe), not by its files
    may_change = MayChange(config=frozenset({"Env", "Labels"}), paths=("/*",))
    needs_proof = True
    name = "multistage"
    summary = "A single-stage build ships its toolchain: build in a builder stage, copy the artifacts"
    severity = "info"
    needs_context = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        stages = ctx.tree.stages
        if len(stages) != 1 or any(ins.keyword == "FROM" for ins in stages[0].instructions):
            return
        stage = stages[0]
        model = model_stage(ctx, stage)
        image = images.parse_image(model.base)
        if image is None or image.repository == "scratch":
            return
        site = Site(ctx, model, image, run_commands(ctx, model))
        language, evidence = detect(image, site.commands)
        if language is None:
            return
        what = f"single-stage {_LANG_NAMES[language]} build ({evidence})"
        last = stage.instructions[-1] if stage.instructions else stage.from_
        try:
            _splittable(stage)
            plan = _planner(language)(site)
            from .render import builder_name, render

            text = render(ctx, model, plan)
            if "\x00" in text:
                raise CannotTell(f"what it builds lies in the WORKDIR of {model.base}, which dockopt does not "
                                 "know: set a WORKDIR")
        except CannotTell as exc:
            yield Finding(self.code, display(f"{what} ships its toolchain; cannot split it: {exc}"),
                          stage.from_.start_line, stage.from_.column, last.end_line)
            return
        copied = ", ".join(src for src, _dst, _g in plan.artifacts if src != LIBS_DIR + "/") or "the artifacts"
        note = ("; " + "; ".join(plan.notes)) if plan.notes else ""
        yield Finding(
            self.code,
            f"{what} ships its toolchain in the image: build in a '{builder_name(stage)}' stage and copy "
            f"{copied} into {plan.runtime}{note}",
            stage.from_.start_line, stage.from_.column, last.end_line,
            unsafe_fix(f"Split into a builder stage and a {plan.runtime} runtime stage",
                       Edit(stage.from_.start, last.end, text)),
        )


def _splittable(stage: Stage) -> None:
    """What the split cannot take apart, whatever the language."""
    last_line = (stage.instructions[-1] if stage.instructions else stage.from_).lines[-1]
    if last_line.kind not in ("INSTR", "CONT_LAST", "HEREDOC_END"):
        raise CannotTell("the file ends inside a continued instruction")
    if any(ins.keyword == "SHELL" for ins in stage.instructions):
        raise CannotTell("a SHELL instruction changes how the runtime's commands run")
    if stage.platform and "BUILDPLATFORM" in stage.platform:
        raise CannotTell("the stage already cross-builds with --platform=$BUILDPLATFORM")

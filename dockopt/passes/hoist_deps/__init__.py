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
`yarn.lock`, `.yarnrc(.yml)` and `.yarn/releases|plugins|patches`; `pnpm-lock.yaml`; for npm and
Yarn workspaces (`"workspaces": ["packages/*"]`), each workspace's `package.json` in its own
directory (a workspace's install scripts or programs make the fix unsafe, as the root's do);
every requirements file reached through nested `-r`/`-c` includes, each at its own relative
path; `pyproject.toml` with `poetry.lock`/`poetry.toml` or `uv.lock`/`.python-version`;
`Pipfile(.lock)`; `go.mod`/`go.sum`; `Gemfile(.lock)` and `.bundle/config`; `pom.xml` and
`.mvn/`; `composer.json`/`composer.lock`/`auth.json`. The manifest `COPY` carries the
`--chown`/`--chmod`/`--link` flags of the source copy, and a relative destination keeps its
meaning: when a `WORKDIR` sits between the source copy and the install, the moved source copy
gets the absolute destination. A `RUN` that installs and then builds (`npm ci && npm run build`)
is split at the `&&`: the install goes up, the build stays after the source copy; a `cd` before
the install (`cd web && npm ci && npm run build`) goes up with it and is repeated before the
build, which so still runs in that directory. A project
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
scripts that name files of the context, `binding.gyp`, pnpm workspaces (`pnpm-workspace.yaml`),
workspace patterns dockopt cannot list from the context (`**`, `!`), local path dependencies
(`file:`, `-e .`, `./pkg`, path sources, Gemfile `gemspec`), `pip install .`, a requirements
file the source copy does not bring, Maven modules; and while the context sends an
install output directory (`node_modules`, `vendor`, `.venv`) that the moved source copy would
copy over the installed one (exclude it first, see DO204). Also when the installer reads a file
only the source copy brings through one of its options (`--find-links ./wheels`, `--index-url
file:///app/mirror`), a variable it reads (`PIP_FIND_LINKS`, `PIP_CONSTRAINT`,
`PIP_CONFIG_FILE`, `PIP_INDEX_URL`, `UV_*`, `npm_config_userconfig`, `YARN_RC_FILENAME`,
`BUNDLE_GEMFILE`, `BUNDLE_CACHE_PATH`, `COMPOSER`, `GOFLAGS`, `MAVEN_ARGS`, `CARGO_*`) or a
configuration file in the place it looks (`/etc/pip.conf`, `~/.npmrc`, `~/.bundle/config`, ...).
The project's own configuration goes first with the manifests: `.npmrc`, `.yarnrc.yml` and
`.yarn/releases`, `.pnpmfile.cjs`, `.bundle/config`, and the gems of `vendor/cache`, which
`bundle install` (`--local` above all) installs from.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterable

from ...ecosystems.common import ProjectCopy, Reject
from ...facts.files import ContextFiles
from ...facts.paths import clean, has_vars, is_remote, join, known, overlaps, relative
from ...findings import Edit, Finding, Fix, Safety
from ...suppress import suppressed_codes
from ...syntax import Instruction, Line, Stage
from ..base import Context, Pass, newline_of
from ..copies import copy_op, plain_word
from ..edits import last_operand_span
from .runs import RunPlan, SourceCopy, run_plan, system_run

# instructions that may sit between the source COPY and the install: they touch no file
_PASSIVE = frozenset({"ENV", "ARG", "USER", "WORKDIR", "LABEL", "EXPOSE", "SHELL", "CMD",
                      "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER"})
_CARRIED_FLAGS = frozenset({"chown", "chmod", "link"})


class HoistDeps(Pass):
    code = "DO201"
    name = "hoist-deps"
    summary = "Dependencies are installed after the whole source is copied: copy the manifests first"
    needs_context = True

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not any(i.keyword in ("COPY", "ADD") for i in ctx.tree.instructions) or not ctx.files.available:
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
                    plan = run_plan(ctx, stage, source, ins)
                except Reject as exc:
                    if exc.show:
                        return self.finding(source.ins, f"{_short(source.ins)} copies the source before "
                                            f"the install at line {ins.start_line}, but {exc.reason}")
                    return None
                if plan is not None:
                    return self._fix(ctx, source, ins, between, unsafe, plan)
                if not system_run(ctx, ins, source):
                    return None
                unsafe.append(f"the source copy moves below the RUN at line {ins.start_line}, "
                              "which must not read the copied files")
            elif kw in ("COPY", "ADD"):
                op = copy_op(ins)
                dest = join(ctx.state(ins).cwd, op.dest) if op else None
                if op is None or dest is None or overlaps(dest, source.dest_abs):
                    return None
            elif kw not in _PASSIVE:
                return None
            between.append(ins)
        return None

    # -- the rewrite -------------------------------------------------------------------------
    def _fix(self, ctx: Context, source: SourceCopy, run: Instruction, between: list[Instruction],
             unsafe: list[str], plan: RunPlan) -> Finding | None:
        S = source.ins
        manifests = _manifests(plan)
        lines = _manifest_copies(source, manifests)
        s_text = _moved_copy(ctx, source, between)
        if lines is None or s_text is None:
            return None
        nl = newline_of(ctx.tree)
        kept_leading, moved_leading = _split_leading(S)
        edit_a = Edit(S.leading_start, S.end, "".join(ln.text for ln in kept_leading)
                      + nl.join(lines) + (S.lines[-1].newline or nl))
        edit_b = Edit(run.start, run.end, _install_then_copy(ctx, run, plan, moved_leading, s_text))
        reasons = [*unsafe, *[r for inst in plan.installs for r in inst.unsafe]]
        names = ", ".join(c for c, _ in manifests)
        title = f"Copy {names} and install before the source copy"
        return Finding(self.code, _message(S, run, plan, names, reasons), S.start_line, S.column, S.end_line,
                       Fix(title, Safety.UNSAFE if reasons else Safety.SAFE, (edit_a, edit_b)))


def _manifests(plan: RunPlan) -> list[tuple[str, str]]:
    """(context path, image path) of every manifest the installs read, each once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for inst in plan.installs:
        for c, img in inst.manifests:
            if img not in seen:
                seen.add(img)
                out.append((c, img))
    return out


def _manifest_copies(source: SourceCopy, manifests: list[tuple[str, str]]) -> list[str] | None:
    """The manifest COPYs, one per image directory, in place of the source copy."""
    groups: dict[str, list[str]] = {}
    for c, img in manifests:
        rel_dir = posixpath.dirname(relative(img, source.dest_abs)) or "."
        groups.setdefault(rel_dir, []).append(c)
    S = source.ins
    kw = "COPY" if S.parsed.keyword.isupper() else "copy"
    lines = []
    for rel_dir, srcs in groups.items():
        dest = _render_dest(source.dest, source.dest_abs, rel_dir)
        if dest is None or not all(plain_word(s) for s in srcs) or not plain_word(dest):
            return None
        lines.append(" ".join([kw, *S.parsed.flags, *srcs, dest]))
    return lines


def _moved_copy(ctx: Context, source: SourceCopy, between: list[Instruction]) -> str | None:
    """The source copy's text below the install: an absolute destination when a WORKDIR between
    changes what '.' means; None when it cannot move."""
    S = source.ins
    text = ctx.text
    s_text = S.source
    if any(i.keyword == "WORKDIR" for i in between) and not source.dest.startswith("/"):
        span = last_operand_span(S)
        if not known(source.dest_abs) or span is None:
            return None
        new_dest = source.dest_abs + ("/" if source.dest.endswith("/") and source.dest_abs != "/" else "")
        s_text = text[S.start:span[0]] + new_dest + text[span[1]:S.end]
    if any(i.keyword in ("ENV", "ARG") for i in between) and has_vars(S.logical):
        return None
    return s_text


def _install_then_copy(ctx: Context, run: Instruction, plan: RunPlan, moved_leading: list[Line], s_text: str) -> str:
    """At the install: the hoisted part, the source copy, what stays after it."""
    nl = newline_of(ctx.tree)
    head = ctx.text[run.start:run.logical_to_offset(run.args_offset)]
    body = head + plan.hoisted + nl + "".join(ln.text for ln in moved_leading) + s_text
    if not s_text.endswith(("\n", "\r")):
        body += nl
    if plan.rest is not None:
        body += head + plan.rest + (run.lines[-1].newline)
    elif not run.lines[-1].newline:
        body = body.rstrip("\r\n")
    return body


def _message(S: Instruction, run: Instruction, plan: RunPlan, names: str, reasons: list[str]) -> str:
    what = " && ".join(inst.what for inst in plan.installs)
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
    return message


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
    return SourceCopy(ins, op.sources, op.dest, ProjectCopy(rel, dest_abs, fs))


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


def _split_leading(ins: Instruction) -> tuple[list[Line], list[Line]]:
    """(lines that stay, comment lines attached to the instruction that move with it)."""
    leading = list(ins.leading)
    moved: list[Line] = []
    while leading and leading[-1].kind == "COMMENT":
        moved.insert(0, leading.pop())
    return leading, moved


def _short(ins: Instruction) -> str:
    text = ins.logical.strip()
    return f"`{text if len(text) <= 60 else text[:57] + '...'}` (line {ins.start_line})"

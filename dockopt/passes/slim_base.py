"""Use the slim variant of a full official base image when the stage needs none of its tools.

## What it does
Finds a final stage built `FROM` a full official language image that has a `-slim` variant
(`python:3.11`, `node:18`, `ruby:3.3`, with or without a Debian codename) and whose instructions
use none of what only the full image carries: compilers and build tools (`gcc`, `make`,
`build-essential`, `*-dev` packages, node-gyp builds), version control and download tools (`git`,
`curl`, `wget`, `ssh`), or a build step that the multi-stage rule (DO301) splits off. The fix
switches the tag to its slim variant (`python:3.11` -> `python:3.11-slim`,
`node:18-bookworm` -> `node:18-bookworm-slim`).

A final stage `FROM debian:<release>` (`bookworm`, `12`, `12.5`, `stable`, ...) gets
`debian:<release>-slim`: the same packages, without documentation, man pages and message
translations (the slim image also leaves them out of every package installed later). Stages that
read or need those (`man`, `info`, `/usr/share/doc`, `/usr/share/locale`, `locale-gen`, gettext
catalogues) are left alone.

## Why is this bad?
The full images carry a compiler toolchain, headers, version control and hundreds of packages
so that anything can be built in them; an application that only installs wheels or plain
JavaScript packages ships all of it for nothing. The slim variants are the same language
runtime on the same Debian release, several hundred megabytes smaller, with less to patch.

## Example
```dockerfile
FROM python:3.11
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py .
CMD ["python", "app.py"]
```
Use instead:
```dockerfile
FROM python:3.11-slim
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py .
CMD ["python", "app.py"]
```

## Fix safety
Unsafe (only with `--unsafe-fixes`): a dependency without a prebuilt wheel (or a native npm
module) needs the compiler the slim image lacks, and a script may call a tool the slim image does
not have. On Debian, a program that prints translated messages falls back to English, and files
under /usr/share/doc are gone (some tools read licence or example files from there).
`dockopt --verify` builds both images and runs a smoke command to prove it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..findings import Edit, Finding
from ..syntax import Instruction, Stage
from .base import PACKAGE_TREE, Context, MayChange, Pass, unsafe_fix

# repository -> whether it has Debian-based -slim variants
SLIM_REPOS = {"python", "node", "ruby"}
_TAG = re.compile(r"^(?:docker\.io/)?(?:library/)?(?P<repo>[a-z]+):(?P<tag>[0-9][\w.]*)"
                  r"(?:-(?P<codename>bookworm|bullseye|trixie))?$")
# what a stage may use that only the full image has
FULL_ONLY = re.compile(
    r"\b(gcc|g\+\+|cc|c\+\+|make|cmake|build-essential|[\w.+-]+-dev|node-gyp|git|curl|wget|ssh|scp|svn|hg|"
    r"npm run|yarn build|yarn run|go build|cargo|mvn|gradle|javac|python3?-config|pkg-config|autoconf|bzip2|xz)\b")
# debian:<release> (codename, suite or version number) and what its -slim variant leaves out
_DEBIAN = re.compile(r"^(?:docker\.io/)?(?:library/)?debian:(?P<tag>(?:bookworm|bullseye|buster|trixie|stable|"
                     r"oldstable|testing|unstable|sid)|[0-9]+(?:\.[0-9]+)*)$")
DOCS_ONLY = re.compile(r"(\b(man|mandb|man-db|info|install-info|groff|locale-gen|localedef|msgfmt|gettext|"
                       r"dpkg-reconfigure\s+locales)\b|/usr/share/(doc|man|info|locale|groff|lintian|linda)\b)")


class SlimBase(Pass):
    code = "DO306"
    may_change = MayChange(config=frozenset({"Env", "Labels"}), paths=PACKAGE_TREE)
    name = "slim-base"
    summary = "A full official base image where its slim variant would do"
    severity = "info"

    def check(self, ctx: Context) -> Iterable[Finding]:
        stages = ctx.tree.stages
        if not stages:
            return
        final = stages[-1]
        if final.from_.flags or any(st.name and st.name.lower() == final.base.lower() for st in stages):
            return
        d = _DEBIAN.match(final.base)
        if d:
            yield from self._debian(ctx, final, d.group("tag"))
            return
        m = _TAG.match(final.base)
        if not m or m.group("repo") not in SLIM_REPOS:
            return
        for ins in final.instructions:
            if ins.keyword in ("RUN", "ONBUILD") and FULL_ONLY.search(ins.logical):
                return
        repo, tag, codename = m.group("repo"), m.group("tag"), m.group("codename")
        slim = f"{repo}:{tag}-{codename}-slim" if codename else f"{repo}:{tag}-slim"
        if repo in ("python", "ruby") and codename:
            slim = f"{repo}:{tag}-slim-{codename}"  # these tags put the codename last
        ins = final.from_
        start, end = _base_span(ctx, ins, final.base)
        yield self.finding(
            ins, f"`{final.base}` carries compilers and tools this stage does not use: `{slim}` is the same "
                 f"runtime without them (unsafe: a dependency may need a compiler)",
            unsafe_fix(f"Use {slim}", Edit(start, end, slim)))


    def _debian(self, ctx: Context, final: Stage, tag: str) -> Iterable[Finding]:
        for ins in final.instructions:
            text = ins.logical if ins.keyword in ("RUN", "ONBUILD", "CMD", "ENTRYPOINT") else ""
            if DOCS_ONLY.search(text):
                return
        slim = final.base[: len(final.base) - len(tag)] + f"{tag}-slim"
        start, end = _base_span(ctx, final.from_, final.base)
        yield self.finding(
            final.from_, f"`{final.base}` keeps documentation, man pages and translations this stage does not "
                         f"use: `{slim}` is the same packages without them (unsafe: a program may read them)",
            unsafe_fix(f"Use {slim}", Edit(start, end, slim)))


def _base_span(ctx: Context, ins: Instruction, base: str) -> tuple[int, int]:
    pos = ins.logical.find(base, ins.args_offset)
    return ins.logical_span(pos, pos + len(base))

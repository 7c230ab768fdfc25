"""Helpers shared by the DO2xx pass tests (fixture cases with real build contexts on disk), and the
checks that hold for every DO2xx pass at once."""
from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.findings import Finding, Fix
from dockopt.fixer import FixResult, fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES, by_code
from dockopt.passes.base import DOC_HEADINGS, Pass

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DO2_CODES = ("DO201", "DO202", "DO203", "DO204", "DO205", "DO206", "DO207", "DO208", "DO209")


def d(text: str) -> str:
    return textwrap.dedent(text)


def make_context(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write a build context: {relative path: text or bytes}; a path ending in '/' is a directory."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        p = root / rel
        if rel.endswith("/"):
            p.mkdir(parents=True, exist_ok=True)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def check_valid(text: str) -> None:
    parse(text)
    oracle_view(text)  # BuildKit's parser reads it too


def fix(text: str, passes: Iterable[type[Pass]], context: Path | None = None, unsafe: bool = False,
        dockerfile: Path | None = None) -> FixResult:
    """Fix `text`, check the result parses, write its side files, and check a second run changes
    nothing (the fixer loop converged: no finding fires again on its own output)."""
    text = textwrap.dedent(text)
    res = fix_text(text, Linter(list(passes)), unsafe=unsafe, path=dockerfile, context_dir=context)
    check_valid(res.text)
    for path, content in res.files.items():
        Path(path).write_text(content, encoding="utf-8")
    again = fix_text(res.text, Linter(list(passes)), unsafe=unsafe, path=dockerfile, context_dir=context)
    assert again.text == res.text, "not idempotent"
    assert not again.files, "a side file is written again"
    return res


def fix_of(f: Finding) -> Fix:
    """The finding's fix (a test that reads it expects one)."""
    assert f.fix is not None, f
    return f.fix


def findings(text: str, passes: Iterable[type[Pass]], context: Path | None = None,
             dockerfile: Path | None = None) -> list[Finding]:
    return Linter(list(passes)).run(parse(textwrap.dedent(text)), path=dockerfile, context_dir=context)


# -- checks for all DO2xx passes -------------------------------------------------------------

@pytest.mark.parametrize("code", DO2_CODES)
def test_registered_with_docs(code: str) -> None:
    table = by_code()
    assert code in table
    p = table[code]
    docs = p.docs()
    for heading in DOC_HEADINGS:
        assert f"## {heading}" in docs
    assert p.name and p.summary
    assert sum(1 for q in ALL_PASSES if q.code == code) == 1


@pytest.mark.parametrize("code", ["DO201", "DO204"])
def test_passes_needing_a_context_do_nothing_without_one(code: str) -> None:
    text = d("""\
        FROM node:20
        WORKDIR /app
        COPY . .
        RUN npm ci && npm run build
        """)
    assert by_code()[code].needs_context
    assert findings(text, [by_code()[code]]) == []


def test_all_do2_passes_together_on_a_node_project(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ctx", {
        "package.json": '{"name": "a", "version": "1.0.0", "scripts": {"build": "tsc"}}\n',
        "package-lock.json": "{}\n",
        "src/index.ts": "export {}\n",
        "node_modules/left-pad/index.js": "module.exports = 1\n",
        "npm-debug.log": "x" * 500,
        "tool.sh": "#!/bin/sh\necho hi\n",
    })
    passes = [by_code()[c] for c in DO2_CODES]
    res = fix("""\
        FROM node:20-slim
        WORKDIR /app
        ADD tool.sh /usr/local/bin/tool
        COPY . .
        RUN npm ci && npm run build
        CMD ["node", "dist/index.js"]
        """, passes, context=ctx)
    # DO204 excluded node_modules first, then DO201 could hoist; DO203 turned the ADD into COPY
    assert res.text == d("""\
        FROM node:20-slim
        WORKDIR /app
        COPY tool.sh /usr/local/bin/tool
        COPY package.json package-lock.json ./
        RUN npm ci
        COPY . .
        RUN npm run build
        CMD ["node", "dist/index.js"]
        """)
    assert (ctx / ".dockerignore").read_text() == \
        "# Not needed in the image (dockopt DO204)\n**/node_modules\n**/*.log\n"

"""DO208 ignore-deleted: what a RUN deletes right after `COPY .` goes to the ignore file instead."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_pass_do2_common import d, findings, fix, fix_of, make_context

from dockopt.findings import Safety
from dockopt.passes.ignore_deleted import IgnoreDeleted

P = [IgnoreDeleted]
PROJECT = {"app.py": "print(1)\n", "pyproject.toml": "[project]\nname = 'a'\n", "tests/test_a.py": "def test(): pass\n",
           "docs/index.md": "# docs\n"}


def test_deleted_paths_are_excluded_and_the_rm_dropped(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, PROJECT)
    res = fix("""\
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        RUN rm -rf tests docs
        RUN pip install --no-cache-dir .
        """, P, context=ctx)
    assert res.text == d("""\
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        RUN pip install --no-cache-dir .
        """)
    assert (tmp_path / ".dockerignore").read_text().splitlines()[1:] == ["docs", "tests"]


def test_rm_first_in_a_chain_is_taken_out_of_it(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, PROJECT)
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . /app\nRUN rm -rf /app/tests && pip install .\n"
    out = fix(text, P, context=ctx).text
    assert out == "FROM python:3.12\nWORKDIR /app\nCOPY . /app\nRUN pip install .\n"
    assert "tests" in (tmp_path / ".dockerignore").read_text().splitlines()


def test_rm_that_also_deletes_other_files_stays(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, PROJECT)
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests /var/cache/x\n"
    [f] = findings(text, P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE and "the rm stays" in f.message
    assert fix(text, P, context=ctx).text == text
    assert (tmp_path / ".dockerignore").read_text().splitlines()[1:] == ["tests"]


def test_rm_stays_on_an_unknown_base_image(tmp_path: Path) -> None:
    """A company base image may hold /app/tests of its own, which the rm deleted too."""
    ctx = make_context(tmp_path, PROJECT)
    text = "FROM mycorp/python-base\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\n"
    assert fix(text, P, context=ctx).text == text
    assert "tests" in (tmp_path / ".dockerignore").read_text()


def test_kept_rm_without_f_has_no_fix(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, PROJECT)
    [f] = findings("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -r tests /opt/x\n", P, context=ctx)
    assert f.fix is None and "no -f" in f.message


def test_several_dockerfiles_share_the_context(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {**PROJECT, "Dockerfile.test": "FROM python:3.12\nCOPY . .\nRUN pytest tests\n",
                                  ".dockerignore": ".git\n"})
    dockerfile = tmp_path / "Dockerfile"
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\n"
    dockerfile.write_text(text)
    [f] = findings(text, P, context=ctx, dockerfile=dockerfile)
    assert "Dockerfile.test" in f.message
    fix(text, P, context=ctx, dockerfile=dockerfile)
    assert (tmp_path / ".dockerignore").read_text() == ".git\n"      # the other build keeps its tests
    assert (tmp_path / "Dockerfile.dockerignore").read_text().splitlines() == [
        ".git", "# Deleted right after COPY . (dockopt DO208)", "tests"]


@pytest.mark.parametrize(("dockerfile", "why"), [
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\nCOPY tests/ /t/\n", "another COPY names it"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests/test_a.py\nCOPY tests/ /t/\n",
     "a COPY of its directory"),
    ("FROM python:3.12 AS a\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\nFROM python:3.12\nCOPY . .\nRUN pytest\n",
     "another stage copies everything and keeps it"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install . && rm -rf tests\n", "a step ran before the rm"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN echo\nRUN rm -rf tests\n", "a RUN between"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf te*\n", "a glob"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf /app\n", "the whole copy"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf missing\n", "not in the context"),
    ("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf .git node_modules\n", "DO204's business"),
])
def test_not_excluded(tmp_path: Path, dockerfile: str, why: str) -> None:
    ctx = make_context(tmp_path, {**PROJECT, ".git/HEAD": "ref\n", "node_modules/a/index.js": "x"})
    assert findings(dockerfile, P, context=ctx) == [], why


def test_an_exception_in_the_ignore_file_keeps_it(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {**PROJECT, ".dockerignore": "docs\n!docs/index.md\n"})
    [f] = findings("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests docs\n", P, context=ctx)
    assert "deletes tests " in f.message and "docs" not in fix_of(f).title


def test_without_a_context_nothing_is_reported() -> None:
    assert findings("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\n", P) == []


def test_with_do204_in_the_same_run_both_entries_land_in_one_file(tmp_path: Path) -> None:
    from dockopt.passes.dockerignore import Dockerignore

    ctx = make_context(tmp_path, {**PROJECT, ".git/HEAD": "ref\n", "debug.log": "x\n"})
    out = fix("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\n", [Dockerignore, *P], context=ctx).text
    assert out == "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
    lines = (tmp_path / ".dockerignore").read_text().splitlines()
    assert {".git", "**/*.log", "tests"} <= set(lines)

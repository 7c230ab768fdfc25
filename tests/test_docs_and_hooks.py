"""Rule docs (--explain, --list-rules, docs/rules.md) and the pre-commit hooks."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from dockopt import rules_doc
from dockopt.passes import ALL_PASSES
from dockopt.passes.base import DOC_HEADINGS


def test_every_rule_has_docs_under_the_fixed_headings():
    assert ALL_PASSES
    codes = [p.code for p in ALL_PASSES]
    assert len(codes) == len(set(codes)), "a code is registered twice"
    for p in ALL_PASSES:
        docs = p.docs()
        for heading in DOC_HEADINGS:
            assert f"## {heading}" in docs, f"{p.code} lacks '## {heading}'"
        assert p.summary and p.name


@pytest.mark.parametrize("code", [p.code for p in ALL_PASSES])
def test_explain_prints_the_rule_docs(code):
    r = run_cli("--explain", code.lower())
    assert r.returncode == 0
    out = r.stdout.decode()
    assert out.startswith(f"# {code} ")
    assert "## Fix safety" in out


def test_explain_unknown_code_is_an_error():
    r = run_cli("--explain", "DO999")
    assert r.returncode == 2 and b"unknown rule code" in r.stderr


def test_list_rules_lists_every_code():
    out = run_cli("--list-rules").stdout.decode()
    for p in ALL_PASSES:
        assert p.code in out and p.name in out


def test_docs_rules_md_is_up_to_date():
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_doc.render(), "docs/rules.md is stale: run python -m dockopt.rules_doc > docs/rules.md"


def test_readme_links_the_rules_doc():
    assert "docs/rules.md" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_pre_commit_hooks_run_with_try_repo(tmp_path):
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    sample = tmp_path / "sample"
    sample.mkdir()
    df = sample / "Dockerfile"
    df.write_text("FROM debian:bookworm\nUSER nobody\nRUN echo one > /tmp/a\nRUN echo two > /tmp/b\n")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=sample, check=True)
    subprocess.run([*git, "add", "Dockerfile"], cwd=sample, check=True)
    env = {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path)}
    check = subprocess.run([pre_commit, "try-repo", str(REPO), "dockopt", "--files", "Dockerfile"],
                           cwd=sample, capture_output=True, text=True, env=env, timeout=900)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "DO101" in check.stdout
    assert df.read_text().count("RUN") == 2  # the check hook writes nothing
    fixed = subprocess.run([pre_commit, "try-repo", str(REPO), "dockopt-fix", "--files", "Dockerfile"],
                           cwd=sample, capture_output=True, text=True, env=env, timeout=900)
    assert fixed.returncode == 1  # pre-commit fails a hook that modified files
    assert df.read_text().count("RUN") == 1

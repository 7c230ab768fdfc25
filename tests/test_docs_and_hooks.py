"""Rule docs (--explain, --list-rules, docs/rules.md) and the pre-commit hooks."""
from __future__ import annotations

import inspect
import io
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from dockopt import parse, rules_doc
from dockopt.lint import RULES
from dockopt.passes.base import DOC_HEADINGS
from dockopt.suppress import HADOLINT_EQUIVALENTS


def test_every_rule_has_docs_under_the_fixed_headings():
    assert RULES
    codes = [p.code for p in RULES]
    assert len(codes) == len(set(codes)), "a code is registered twice"
    for p in RULES:
        docs = p.docs()
        for heading in DOC_HEADINGS:
            assert f"## {heading}" in docs, f"{p.code} lacks '## {heading}'"
        assert p.summary and p.name
        assert p.severity in ("error", "warning", "info")


def _doc_literal(rule) -> str:
    """The rule's documentation string as written in its source file."""
    module = inspect.getmodule(rule)
    source = inspect.getsource(rule if rule.__doc__ and module.__doc__ != rule.__doc__ else module)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            return token.string
    raise AssertionError(f"{rule.code} has no docstring")


@pytest.mark.parametrize("rule", RULES, ids=[p.code for p in RULES])
def test_docs_keep_line_continuations(rule):
    """A backslash at the end of a line of a docstring vanishes unless the string is raw: the
    Dockerfile examples would lose their continuations in --explain and docs/rules.md."""
    literal = _doc_literal(rule)
    prefix = literal[:literal.index(literal[-1])].lower()
    if "r" not in prefix:
        assert "\\\n" not in literal.replace("\\\\", ""), f"{rule.code}: make the docstring raw (r\"\"\"...)"
    for example in rule.docs().split("```dockerfile\n")[1:]:
        block = example.split("```", 1)[0]
        parse(block)  # every example is a Dockerfile dockopt reads


def test_explain_and_rules_md_show_continuations():
    out = run_cli("--explain", "DO101").stdout.decode()
    assert "RUN apt-get update && \\\n    apt-get install -y curl" in out
    assert "RUN apt-get update && \\\n    apt-get install -y curl" in (REPO / "docs" / "rules.md").read_text()


def test_docs_say_where_each_rule_is_suppressed():
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert ("Suppress with `# dockopt: ignore=DO302`, or hadolint's `# hadolint ignore=DL3002` above the `FROM` the "
            "finding is located on (or above a `USER` of that stage, or its last instruction).") in text
    assert "Suppress with `# dockopt: ignore=DO101`, or hadolint's `# hadolint ignore=DL3059` above the `RUN`" in text
    for rule in RULES:
        section = text.split(f"## {rule.code} {rule.name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"Suppress with `# dockopt: ignore={rule.code}`" in section
        assert f"Severity: {rule.severity}." in section
    for dl, do in HADOLINT_EQUIVALENTS.items():
        assert f"| {dl} | {do} |" in text


@pytest.mark.parametrize("code", [p.code for p in RULES])
def test_explain_prints_the_rule_docs(code):
    r = run_cli("--explain", code.lower())
    assert r.returncode == 0
    out = r.stdout.decode()
    assert out.startswith(f"# {code} ")
    assert "## Fix safety" in out


def test_explain_unknown_code_is_an_error():
    r = run_cli("--explain", "DO999")
    assert r.returncode == 2 and b"unknown rule code DO999 (the nearest is DO900;" in r.stderr


def test_explain_a_hadolint_code_explains_its_equivalent():
    r = run_cli("--explain", "DL3059")
    assert r.returncode == 0
    assert r.stdout.decode().startswith("(DL3059 is hadolint's code; dockopt's equivalent is DO101)\n\n# DO101 ")


def test_list_rules_lists_every_code():
    out = run_cli("--list-rules").stdout.decode()
    for p in RULES:
        assert p.code in out and p.name in out
    assert "DO900  unused-suppression" in out and "DO401  secret-in-arg-env            error" in out


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


def test_the_hooks_start_no_worker_processes():
    # pre-commit runs one hook process per CPU with a batch of files each: a pool in each of them
    # would put CPUs times CPUs processes on the machine
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entries = [line.split(":", 1)[1].split() for line in hooks.splitlines() if line.strip().startswith("entry:")]
    assert len(entries) == 2 and all(e[0] == "dockopt" and "--jobs" in e and e[e.index("--jobs") + 1] == "1"
                                     for e in entries)

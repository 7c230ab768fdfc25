"""The DO2xx passes over every real-world Dockerfile: without a build context (the passes that
need one do nothing) and with a small synthetic context (package.json, requirements files with a
nested -r, go.mod, junk such as .git and node_modules) that exercises their code paths. Nothing
may crash, every rewrite must parse (dockopt and BuildKit's parser) and a second run must change
nothing."""
from __future__ import annotations

import json

import pytest
from test_pass_do2_common import DO2_CODES, check_valid, make_context

from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import by_code

PASSES = [by_code()[c] for c in DO2_CODES]


def synthetic_context(root):
    return make_context(root, {
        "package.json": json.dumps({"name": "x", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}}),
        "package-lock.json": "{}\n",
        "requirements.txt": "flask==3.0\n-r requirements/base.txt\n",
        "requirements/base.txt": "requests\n",
        "go.mod": "module x\n", "go.sum": "",
        "Gemfile": "gem 'rack'\n", "pom.xml": "<project/>\n", "composer.json": "{}",
        "app.py": "print(1)\n", ".git/HEAD": "ref: x\n", "node_modules/a.js": "x", "debug.log": "x" * 100,
        ".env": "A=1\n",
    })


def _run(realworld, context_factory, unsafe):
    linter = Linter(PASSES)
    problems, changed, applied = [], 0, {}
    for name, text in realworld:
        ctx = context_factory()
        res = fix_text(text, linter, unsafe=unsafe, context_dir=ctx)
        for f in res.applied:
            applied[f.code] = applied.get(f.code, 0) + 1
        if not res.changed:
            continue
        changed += 1
        try:
            check_valid(res.text)
        except Exception as exc:
            problems.append(f"{name}: {exc}")
            continue
        for path, content in res.files.items():
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(content)
        again = fix_text(res.text, linter, unsafe=unsafe, context_dir=ctx)
        if again.text != res.text or again.files:
            problems.append(f"{name}: not idempotent")
    return problems, changed, applied


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_without_a_context(realworld, unsafe):
    problems, _changed, applied = _run(realworld, lambda: None, unsafe)
    assert problems == []
    assert "DO201" not in applied and "DO204" not in applied  # they need a context
    assert applied.get("DO203", 0) > 20


@pytest.mark.slow
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_with_a_synthetic_context(realworld, tmp_path_factory, unsafe):
    problems, _changed, applied = _run(
        realworld, lambda: synthetic_context(tmp_path_factory.mktemp("ctx")), unsafe)
    assert problems == []
    assert applied.get("DO201", 0) >= 4 and applied.get("DO204", 0) > 100

"""Every rewrite of every real-world file re-parses, is accepted by BuildKit's parser, and is
idempotent (a second --write changes nothing) — safe fixes alone and with --unsafe-fixes."""
from __future__ import annotations

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.fixer import FixerError, fix_text
from dockopt.lint import Linter
from dockopt.lint import check_buildable as check_instructions
from dockopt.passes.base import Context


def shell_errors(tree) -> int:
    """RUN scripts that do not parse as shell (a rewrite must not add any)."""
    ctx = Context(tree)
    return sum(1 for ins in tree.instructions if ins.keyword == "RUN" and (ctx.script(ins) or _OK).has_error)


class _OK:
    has_error = False


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_realworld_rewrites_are_valid_and_idempotent(realworld, unsafe):
    linter = Linter()
    changed = 0
    problems = []
    for name, text in realworld:
        try:
            check_instructions(parse(text))
        except Exception:
            continue  # Docker would not build it either
        try:
            res = fix_text(text, linter, unsafe=unsafe)
        except FixerError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not res.changed:
            continue
        changed += 1
        out = res.text
        try:
            new_tree = parse(out)
            check_instructions(new_tree)  # e.g. a wrong escape char would split an instruction
            oracle_view(out)
        except Exception as exc:
            problems.append(f"{name}: rewrite rejected: {exc}")
            continue
        if shell_errors(new_tree) > shell_errors(parse(text)):
            problems.append(f"{name}: a rewritten RUN is no longer valid shell")
        again = fix_text(out, linter, unsafe=unsafe)
        if again.text != out:
            problems.append(f"{name}: not idempotent")
    assert problems == []
    assert changed > 100  # the passes do find work in real files

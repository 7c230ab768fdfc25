"""DO101-DO112 over the fixture Dockerfiles in tests/fixtures/passes/DO1*/<case>/: the rules run
together, safe fixes alone (`expected`) and with --unsafe-fixes (`expected.unsafe`); a missing
expected file means the case must stay as it is. Each output re-parses, BuildKit's parser
accepts it, and fixing it again changes nothing.

Set DOCKOPT_REGEN=1 to rewrite the expected files from the current output (then review them).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "passes"
CASES = sorted(p for p in FIXTURES.glob("DO1*/*") if (p / "Dockerfile").exists())
CODES = {f"DO1{n:02d}" for n in range(1, 13)}


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_fixture(case: Path, unsafe: bool):
    linter = Linter([p for p in ALL_PASSES if p.code in CODES])
    before = _read(case / "Dockerfile")
    out = fix_text(before, linter, unsafe=unsafe).text
    expected_file = case / ("expected.unsafe" if unsafe else "expected")
    if os.environ.get("DOCKOPT_REGEN"):
        if out != before:
            expected_file.write_bytes(out.encode("utf-8"))
        elif expected_file.exists():
            expected_file.unlink()
    expected = _read(expected_file) if expected_file.exists() else before
    assert out == expected
    parse(out)
    oracle_view(out)
    assert fix_text(out, linter, unsafe=unsafe).text == out

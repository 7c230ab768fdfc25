"""Time linear in size: parse and full fix of generated Dockerfiles at 1x, 2x, 4x and 8x.

    .venv/bin/python -m pytest bench/test_scaling.py

The summary prints time per instruction at each size; flat numbers mean linear time.
"""
from __future__ import annotations

import pytest

import dockopt
from dockopt.fixer import fix_text
from dockopt.lint import Linter

PER_SIZE: dict[tuple[str, int], float] = {}
SIZES = [5000, 10000, 20000, 40000]


def many_instructions(n: int) -> str:
    return "FROM debian\n" + "".join(f"RUN echo {i}\nCOPY a{i} /b{i}\n" for i in range(n // 2))


def one_long_run(n: int) -> str:
    return "FROM debian\nRUN echo start " + "".join(f"&& echo {i} \\\n" for i in range(n)) + "&& true\n"


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("shape", ["many-instructions", "one-continued-run"])
def test_parse_scales_linearly(benchmark, shape, n):
    text = many_instructions(n) if shape == "many-instructions" else one_long_run(n)
    dockopt.parse("FROM x")
    benchmark.group = f"parse {shape}"
    tree = benchmark.pedantic(dockopt.parse, args=(text,), rounds=3, iterations=1)
    assert tree.to_source() == text
    PER_SIZE[(f"parse {shape}", n)] = benchmark.stats.stats.min / n


@pytest.mark.parametrize("n", SIZES[:3])
def test_fix_scales_linearly(benchmark, n):
    text = many_instructions(n)
    benchmark.group = "fix many-instructions"
    res = benchmark.pedantic(fix_text, args=(text, Linter()), rounds=2, iterations=1)
    assert res.text
    PER_SIZE[("fix many-instructions", n)] = benchmark.stats.stats.min / n


def scaling_lines() -> list[str]:
    out = []
    for what in sorted({k[0] for k in PER_SIZE}):
        cells = [f"{n}: {PER_SIZE[(what, n)] * 1e6:.1f}us" for n in SIZES if (what, n) in PER_SIZE]
        out.append(f"{what:<28} per line/instruction  " + "  ".join(cells))
    return out

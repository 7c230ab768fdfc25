"""Inputs the fuzzer (bench/fuzz.py) once broke stay fixed; plus a short bounded fuzz run."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.fuzz import FIXTURES, check_one, mutate, seeds

CASES = sorted(FIXTURES.glob("*.Dockerfile"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_saved_fuzz_input_holds_every_property(path: Path):
    assert check_one(path.read_bytes()) is None


def test_bounded_fuzz_run():
    rng = random.Random(20261201)
    pool = seeds(None)
    broken = []
    for _ in range(300):
        raw = mutate(rng.choice(pool), rng)
        why = check_one(raw)
        if why:
            broken.append((why, raw[:200]))
    assert broken == []

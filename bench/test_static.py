"""pytest-benchmark suite over the shared real-world corpus, peers timed in the same run.

    .venv/bin/python -m pytest bench/test_static.py --benchmark-group-by=group

The ratio lines at the end compare each tool's mean time to BuildKit's parser (the `dockerfile`
package) measured in this same run; absolute times depend on the machine and its load.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.static import DEFAULT_CORPUS, _task_fn, corpus_files

RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def texts() -> list[str]:
    if not DEFAULT_CORPUS.exists():
        pytest.skip(f"{DEFAULT_CORPUS} not found (the shared corpus lives beside the checkout)")
    return [p.read_bytes().decode("utf-8") for p in corpus_files(DEFAULT_CORPUS)]


def _bench(benchmark, texts, task):
    fn = _task_fn(task)
    fn(texts[0])  # warm caches (grammar tables, imports) outside the timing

    def run():
        for t in texts:
            fn(t)
    benchmark.group = "parse the corpus"
    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    RESULTS[task] = benchmark.stats.stats.mean


@pytest.mark.parametrize("task", ["buildkit", "parse", "dockerfile-parse"])
def test_parse_corpus(benchmark, texts, task):
    _bench(benchmark, texts, task)


@pytest.mark.parametrize("task", ["check", "rewrite"])
def test_passes_corpus(benchmark, texts, task):
    _bench(benchmark, texts, task)


def test_parse_peak_memory(texts):
    """Peak RSS of a process that parses the whole corpus, minus one that only imports."""
    code = ("import resource, sys, dockopt\n"
            "from bench.static import corpus_files, DEFAULT_CORPUS\n"
            "files = corpus_files(DEFAULT_CORPUS)\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "for p in files: dockopt.parse(p.read_bytes().decode('utf-8'))\n"
            "print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.split()
    base, peak = int(out[0]), int(out[1])
    print(f"\npeak RSS parsing the corpus: {peak / 1024:.1f} MiB (after import: {base / 1024:.1f} MiB)")
    # parsing one file at a time keeps no tree alive: the whole corpus costs little over import
    assert peak - base < 200 * 1024


def pytest_terminal_summary_lines() -> list[str]:
    base = RESULTS.get("buildkit")
    if not base:
        return []
    return [f"{task:<18} {mean:8.3f}s  {mean / base:5.2f}x BuildKit's parser" for task, mean in RESULTS.items()]

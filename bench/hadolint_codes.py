"""hadolint's findings per code over a corpus, before and after `dockopt --write --unsafe-fixes`.

    python -m bench.hadolint_codes [CORPUS_DIR] [--jobs N] [--limit N] [--safe] [--keep DIR]
                                   [--show CODE] [--blame]

The corpus files (those listed in CORPUS_DIR/manifest.tsv, the shared real-world corpus by
default) are copied into a temporary directory; hadolint (json format, `--no-fail`) reads the
copies, `dockopt --write --unsafe-fixes` rewrites them in place, and hadolint reads them again.
Work is spread over a process pool in chunks. The table lists the codes dockopt's package-manager
and merge rules target, then every other code whose count changed; the last line gives the total
drop of the target codes. Then, for every other code that rose, the files it rose in (count
before -> after). `--blame` reruns those files with one pass at a time (`dockopt --select
CODE`) and names the passes that alone raise the code in the file. `--show CODE` prints where
that code appears after the rewrite (to look at what is left).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "realworld"
TARGET_CODES = ("DL3009", "DL3014", "DL3015", "DL3019", "DL3042", "DL3059", "DL3032", "DL3036",
                "DL3040", "DL3060")
CHUNK = 32


def corpus_files(root: Path) -> list[str]:
    manifest = root / "manifest.tsv"
    if manifest.exists():
        rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
        return [row.split("\t")[0] for row in rows if row]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*Dockerfile*") if p.is_file())


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def hadolint_exe() -> str:
    return shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


def hadolint_chunk(paths: list[str]) -> list[tuple[str, str, int]]:
    """(file, code, line) of every hadolint finding in the files."""
    proc = subprocess.run([hadolint_exe(), "--no-fail", "--format", "json", *paths],
                          capture_output=True, timeout=3600)
    try:
        results = json.loads(proc.stdout.decode("utf-8", "replace") or "[]")
    except json.JSONDecodeError:
        # one unreadable file spoils the chunk's output: read the files one by one
        if len(paths) == 1:
            return []
        return [r for p in paths for r in hadolint_chunk([p])]
    return [(r.get("file", ""), r.get("code", "?"), r.get("line", 0)) for r in results]


def dockopt_chunk(args: tuple[list[str], bool, str | None]) -> tuple[int, int]:
    """Rewrite the files in place; (files, files dockopt failed on)."""
    paths, unsafe, select = args
    cmd = [sys.executable, "-m", "dockopt", "--write", "-q", *(["--unsafe-fixes"] if unsafe else []),
           *(["--select", select] if select else []), *paths]
    proc = subprocess.run(cmd, capture_output=True, timeout=3600)
    failed = 0
    if proc.returncode not in (0, 1):
        # tell the files apart: run them one by one
        for p in paths:
            one = subprocess.run([*cmd[:-len(paths)], p], capture_output=True, timeout=600)
            failed += one.returncode not in (0, 1)
    return len(paths), failed


def hadolint_all(paths: list[str], jobs: int) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for found in pool.map(hadolint_chunk, chunks(paths, CHUNK)):
            out += found
    return out


def corpus_parser(doc: str) -> argparse.ArgumentParser:
    """The options every corpus bench takes: the corpus directory, --jobs, --limit."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--limit", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = corpus_parser(__doc__)
    ap.add_argument("--safe", action="store_true", help="safe fixes only (no --unsafe-fixes)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temp dir")
    ap.add_argument("--show", metavar="CODE", action="append", default=[],
                    help="list where CODE is found after the rewrite")
    ap.add_argument("--select", metavar="CODES", help="pass --select CODES to dockopt (e.g. DO1)")
    ap.add_argument("--blame", action="store_true",
                    help="name the pass that raises each code that rose, one pass at a time")
    ap.add_argument("--before-cache", metavar="FILE",
                    help="read hadolint's findings on the originals from FILE (written there if absent)")
    args = ap.parse_args(argv)

    root = Path(args.corpus)
    names = corpus_files(root)
    if args.limit:
        names = names[:args.limit]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dockopt-hadolint-"))
    try:
        copies = _copy(root, names, work)
        before = _before(args.before_cache, copies, work, args.jobs)
        failed = 0
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for _n, f in pool.map(dockopt_chunk, [(c, not args.safe, args.select) for c in chunks(copies, CHUNK)]):
                failed += f
        after = hadolint_all(copies, args.jobs)
        if args.keep:
            prefix = str(work / "files") + os.sep
            (work / "after.json").write_text(json.dumps([(f.removeprefix(prefix), c, line) for f, c, line in after]),
                                             encoding="utf-8")
        report(Counter(c for _f, c, _l in before), Counter(c for _f, c, _l in after), len(copies), failed)
        prefix = str(work / "files") + os.sep
        rose = rose_by_file(before, after, prefix)
        blame = blame_passes(root, rose, work, args.jobs, not args.safe) if args.blame else {}
        report_rose(rose, blame)
        for code in args.show:
            for f, c, line in sorted(after):
                if c == code:
                    print(f"{code} {f.removeprefix(prefix)}:{line}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _before(cache: str | None, copies: list[str], work: Path, jobs: int) -> list[tuple[str, str, int]]:
    """hadolint on the originals, with file names relative to the work dir (so a cache is reusable)."""
    prefix = str(work / "files") + os.sep
    if cache and Path(cache).exists():
        rows = json.loads(Path(cache).read_text(encoding="utf-8"))
        wanted = {c.removeprefix(prefix) for c in copies}
        return [(prefix + f, c, line) for f, c, line in rows if f in wanted]
    found = hadolint_all(copies, jobs)
    if cache:
        Path(cache).write_text(json.dumps([(f.removeprefix(prefix), c, line) for f, c, line in found]),
                               encoding="utf-8")
    return found


def report(before: Counter, after: Counter, files: int, failed: int) -> None:
    others = sorted(c for c in set(before) | set(after) if c not in TARGET_CODES and before[c] != after[c])
    print(f"{files} files, dockopt refused {failed} (files it cannot parse are left as they are)")
    print(f"{'code':<8} {'before':>7} {'after':>7} {'change':>8}")
    for code in (*TARGET_CODES, *others):
        b, a = before[code], after[code]
        pct = f"{(a - b) / b * 100:+.0f}%" if b else ("+new" if a else "")
        mark = "" if code in TARGET_CODES else ("  <- increased" if a > b else "")
        print(f"{code:<8} {b:>7} {a:>7} {pct:>8}{mark}")
    tb = sum(before[c] for c in TARGET_CODES)
    ta = sum(after[c] for c in TARGET_CODES)
    drop = (tb - ta) / tb * 100 if tb else 0.0
    increased = [c for c in others if after[c] > before[c]]
    print(f"target codes: {tb} -> {ta} ({drop:.1f}% drop); other codes increased: "
          f"{', '.join(increased) if increased else 'none'}")


Rose = dict[str, list[tuple[str, int, int]]]


def rose_by_file(before: list[tuple[str, str, int]], after: list[tuple[str, str, int]], prefix: str) -> Rose:
    """{code: [(file, count before, count after)]} for the codes, not targeted, whose total rose,
    with the files where they rose."""
    per_b = Counter((f.removeprefix(prefix), c) for f, c, _l in before)
    per_a = Counter((f.removeprefix(prefix), c) for f, c, _l in after)
    tot_b = Counter(c for _f, c in per_b.elements())
    tot_a = Counter(c for _f, c in per_a.elements())
    rose: Rose = {}
    for (f, c), n in sorted(per_a.items()):
        if c not in TARGET_CODES and tot_a[c] > tot_b[c] and n > per_b[(f, c)]:
            rose.setdefault(c, []).append((f, per_b[(f, c)], n))
    return rose


def blame_passes(root: Path, rose: Rose, work: Path, jobs: int, unsafe: bool) -> dict[tuple[str, str], list[str]]:
    """{(file, code): [pass codes that alone raise code in file]}: each pass is run by itself
    over fresh copies of the files."""
    from dockopt.passes import ALL_PASSES

    names = sorted({f for rows in rose.values() for f, _b, _a in rows})
    if not names:
        return {}
    base = Counter((f, c) for f, c, _l in _hadolint_copies(root, names, work / "blame" / "none", jobs))
    blame: dict[tuple[str, str], list[str]] = {}
    for p in ALL_PASSES:
        copies = _copy(root, names, work / "blame" / p.code)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(dockopt_chunk, [(c, unsafe, p.code) for c in chunks(copies, CHUNK)]))
        prefix = str(work / "blame" / p.code / "files") + os.sep
        got = Counter((f.removeprefix(prefix), c) for f, c, _l in hadolint_all(copies, jobs))
        for code, rows in rose.items():
            for f, _b, _a in rows:
                if got[(f, code)] > base[(f, code)]:
                    blame.setdefault((f, code), []).append(p.code)
    return blame


def _copy(root: Path, names: list[str], work: Path) -> list[str]:
    out = []
    for name in names:
        dst = work / "files" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / name, dst)
        out.append(str(dst))
    return out


def _hadolint_copies(root: Path, names: list[str], work: Path, jobs: int) -> list[tuple[str, str, int]]:
    prefix = str(work / "files") + os.sep
    return [(f.removeprefix(prefix), c, line) for f, c, line in hadolint_all(_copy(root, names, work), jobs)]


def report_rose(rose: Rose, blame: dict[tuple[str, str], list[str]]) -> None:
    for code, rows in sorted(rose.items()):
        print(f"{code} rose in {len(rows)} file(s):")
        for f, b, a in rows:
            who = blame.get((f, code))
            tail = f"  [{', '.join(who)}]" if who else ("  [no single pass]" if blame else "")
            print(f"  {f}: {b} -> {a}{tail}")


if __name__ == "__main__":
    raise SystemExit(main())

"""Findings per file over a corpus, by code: how many findings, how many with a safe fix, with an
unsafe fix, without a fix.

    python -m bench.findings [CORPUS_DIR] [--jobs N] [--limit N] [--save FILE] [--compare FILE]

Every file listed in CORPUS_DIR/manifest.tsv (the shared real-world corpus by default) is read by
`dockopt --format json` in report mode, its directory as the build context. `--save` writes the
counts as JSON; `--compare` prints them beside counts saved by an earlier run (another commit),
so a change to the rules shows as findings per file before and after, code by code.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .hadolint_codes import chunks, corpus_files, corpus_parser

CHUNK = 64
KINDS = ("findings", "safe", "unsafe", "none")


def count_chunk(args: tuple[str, list[str]]) -> dict[str, Any]:
    """{"files": n, "errors": n, "<kind>": {code: count}} for one chunk of files."""
    root, names = args
    proc = subprocess.run([sys.executable, "-m", "dockopt", "--format", "json", "--exit-zero", *names],
                          cwd=root, capture_output=True, text=True, timeout=3600, check=False)
    doc = json.loads(proc.stdout or "{}")
    out: dict[str, Any] = {"files": 0, "errors": 0, **{k: Counter() for k in KINDS}}
    for f in doc.get("files", []):
        out["files"] += 1
        if f.get("error"):
            out["errors"] += 1
            continue
        for finding in f.get("findings", []):
            code = finding["code"]
            out["findings"][code] += 1
            fix = finding.get("fix")
            out[fix["safety"] if fix and fix.get("safety") in ("safe", "unsafe") else "none"][code] += 1
    return out


def count(root: Path, names: list[str], jobs: int) -> dict[str, Any]:
    total: dict[str, Any] = {"files": 0, "errors": 0, **{k: Counter() for k in KINDS}}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for part in pool.map(count_chunk, [(str(root), c) for c in chunks(names, CHUNK)]):
            total["files"] += part["files"]
            total["errors"] += part["errors"]
            for k in KINDS:
                total[k].update(part[k])
    return total


def render(now: dict[str, Any], before: dict[str, Any] | None) -> str:
    files = max(now["files"] - now["errors"], 1)
    lines = [f"{now['files']} files ({now['errors']} not read)"]
    head = f"{'code':<7} {'findings':>9} {'safe':>6} {'unsafe':>7} {'no fix':>7}"
    if before is not None:
        head += f"   {'before':>9} {'safe':>6} {'unsafe':>7} {'no fix':>7}"
    lines.append(head)
    codes = sorted(set(now["findings"]) | set(before["findings"] if before else {}))
    for code in [*codes, "total"]:
        row = f"{code:<7}" + "".join(f" {_get(now, k, code):>{w}}" for k, w in zip(KINDS, (9, 6, 7, 7), strict=True))
        if before is not None:
            row += "  " + "".join(f" {_get(before, k, code):>{w}}" for k, w in zip(KINDS, (9, 6, 7, 7), strict=True))
        lines.append(row)
    per_file = sum(now["findings"].values()) / files
    tail = f"findings per file: {per_file:.3f}"
    if before is not None:
        b_files = max(before["files"] - before["errors"], 1)
        tail += f" (before {sum(before['findings'].values()) / b_files:.3f})"
    lines.append(tail)
    return "\n".join(lines)


def _get(counts: dict[str, Any], kind: str, code: str) -> int:
    table = counts[kind]
    return int(sum(table.values())) if code == "total" else int(table.get(code, 0))


def main(argv: list[str] | None = None) -> int:
    ap = corpus_parser(__doc__)
    ap.add_argument("--save", metavar="FILE", help="write the counts as JSON")
    ap.add_argument("--compare", metavar="FILE", help="print beside the counts saved in FILE")
    args = ap.parse_args(argv)
    root = Path(args.corpus)
    names = corpus_files(root)
    if not names:
        ap.error(f"no Dockerfiles listed or found under {root}")
    if args.limit:
        names = names[:args.limit]
    now = count(root, names, args.jobs)
    if args.save:
        Path(args.save).write_text(json.dumps(now, indent=1, sort_keys=True), encoding="utf-8")
    before = None
    if args.compare:
        raw = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        before = {k: (Counter(v) if k in KINDS else v) for k, v in raw.items()}
    print(render(now, before))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`dockopt --write --unsafe-fixes --verify` over the corpus: which fixes are proven, which rejected
(by the check that failed), how many builds each file costs; then the written file is built again
and its smoke test run against the case's expected output.

    python -m bench.prove_corpus [CASE...] [--json bench/results/proven.json]
                                 [--report bench/results/verify-fixes.md]

Each case directory is copied to a temp dir, dockopt proves and writes the copy with the case's
smoke command (case.toml), and the written Dockerfile is built again with `docker buildx build` and its
smoke command run (`sh -c` when the image has /bin/sh, else the argv), the output compared with
`expect_output` / `expect_contains`.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.outcomes import RESULTS, case_dirs, load_case

DOCKOPT = Path(sys.executable).parent / "dockopt"
LABEL = "org.dockopt.bench.prove"


def prove_case(case: Path) -> dict:
    meta = load_case(case)
    with tempfile.TemporaryDirectory(prefix="dockopt-prove-") as tmp:
        work = Path(tmp) / case.name
        shutil.copytree(case, work)
        original = (work / "Dockerfile").read_text(encoding="utf-8")
        argv = [str(DOCKOPT), "--write", "--unsafe-fixes", "--verify", "--format", "json", "--timeout", "900"]
        if meta.get("smoke"):
            argv += ["--smoke", meta["smoke"]]
        started = time.monotonic()
        p = subprocess.run([*argv, str(work / "Dockerfile")], capture_output=True, text=True, timeout=3600)
        seconds = time.monotonic() - started
        out: dict = {"case": case.name, "kind": meta.get("kind"), "exit": p.returncode, "seconds": round(seconds, 1)}
        start = p.stdout.find("{")
        if start < 0:
            out["error"] = (p.stderr or p.stdout).strip()[-400:] or "no output"
            return out
        file = json.loads(p.stdout[start:])["files"][0]
        proof = file.get("proof")
        if proof is None:
            out["proof"] = None
            out["message"] = file.get("message") or (p.stderr.strip()[-400:])
        else:
            out["proof"] = proof
        written = (work / "Dockerfile").read_text(encoding="utf-8")
        out["changed"] = written != original
        out["check"] = check_written(work, meta)
        return out


def check_written(work: Path, meta: dict) -> dict:
    """Build the file as written and run the case's smoke test."""
    tag = f"dockopt-prove-check:{uuid.uuid4().hex[:12]}"
    b = subprocess.run(["docker", "buildx", "build", "--load", "--label", f"{LABEL}=1", "-t", tag,
                        str(work)], capture_output=True, text=True, timeout=1800)
    if b.returncode != 0:
        return {"builds": False, "smoke_ok": False, "error": b.stderr.strip().splitlines()[-3:]}
    try:
        smoke = meta.get("smoke")
        if not smoke:
            return {"builds": True, "smoke_ok": True}
        has_sh = subprocess.run(["docker", "run", "--rm", "--entrypoint", "/bin/sh", tag, "-c", "true"],
                                capture_output=True, timeout=120).returncode == 0
        argv = ["--entrypoint", "/bin/sh", tag, "-c", smoke] if has_sh else \
            ["--entrypoint", smoke.split()[0], tag, *smoke.split()[1:]]
        r = subprocess.run(["docker", "run", "--rm", *argv], capture_output=True, text=True, timeout=600)
        output = r.stdout.strip()
        ok = r.returncode == 0
        if "expect_output" in meta:
            ok = ok and output == meta["expect_output"].strip()
        if "expect_contains" in meta:
            ok = ok and meta["expect_contains"] in output
        return {"builds": True, "smoke_ok": ok, "output": output[-300:]}
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)


def render(results: list[dict], minutes: float) -> str:
    proven = Counter()
    rejected: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    builds, tests = [], []
    for r in results:
        proof = r.get("proof")
        if not proof:
            continue
        proven["fixes"] += len(proof["kept"])
        proven["unsafe"] += sum(1 for f in proof["kept"] if f["code"] in ("DO106", "DO301", "DO302", "DO306"))
        for rej in proof["rejected"]:
            rejected[rej["check"]] += 1
            by_code[rej["code"]] += 1
        builds.append(proof["builds"]["original"] + proof["builds"]["rewrite"])
        tests.append(proof["tests"])
    ok = [r for r in results if r.get("check", {}).get("builds") and r["check"].get("smoke_ok")]
    lines = [
        "# `--write --unsafe-fixes --verify` over the corpus",
        "",
        f"Produced by `python -m bench.prove_corpus` in {minutes:.0f} minutes (BuildKit, the smoke command "
        "of each case, 2 shared cores). After dockopt wrote a case, the written file was built again "
        "(docker buildx build) and its smoke test run against the expected output.",
        "",
        f"* Cases: {len(results)}; the written file builds and passes its smoke test in **{len(ok)}**.",
        f"* Fixes proven and written: {proven['fixes']} (of them DO106/DO301/DO302/DO306: {proven['unsafe']}).",
        f"* Fixes rejected: {sum(rejected.values())} — by check: "
        + (", ".join(f"{k} {v}" for k, v in sorted(rejected.items())) or "none")
        + "; by rule: " + (", ".join(f"{k} {v}" for k, v in sorted(by_code.items())) or "none") + ".",
    ]
    if builds:
        lines.append(f"* Builds per file (original + rewrites): median {statistics.median(builds):g}, "
                     f"max {max(builds)}; candidates checked per file: median {statistics.median(tests):g}, "
                     f"max {max(tests)}.")
    lines += ["", "| case | verdict | kept | rejected (check) | builds | written file builds / smoke |",
              "|---|---|---|---|---|---|"]
    for r in results:
        proof = r.get("proof") or {}
        kept = ", ".join(f["code"] for f in proof.get("kept", [])) or "none"
        rej = ", ".join(f"{f['code']} ({f['check']})" for f in proof.get("rejected", [])) or "none"
        b = proof.get("builds") or {}
        check = r.get("check") or {}
        verdict = proof.get("verdict") or r.get("message") or r.get("error", "")
        lines.append(f"| {r['case']} | {verdict} | {kept} | {rej} | "
                     f"{b.get('original', 0)} + {b.get('rewrite', 0)} | "
                     f"{'yes' if check.get('builds') else 'NO'} / {'ok' if check.get('smoke_ok') else 'FAIL'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--json", default=str(RESULTS / "proven.json"))
    ap.add_argument("--report", default=str(RESULTS / "verify-fixes.md"))
    args = ap.parse_args(argv)
    started = time.monotonic()
    results = []
    for case in case_dirs(args.cases or None):
        result = prove_case(case)
        results.append(result)
        print(json.dumps({k: result.get(k) for k in ("case", "exit", "seconds", "changed", "check")}), flush=True)
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    Path(args.report).write_text(render(results, (time.monotonic() - started) / 60), encoding="utf-8")
    return 0 if all(r.get("check", {}).get("smoke_ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

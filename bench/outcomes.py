"""Outcome harness: build every corpus case before and after dockopt, in each fix mode.

    python -m bench.outcomes [CASE...] [--modes safe,unsafe,verified,expert] [--merge]
                             [--backend auto|buildkit|classic]
                             [--builders B1,B2 | --hosts H1,H2] [--per-host N] [--repeat N]
                             [--report bench/results/REPORT.md] [--json bench/results/outcomes.json]
                             [--beside bench/results/outcomes-classic.json]

For each case of corpus/ and each mode (safe: `--write`; unsafe: `--write --unsafe-fixes`;
verified: `--write --unsafe-fixes --verify`, the rewrite dockopt's prover keeps) the case
directory is copied to a temp dir, dockopt rewrites the copy, and the verifier builds the original
and the rewrite in that context (the original with the case's ignore file, the rewrite with the
one its fixes write, if any): image size, layers, wasted
bytes (dive's definition), cold build time, rebuild after editing the case's source file and
after editing its manifest, and the case's smoke command in both images, checked against the
expected output in case.toml. The same rewrite in two modes is built once. The verified mode
also records what the prover did: the fixes it proved, those it rejected with the check that
rejected them, the builds it took and how many of them the bisection cost (see `proof_summary`).

--merge merges a run of some cases or modes into the results already in --json: the cases and
modes run replace theirs, the others keep their figures (`--modes verified --merge` adds the
verified mode to a report of the other modes).

A case with an `expert.Dockerfile` (written as a senior engineer would, without looking at
dockopt's output) is also built in the `expert` mode: the expert's file against the original, in
the same context. For each fix mode the report then gives the share of the expert's gain that
dockopt captures, captured = (O - D) / (O - E), for the image size and for the steps re-run after a
source edit (O original, D dockopt's rewrite, E the expert's), and flags every case whose rewrite
re-runs more steps after a source edit than the original.

Builds run on BuildKit through `docker buildx build` (`--backend auto`, the default, falls back to
the classic builder only when there is no buildx plugin). They can be spread over several buildx
builders, of any driver: --builders takes a comma-separated list of builder names; or over several
engines: --hosts takes a comma-separated list of DOCKER_HOST values (default: the DOCKER_HOST of the
environment, else the local socket). --per-host says how many cases each builder or engine builds
at once. The report (Markdown, with a PNG chart next to it) names the engine and builder versions
and gives a table per case and the totals the project tracks; --beside adds the figures of another
run (by default the classic builder's, bench/results/outcomes-classic.json) next to them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
RESULTS = REPO / "bench" / "results"
CLASSIC_JSON = RESULTS / "outcomes-classic.json"
MODES = ("safe", "unsafe", "verified", "expert")
FIX_MODES = ("safe", "unsafe", "verified")
EXPERT = "expert.Dockerfile"
RETRIED_VERDICTS = frozenset({"original-failed", "rewritten-failed"})
BUILD_ONLY_FIXES = frozenset({"DO112"})   # fixes that change how an image is built, not its content


def case_dirs(names: list[str] | None = None) -> list[Path]:
    cases = sorted(p for p in CORPUS.iterdir() if (p / "case.toml").exists())
    if names:
        wanted = set(names)
        cases = [c for c in cases if c.name in wanted or c.name.split("-", 1)[0] in wanted]
    return cases


def load_case(case: Path) -> dict:
    return tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))


def _fix(original: str, dockerfile: Path, workdir: Path, unsafe: bool):
    """The codes that fire on the original, and what `--write` (with `--unsafe-fixes` when unsafe) makes of it."""
    from dockopt.config import load_settings
    from dockopt.fixer import fix_text
    from dockopt.lint import Linter
    from dockopt.syntax import parse

    settings = load_settings(dockerfile)
    linter = Linter()
    fired = sorted({f.code for f in linter.run(parse(original), path=dockerfile, context_dir=workdir,
                                               settings=settings)})
    return fired, fix_text(original, linter, unsafe=unsafe, path=dockerfile, context_dir=workdir, settings=settings)


def rewrite(case: Path, workdir: Path, unsafe: bool) -> dict:
    """dockopt over a copy of the case; returns the texts and what fired."""
    shutil.copytree(case, workdir, dirs_exist_ok=True)
    dockerfile = workdir / "Dockerfile"
    original = dockerfile.read_text(encoding="utf-8")
    fired, res = _fix(original, dockerfile, workdir, unsafe)
    ignore = None
    for path, text in res.files.items():
        if Path(path).name.endswith(".dockerignore"):
            ignore = text   # the rewrite's build reads it; the original's keeps the case's own
        else:
            Path(path).write_text(text, encoding="utf-8")
    return {"original": original, "rewritten": res.text, "changed": res.changed,
            "fixes": sorted(f"{f.code}" for f in res.applied), "fired": fired,
            "side_files": sorted(os.path.relpath(p, workdir) for p in res.files),
            "rewritten_dockerignore": ignore}


def _files_of(workdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(workdir)): p.read_bytes() for p in sorted(workdir.rglob("*")) if p.is_file()}


def verified_rewrite(case: Path, workdir: Path, *, smoke: str | None, timeout: float, backend: str = "auto",
                     builder: str | None = None) -> dict:
    """`dockopt --write --unsafe-fixes --verify` over a copy of the case, as a user runs it: the
    proven rewrite it writes, and what its prover did (`proof`, see `proof_summary`).

    The work copy is left as the case has it, as `rewrite` leaves it: the written Dockerfile and
    the ignore file it writes are returned (the rewrite's build reads them), not kept in the copy."""
    from dockopt.findings import Safety
    from dockopt.proof import key_of

    shutil.copytree(case, workdir, dirs_exist_ok=True)
    dockerfile = workdir / "Dockerfile"
    before = _files_of(workdir)
    original = before["Dockerfile"].decode("utf-8")
    fired, candidate = _fix(original, dockerfile, workdir, unsafe=True)
    argv = [sys.executable, "-m", "dockopt", "--write", "--unsafe-fixes", "--verify", "--format", "json",
            "--timeout", f"{timeout:g}", "--backend", backend]
    if builder:
        argv += ["--builder", builder]
    if smoke:
        argv += ["--smoke", smoke]
    started = time.monotonic()
    try:
        p = subprocess.run([*argv, str(dockerfile)], capture_output=True, text=True, cwd=workdir,
                           timeout=max(3600.0, 8 * timeout))
        exit_code, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as exc:
        exit_code, stdout, stderr = None, "", f"dockopt --verify did not finish in {exc.timeout:.0f}s"
    seconds = time.monotonic() - started
    # what the run wrote: the Dockerfile and its side files; the copy gets the case's files back
    ignore, side_files = None, []
    rewritten = original
    for name, data in _files_of(workdir).items():
        if before.get(name) == data:
            continue
        text = data.decode("utf-8")
        if name == "Dockerfile":
            rewritten = text
        elif name.endswith(".dockerignore"):
            ignore = text
            side_files.append(name)
        else:
            side_files.append(name)     # read by both builds, as `rewrite` leaves it
            continue
        if name in before:
            (workdir / name).write_bytes(before[name])
        else:
            (workdir / name).unlink()
    unsafe_keys = {key_of(f) for f in candidate.applied if f.fix is not None and f.fix.safety is Safety.UNSAFE}
    proof = proof_summary(stdout, stderr, exit_code, unsafe_keys)
    proof["seconds"] = round(seconds, 1)
    return {"original": original, "rewritten": rewritten, "changed": rewritten != original or bool(side_files),
            "fixes": sorted(f["code"] for f in proof["proven"]), "fired": fired, "side_files": sorted(side_files),
            "rewritten_dockerignore": ignore, "proof": proof}


def proof_summary(stdout: str, stderr: str, exit_code: int | None, unsafe_keys: set[tuple[str, int, int]]) -> dict:
    """What `dockopt --write --unsafe-fixes --verify --format json` did to one file: the fixes it
    proved and the ones it rejected (with the check that rejected them and why) or left untried,
    each marked unsafe when `--unsafe-fixes` is what applies it; the builds it took (its own
    count: one of the original, one per candidate rewrite) and how many of them the bisection
    cost (the rewrite builds after the first candidate's).  `error` when it did not run to a proof."""
    out: dict = {"exit": exit_code, "verdict": None, "reason": "", "proven": [], "rejected": [], "unproven": [],
                 "builds": {"original": 0, "rewrite": 0}, "build_count": 0, "tests": 0, "bisection_builds": 0}
    start = stdout.find("{")
    doc = None
    if start >= 0:
        try:
            doc = json.loads(stdout[start:])
        except json.JSONDecodeError:
            doc = None
    file = (doc or {}).get("files", [{}])[0] if doc else {}
    proof = file.get("proof")

    def item(f: dict, *extra: str) -> dict:
        d = {"code": f["code"], "line": f["line"], "column": f["column"], "title": f["title"],
             "unsafe": (f["code"], f["line"], f["column"]) in unsafe_keys}
        return {**d, **{k: f[k] for k in extra}}

    if proof is not None:
        builds = {"original": int(proof["builds"]["original"]), "rewrite": int(proof["builds"]["rewrite"])}
        out.update(verdict=proof["verdict"], reason=proof.get("reason", ""),
                   proven=[item(f) for f in proof["kept"]],
                   rejected=[item(f, "check", "why") for f in proof["rejected"]],
                   unproven=[item(f, "why") for f in proof["unproven"]],
                   builds=builds, build_count=builds["original"] + builds["rewrite"], tests=proof["tests"],
                   bisection_builds=max(0, builds["rewrite"] - 1), prover_seconds=proof.get("seconds"))
    elif exit_code == 0 and file.get("message"):
        out.update(verdict="nothing-to-prove", reason=file["message"])
    else:
        message = file.get("message") or (stderr or stdout).strip()[-400:] or f"exit status {exit_code}"
        out.update(verdict="error", error=message)
    return out


def expert_rewrite(case: Path, workdir: Path) -> dict | None:
    """The case's expert.Dockerfile as the rewrite of its Dockerfile (None without one)."""
    if not (case / EXPERT).exists():
        return None
    shutil.copytree(case, workdir, dirs_exist_ok=True)
    original = (workdir / "Dockerfile").read_text(encoding="utf-8")
    expert = (workdir / EXPERT).read_text(encoding="utf-8")
    return {"original": original, "rewritten": expert, "changed": expert != original, "fixes": [], "fired": [],
            "side_files": [], "rewritten_dockerignore": None}


def _verify(rw: dict, work: Path, meta: dict, **options: object) -> tuple:
    """The verifier's report on a rewrite, and whether a failed build had to be tried again: a package
    mirror that drops a download fails a build now and then (apt exits 100), so a failure counts
    only when it happens twice."""
    from dockopt.verify import verify

    def build():
        return verify(rw["original"], rw["rewritten"], work, smoke=meta.get("smoke"),
                      source_file=meta.get("source_file") or None, manifests=meta.get("manifests") or None,
                      rewritten_dockerignore=rw["rewritten_dockerignore"], **options)

    report = build()
    if report.verdict not in RETRIED_VERDICTS:
        return report, False
    return build(), True


def run_case(case_path: str, modes: tuple[str, ...], host: str | None, timeout: float, repeat: int = 3,
             backend: str = "auto", builder: str | None = None) -> dict:
    """Verify one case in every mode (in a worker process bound to one engine or builder)."""
    if host:
        os.environ["DOCKER_HOST"] = host

    case = Path(case_path)
    meta = load_case(case)
    out = {"case": case.name, "family": meta.get("family"), "kind": meta.get("kind"),
           "should_fire": meta.get("should_fire", []), "should_not_fire": meta.get("should_not_fire", []),
           "host": host or os.environ.get("DOCKER_HOST", "local"), "builder": builder, "repeat": repeat,
           "modes": {}}
    done: dict[str, dict] = {}
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix=f"dockopt-{case.name}-") as tmp:
            work = Path(tmp) / case.name
            if mode == "expert":
                expert = expert_rewrite(case, work)
                if expert is None:
                    continue
                rw = expert
            else:
                if mode == "verified":
                    rw = verified_rewrite(case, work, smoke=meta.get("smoke"), timeout=timeout, backend=backend,
                                          builder=builder)
                    if rw["proof"]["verdict"] == "error":
                        out["modes"][mode] = _unbuilt(rw, rw["proof"]["error"])
                        continue
                else:
                    rw = rewrite(case, work, unsafe=(mode == "unsafe"))
                if backend == "classic" and rw["rewritten_dockerignore"] is not None:
                    # the classic builder reads only the context's ignore file: both sides get the new one
                    (work / ".dockerignore").write_text(rw["rewritten_dockerignore"], encoding="utf-8")
                    rw["rewritten_dockerignore"] = None
            key = rw["rewritten"] + "\0" + (rw["rewritten_dockerignore"] or "")
            if key in done:
                same = next(m for m, r in out["modes"].items() if r is done[key])
                out["modes"][mode] = {**{k: v for k, v in done[key].items() if k != "proof"}, "same_as": same,
                                      "fixes": rw["fixes"], "fired": rw["fired"], **_proof_of(rw)}
                continue
            t0 = time.monotonic()
            report, retried = _verify(rw, work, meta, timeout=timeout, rebuild_repeats=repeat, backend=backend,
                                      builder=builder)
            entry = {**{k: rw[k] for k in ("changed", "fixes", "fired", "side_files")},
                     "verdict": report.verdict, "summary": report.summary, "seconds": time.monotonic() - t0,
                     "retried": retried,
                     "backend": report.backend, "engine": report.engine_version, "builder": report.builder,
                     "cache_records_pruned": report.cleanup.cache_records_pruned,
                     "metrics": metrics(report, meta), **_proof_of(rw)}
            out["modes"][mode] = entry
            done[key] = entry
    return out


def _proof_of(rw: dict) -> dict:
    """The prover's record of a verified rewrite ({} for the other modes)."""
    return {"proof": rw["proof"]} if "proof" in rw else {}


def _unbuilt(rw: dict, why: str) -> dict:
    """The entry of a mode whose rewrite could not be made (nothing built)."""
    return {**{k: rw[k] for k in ("changed", "fixes", "fired", "side_files")}, "verdict": "cannot-verify",
            "summary": why, "seconds": 0.0, "metrics": {"original": {"ok": False}, "rewritten": {"ok": False}},
            **_proof_of(rw)}


def _side(img) -> dict:
    if img is None:
        return {"ok": False}
    d = {"ok": img.build.ok, "cold_s": img.build.seconds, "error": img.build.error,
         "unsupported": img.build.unsupported}
    if img.stats is not None:
        d.update(size=img.stats.size, layers=img.stats.layer_count, wasted=img.stats.wasted_bytes,
                 efficiency=img.stats.efficiency)
    for rb in img.rebuilds:
        if rb.build is not None:
            d[f"{rb.scenario}_s"] = rb.build.seconds
            d[f"{rb.scenario}_cached"] = rb.build.cached_steps
            d[f"{rb.scenario}_run"] = rb.build.run_steps
            if rb.samples:
                d[f"{rb.scenario}_samples"] = list(rb.samples)
    return d


def metrics(report, meta: dict) -> dict:
    m = {"original": _side(report.original), "rewritten": _side(report.rewritten)}
    smoke = report.equivalence.smoke if report.equivalence else None
    expect = meta.get("expect_output")
    contains = meta.get("expect_contains")
    for role in ("original", "rewritten"):
        run = getattr(smoke, role) if smoke else None
        output = (run.output if run else "") or ""
        if run is None:
            passed = False
        elif expect is not None:
            passed = run.exit_code == 0 and output.strip() == expect.strip()
        elif contains is not None:
            passed = run.exit_code == 0 and contains in output
        else:
            passed = run.exit_code == 0
        m[role]["smoke_ok"] = passed
    m["equivalent"] = report.verdict == "equivalent"
    return m


# ---------------------------------------------------------------------------------------------
# the report


def _mb(n) -> str:
    return "-" if n is None else f"{n / 1e6:.1f} MB"


def _s(x) -> str:
    return "-" if x is None else f"{x:.1f}s"


def _pct(a, b) -> str:
    if not a or b is None:
        return "-"
    return f"{(b - a) / a * 100:+.0f}%"


def totals(results: list[dict]) -> dict:
    anti = [r for r in results if r["kind"] == "anti-pattern"]
    size_drops = []
    speedups = []
    for r in anti:
        m = r["modes"].get("unsafe") or r["modes"].get("safe")
        if not m:
            continue
        o, w = m["metrics"]["original"], m["metrics"]["rewritten"]
        if o.get("size") and w.get("size"):
            size_drops.append(1 - w["size"] / o["size"])
    for r in results:
        for mode in ("safe", "unsafe"):
            m = r["modes"].get(mode)
            if not m:
                continue
            o, w = m["metrics"]["original"], m["metrics"]["rewritten"]
            if "DO201" in m["fixes"] and o.get("source-edit_s") and w.get("source-edit_s"):
                speedups.append((r["case"], mode, o["source-edit_s"] / w["source-edit_s"]))
    smoke_ok = all(m["metrics"]["original"].get("smoke_ok") and m["metrics"]["rewritten"].get("smoke_ok")
                   for r in results for m in r["modes"].values() if m["verdict"] != "cannot-verify")
    cannot = sorted({r["case"] for r in results for m in r["modes"].values() if m["verdict"] == "cannot-verify"})
    noop = [(r["case"], m) for r in results if r["kind"] == "no-op"
            for mode, m in r["modes"].items() if mode in FIX_MODES]
    noop_identical = all(not m["changed"] for _, m in noop)
    # a BuildKit cache mount changes how the image is built, not a byte of it: listed apart
    noop_cache_only = sorted({c for c, m in noop if m["changed"] and set(m["fixes"]) <= BUILD_ONLY_FIXES})
    noop_rewritten = sorted({c for c, m in noop if m["changed"] and not set(m["fixes"]) <= BUILD_ONLY_FIXES})
    return {"anti_pattern_cases": len(anti), "median_size_drop": statistics.median(size_drops) if size_drops else None,
            "size_drops": size_drops, "rebuild_speedups": speedups,
            "median_rebuild_speedup": statistics.median(s for _, _, s in speedups) if speedups else None,
            "all_smoke_ok": smoke_ok, "noop_identical": noop_identical, "noop_cache_only": noop_cache_only,
            "noop_rewritten": noop_rewritten, "cannot_verify": len(cannot),
            "cannot_verify_cases": cannot}


# ---------------------------------------------------------------------------------------------
# against the expert

def _share(o: float | None, d: float | None, e: float | None, least: float) -> float | None:
    """(o - d) / (o - e) when the expert gains at least `least` over the original, else None."""
    if o is None or d is None or e is None or o - e < least:
        return None
    return (o - d) / (o - e)


def captured(result: dict, mode: str) -> dict | None:
    """The share of the expert's gain dockopt's rewrite in `mode` captures, for the image size and
    for the steps re-run after a source edit (None where the expert gains nothing there, or a
    build is missing), and whether the rewrite re-runs more steps than the original."""
    m, x = result["modes"].get(mode), result["modes"].get("expert")
    if not m or not x:
        return None
    o, d, e = m["metrics"]["original"], m["metrics"]["rewritten"], x["metrics"]["rewritten"]
    if not (o.get("ok") and d.get("ok") and e.get("ok")):
        return None
    size_o = o.get("size")
    steps = (o.get("source-edit_run"), d.get("source-edit_run"), e.get("source-edit_run"))
    return {
        # an expert that saves less than 1 % of the image saves nothing worth a share
        "size": _share(size_o, d.get("size"), e.get("size"), 0.01 * size_o if size_o else 1),
        "steps": _share(*steps, 1),
        "sizes": (size_o, d.get("size"), e.get("size")), "step_counts": steps,
        "more_steps_than_original": None not in steps[:2] and steps[1] > steps[0],
    }


def expert_totals(results: list[dict]) -> dict:
    """Per fix mode: the median share captured of the size and of the steps, over the cases where
    the expert gains something; the cases whose rewrite re-runs more steps than the original."""
    out: dict = {}
    for mode in FIX_MODES:
        shares = [(r["case"], c) for r in results if (c := captured(r, mode)) is not None]
        sizes = [c["size"] for _, c in shares if c["size"] is not None]
        steps = [c["steps"] for _, c in shares if c["steps"] is not None]
        out[mode] = {"cases": len(shares), "size_cases": len(sizes), "steps_cases": len(steps),
                     "median_size_captured": statistics.median(sizes) if sizes else None,
                     "median_steps_captured": statistics.median(steps) if steps else None,
                     "more_steps_than_original": sorted(c for c, s in shares if s["more_steps_than_original"])}
    return out


def render_expert(results: list[dict]) -> list[str]:
    t = expert_totals(results)
    if not any(t[mode]["cases"] for mode in FIX_MODES):
        return []

    def share(x: float | None) -> str:
        return "-" if x is None else f"{x * 100:.0f} %"

    lines = ["", "## Against the expert", "",
             "captured = (O - D) / (O - E): O the original, D dockopt's rewrite, E the case's expert.Dockerfile; "
             "for the image size (where the expert saves at least 1 %) and the steps re-run after a source edit "
             "(where the expert re-runs fewer).", "",
             "| mode | cases | median size captured | median steps captured | re-runs more steps than the original |",
             "|---|---|---|---|---|"]
    for mode in FIX_MODES:
        m = t[mode]
        lines.append(f"| {mode} | {m['cases']} | {share(m['median_size_captured'])} ({m['size_cases']} cases) | "
                     f"{share(m['median_steps_captured'])} ({m['steps_cases']} cases) | "
                     f"{', '.join(m['more_steps_than_original']) or 'none'} |")
    lines += ["", "| case | mode | size O / D / E | size captured | steps re-run O / D / E | steps captured |",
              "|---|---|---|---|---|---|"]
    for r in results:
        for mode in FIX_MODES:
            c = captured(r, mode)
            if c is None:
                continue
            so, sd, se = c["sizes"]
            no, nd, ne = ("-" if n is None else str(n) for n in c["step_counts"])
            flag = " (more than the original)" if c["more_steps_than_original"] else ""
            lines.append(f"| {r['case']} | {mode} | {_mb(so)} / {_mb(sd)} / {_mb(se)} | {share(c['size'])} | "
                         f"{no} / {nd} / {ne}{flag} | {share(c['steps'])} |")
    return lines


# ---------------------------------------------------------------------------------------------
# verified fixes


def verified_totals(results: list[dict]) -> dict:
    """What `--write --unsafe-fixes --verify` did over the cases run in the verified mode: the
    fixes proven, rejected (by the check that rejected them) and left untried, the unsafe ones
    apart; the builds per file; whether every case where nothing had to be rejected cost exactly
    two builds (the original and one rewrite); what the bisection cost where something was."""
    rows = [(r["case"], m["proof"]) for r in results if (m := r["modes"].get("verified")) and m.get("proof")]
    done = [(c, p) for c, p in rows if p["verdict"] != "error"]

    def by_check(fixes: list[dict]) -> dict[str, int]:
        return dict(sorted(Counter(f["check"] for f in fixes).items()))

    proven = [f for _, p in done for f in p["proven"]]
    rejected = [f for _, p in done for f in p["rejected"]]
    unproven = [f for _, p in done for f in p["unproven"]]
    builds = [p["build_count"] for _, p in done if p["build_count"]]
    clean = [(c, p["build_count"]) for c, p in done if p["proven"] and not p["rejected"]]
    return {
        "cases": len(rows),
        "unsafe_proven": sum(f["unsafe"] for f in proven), "unsafe_rejected": sum(f["unsafe"] for f in rejected),
        "unsafe_rejected_by_check": by_check([f for f in rejected if f["unsafe"]]),
        "unsafe_unproven": sum(f["unsafe"] for f in unproven),
        "proven": len(proven), "rejected": len(rejected), "rejected_by_check": by_check(rejected),
        "unproven": len(unproven),
        "files_built": len(builds), "nothing_to_prove": sorted(c for c, p in done if not p["build_count"]),
        "median_builds": statistics.median(builds) if builds else None, "max_builds": max(builds, default=None),
        "clean_cases": len(clean), "clean_not_two_builds": sorted((c, n) for c, n in clean if n != 2),
        "bisections": sorted((c, p["bisection_builds"]) for c, p in done if p["rejected"]),
        "errors": sorted((c, p.get("error", "")) for c, p in rows if p["verdict"] == "error"),
    }


def render_verified(results: list[dict]) -> list[str]:
    t = verified_totals(results)
    if not t["cases"]:
        return []
    x = expert_totals(results)

    def checks(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

    def share(v: float | None) -> str:
        return "-" if v is None else f"{v * 100:.0f} %"

    lines = ["", "## Verified fixes", "",
             "The `verified` mode is `dockopt --write --unsafe-fixes --verify --smoke <the case's smoke command>` on "
             "a copy of the case: dockopt builds the original and the rewrite with every fix `--unsafe-fixes` "
             "applies, runs its checks (build, smoke, config, filesystem), and when one fails bisects over the "
             "fixes and drops those the failed check blames. The rewrite it writes is then built and measured like "
             "the other modes' (the `verified` rows above). Builds are the prover's own count: one of the original "
             "and one per candidate rewrite; the bisection cost is the rewrite builds after the first.", "",
             f"* Unsafe fixes proven: **{t['unsafe_proven']}**; rejected: **{t['unsafe_rejected']}** (by check: "
             f"{checks(t['unsafe_rejected_by_check'])}); not tried: {t['unsafe_unproven']}.",
             f"* All fixes ({_count(t['cases'], 'case')}): proven {t['proven']}, rejected {t['rejected']} (by check: "
             f"{checks(t['rejected_by_check'])}), not tried {t['unproven']}."]
    if t["files_built"]:
        lines.append(f"* Builds per file: median {t['median_builds']:g}, max {t['max_builds']} "
                     f"({_count(t['files_built'], 'file')} with fixes to prove; "
                     f"{len(t['nothing_to_prove'])} with none, no build).")
    exceptions = ", ".join(f"{c}: {n} builds" for c, n in t["clean_not_two_builds"])
    if t["clean_cases"]:
        lines.append(f"* Cases where fixes were proven and nothing had to be rejected: {t['clean_cases']}; each "
                     f"cost exactly two builds: **{'no' if exceptions else 'yes'}**"
                     f"{f' ({exceptions})' if exceptions else ''}.")
    if t["bisections"]:
        cost = ", ".join(f"{c} {n}" for c, n in t["bisections"])
        lines.append(f"* Bisection where a fix was rejected: {sum(n for _, n in t['bisections'])} rewrite builds "
                     f"after the first, over {_count(len(t['bisections']), 'case')} ({cost}).")
    else:
        lines.append("* Bisection: none (no fix was rejected).")
    modes = [m for m in FIX_MODES if x[m]["cases"]]
    if modes:
        lines.append("* Median share of the expert's gain captured, image size / steps re-run after a source edit: "
                     + "; ".join(f"{m} {share(x[m]['median_size_captured'])} / "
                                 f"{share(x[m]['median_steps_captured'])}" for m in modes) + ".")
    for c, why in t["errors"]:
        lines.append(f"* {c}: dockopt --verify did not run to a proof: {why}")
    return lines + _verified_table(results)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _verified_table(results: list[dict]) -> list[str]:
    """Per case: the fixes proven, rejected and not tried; the builds; then why each was rejected."""
    lines = ["", "Unsafe fixes are marked *.", "",
             "| case | prover | proven | rejected (check) | not tried | builds (original + rewrites) "
             "| bisection builds | written file: verdict, smoke |", "|---|---|---|---|---|---|---|---|"]
    reasons = []

    def code(f: dict) -> str:
        return f["code"] + ("*" if f["unsafe"] else "")

    for r in results:
        m = r["modes"].get("verified")
        if not m or not m.get("proof"):
            continue
        p = m["proof"]
        w = m["metrics"]["rewritten"]
        b = p["builds"]
        rejected = ", ".join(f"{code(f)} ({f['check']})" for f in p["rejected"]) or "none"
        lines.append(f"| {r['case']} | {p['verdict']} | {', '.join(code(f) for f in p['proven']) or 'none'} | "
                     f"{rejected} | "
                     f"{', '.join(code(f) for f in p['unproven']) or 'none'} | "
                     f"{b['original']} + {b['rewrite']} | {p['bisection_builds']} | "
                     f"{m['verdict']}, {'ok' if w.get('smoke_ok') else 'FAIL'} |")
        reasons += [f"* {r['case']}: {f['code']} (line {f['line']}, {f['title']}) rejected by {f['check']}: "
                    f"{f['why']}" for f in p["rejected"]]
        reasons += [f"* {r['case']}: {f['code']} (line {f['line']}, {f['title']}) not tried: {f['why']}"
                    for f in p["unproven"]]
    if reasons:
        lines += ["", "Why each fix was rejected or not tried:", "", *reasons]
    return lines


def _built_with(results: list[dict]) -> str:
    """Which engine and builder the results come from, e.g. `Docker engine 26.1.5, BuildKit (builder ...)`."""
    entries = [m for r in results for m in r["modes"].values() if "backend" in m]
    engines = sorted({m["engine"] for m in entries if m.get("engine")})
    engine = f"Docker engine {', '.join(engines) or '?'}"
    if any(m["backend"] == "buildkit" for m in entries):
        builders = sorted({m["builder"] for m in entries if m.get("builder")})
        return f"{engine}, BuildKit through `docker buildx build` on builder {'; '.join(builders) or '?'}"
    return f"{engine}, classic builder"


def _steps(side: dict) -> str:
    run, cached = side.get("source-edit_run"), side.get("source-edit_cached")
    return "-" if run is None else f"{run} run / {cached} cached"


def render_beside(results: list[dict], other: list[dict], label: str) -> list[str]:
    """The totals and per-case figures of `other` (another builder's run) next to these."""
    t, o = totals(results), totals(other)
    by_case = {r["case"]: r for r in other}

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x * 100:.0f} %"

    def times(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}x"

    lines = ["", f"## Side by side: {_built_with(results)} and {label}", "",
             f"The same corpus and fixes built by {label} ({_built_with(other)}). A rebuild after a source edit "
             "counts the steps that re-ran: BuildKit's cached and run vertices, the classic builder's "
             "`Using cache` steps.", "",
             "| total | this run | " + label + " |", "|---|---|---|",
             f"| median size reduction, anti-pattern cases (unsafe fixes) | {pct(t['median_size_drop'])} | "
             f"{pct(o['median_size_drop'])} |",
             f"| median rebuild speed-up after a source edit, hoisted installs | "
             f"{times(t['median_rebuild_speedup'])} | {times(o['median_rebuild_speedup'])} |",
             f"| smoke test passes before and after everywhere | {'yes' if t['all_smoke_ok'] else 'no'} | "
             f"{'yes' if o['all_smoke_ok'] else 'no'} |",
             f"| cases that cannot be verified | {t['cannot_verify']} | {o['cannot_verify']} |",
             "", "| case | mode | verdict | size (rewritten) | steps re-run after a source edit (original → rewritten) "
             "| rebuild after source edit | cold build (original) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for mode, m in r["modes"].items():
            other_m = (by_case.get(r["case"]) or {}).get("modes", {}).get(mode) or {}
            cells = []
            for entry in (m, other_m):
                metr = entry.get("metrics") or {"original": {}, "rewritten": {}}
                cells.append((entry.get("verdict", "-"), metr["original"], metr["rewritten"]))
            (v1, o1, w1), (v2, o2, w2) = cells
            lines.append(
                f"| {r['case']} | {mode} | {v1} / {v2} | {_mb(w1.get('size'))} / {_mb(w2.get('size'))} | "
                f"{_steps(o1)} → {_steps(w1)} / {_steps(o2)} → {_steps(w2)} | "
                f"{_s(o1.get('source-edit_s'))} → {_s(w1.get('source-edit_s'))} / "
                f"{_s(o2.get('source-edit_s'))} → {_s(w2.get('source-edit_s'))} | "
                f"{_s(o1.get('cold_s'))} / {_s(o2.get('cold_s'))} |")
    return lines


def _noop_line(t: dict) -> str:
    if t["noop_identical"]:
        return "* No-op cases come out byte-identical: **yes**."
    rewritten, cache_only = t["noop_rewritten"], t["noop_cache_only"]
    return (f"* No-op cases get no fix that changes the image: **{'no' if rewritten else 'yes'}**"
            + (f" ({', '.join(rewritten)} rewritten)" if rewritten else "")
            + (f"; {', '.join(cache_only)} get only BuildKit cache mounts (DO112), which change how the image "
               "is built, not what it holds" if cache_only else "") + ".")


def render(results: list[dict], command: str, seconds: float, chart: str | None,
           beside: tuple[list[dict], str] | None = None) -> str:
    t = totals(results)
    lines = ["# dockopt outcome report", "",
             f"Produced by `{command}` in {seconds / 60:.1f} minutes on the project's machine (2 cores; "
             f"{_built_with(results)}). Base images are the local stand-ins "
             "built by `python -m bench.bases` from Debian 12 packages. Times are wall-clock on a shared, noisy "
             "machine: compare the columns of one row, not rows of different runs. A rebuild after a source edit is "
             "the median of the case's repeated runs (each a fresh edit; `--repeat`, default 3).", "",
             "## Totals", ""]
    if t["median_size_drop"] is not None:
        lines.append(f"* Median image size reduction on the {t['anti_pattern_cases']} anti-pattern cases "
                     f"(with `--unsafe-fixes`): **{t['median_size_drop'] * 100:.0f} %**.")
    if t["median_rebuild_speedup"] is not None:
        cells = ", ".join(f"{c} ({m}) {s:.1f}x" for c, m, s in t["rebuild_speedups"])
        lines.append(f"* Rebuild after a source edit on the cases whose dependency install was hoisted: median "
                     f"**{t['median_rebuild_speedup']:.1f}x faster** ({cells}).")
    smoke = "yes" if t["all_smoke_ok"] else "no"
    lines.append(f"* Smoke test passes before and after in every case and mode: **{smoke}**.")
    lines.append(_noop_line(t))
    if chart:
        lines += ["", f"![sizes and rebuild times]({chart})"]
    lines += ["", "## Cases", "",
              "| case | kind | mode | fixes | verdict | size | layers | wasted | cold build "
              "| rebuild after source edit | smoke |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for mode, m in r["modes"].items():
            o, w = m["metrics"]["original"], m["metrics"]["rewritten"]
            fixes = ", ".join(sorted(set(m["fixes"]))) or "none"
            if "same_as" in m:
                fixes += f" (same rewrite as {m['same_as']})"
            lines.append(
                f"| {r['case']} | {r['kind']} | {mode} | {fixes} | {m['verdict']} | "
                f"{_mb(o.get('size'))} → {_mb(w.get('size'))} ({_pct(o.get('size'), w.get('size'))}) | "
                f"{o.get('layers', '-')} → {w.get('layers', '-')} | {_mb(o.get('wasted'))} → {_mb(w.get('wasted'))} | "
                f"{_s(o.get('cold_s'))} → {_s(w.get('cold_s'))} | "
                f"{_s(o.get('source-edit_s'))} → {_s(w.get('source-edit_s'))} | "
                f"{'ok' if o.get('smoke_ok') else 'FAIL'} / {'ok' if w.get('smoke_ok') else 'FAIL'} |")
    lines += render_expert(results)
    lines += render_verified(results)
    if beside is not None:
        lines += render_beside(results, *beside)
    lines += ["", "## Rule codes against case.toml", "",
              "| case | should fire, did not | should not fire, did |", "|---|---|---|"]
    for r in results:
        # A code counts when it fired on the original or fixed in a later round of the fix loop
        # (DO104 only fires on 07 once DO101 and DO102 have merged its RUNs).
        fired = set().union(*(set(m["fired"]) | set(m["fixes"]) for m in r["modes"].values()))
        missed = sorted(set(r["should_fire"]) - fired)
        extra = sorted(set(r["should_not_fire"]) & fired)
        if missed or extra:
            lines.append(f"| {r['case']} | {', '.join(missed) or '-'} | {', '.join(extra) or '-'} |")
    return "\n".join(lines) + "\n"


def draw_chart(results: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = []
    for r in results:
        m = r["modes"].get("unsafe") or r["modes"].get("safe")
        if m and m["metrics"]["original"].get("size") and m["changed"]:
            rows.append((r["case"], m["metrics"]))
    if not rows:
        return False
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 9))
    xs = range(len(rows))
    w = 0.4
    ax1.bar([x - w / 2 for x in xs], [m["original"]["size"] / 1e6 for _, m in rows], w, label="original")
    ax1.bar([x + w / 2 for x in xs], [m["rewritten"].get("size", 0) / 1e6 for _, m in rows], w, label="dockopt")
    ax1.set_ylabel("image size (MB)")
    ax1.set_xticks(list(xs), [c for c, _ in rows], rotation=60, ha="right", fontsize=7)
    ax1.legend()
    ax1.set_title("Image size before and after (--unsafe-fixes)")
    ax2.bar([x - w / 2 for x in xs], [m["original"].get("source-edit_s") or 0 for _, m in rows], w, label="original")
    ax2.bar([x + w / 2 for x in xs], [m["rewritten"].get("source-edit_s") or 0 for _, m in rows], w, label="dockopt")
    ax2.set_ylabel("rebuild after a source edit (s)")
    ax2.set_xticks(list(xs), [c for c, _ in rows], rotation=60, ha="right", fontsize=7)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def merge_results(previous: list[dict], new: dict[str, dict]) -> dict[str, dict]:
    """A run of some cases in some modes on top of an earlier run's results (--merge): a case run
    again takes the new figures of the modes it ran and keeps the earlier ones of the other modes;
    a case not run keeps its earlier result."""
    merged = {r["case"]: r for r in previous}
    for name, result in new.items():
        earlier = merged.get(name)
        if earlier is None:
            merged[name] = result
            continue
        modes = {**earlier.get("modes", {}), **result["modes"]}
        order = [m for m in MODES if m in modes] + [m for m in modes if m not in MODES]
        merged[name] = {**result, "modes": {m: modes[m] for m in order}}
    return merged


def merged_command(previous: str, command: str) -> str:
    """The commands whose results a merged JSON holds, in the order they ran."""
    done = [c for c in previous.split(" && ") if c]
    return " && ".join(done if command in done else [*done, command])


def _slots(builders: str, hosts: str) -> list[tuple[str | None, str | None]]:
    """(DOCKER_HOST, builder) of each place cases are built at, round robin."""
    named = [b for b in builders.split(",") if b]
    if named:
        return [(None, b) for b in named]
    return [(h, None) for h in hosts.split(",") if h] or [(None, None)]


def _run_cases(args: argparse.Namespace, modes: tuple[str, ...], cases: list[Path]) -> dict[str, dict]:
    """Each case's result in the given modes, built over the builders or engines of the run."""
    slots = _slots(args.builders, args.hosts)
    results: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=len(slots) * args.per_host) as pool:
        futures = {}
        for i, c in enumerate(cases):
            host, builder = slots[i % len(slots)]
            futures[pool.submit(run_case, str(c), modes, host, args.timeout, args.repeat, args.backend, builder)] = c
        for fut in as_completed(futures):
            case = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:
                r = {"case": case.name, "kind": load_case(case).get("kind"), "error": f"{type(exc).__name__}: {exc}",
                     "modes": {}, "should_fire": [], "should_not_fire": []}
            results[case.name] = r
            verdicts = ", ".join(f"{m}: {e['verdict']}" for m, e in r["modes"].items()) or r.get("error")
            print(f"  {case.name}: {verdicts}", file=sys.stderr, flush=True)
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.outcomes", description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case names or numbers (default: all)")
    ap.add_argument("--modes", default=",".join(MODES),
                    help="safe, unsafe (dockopt's fixes), verified (the rewrite `--write --unsafe-fixes --verify` "
                         "proves and writes) and expert (the case's expert.Dockerfile); default all")
    ap.add_argument("--backend", choices=["auto", "buildkit", "classic"], default="auto",
                    help="BuildKit through docker buildx (auto: when the plugin is there) or the classic builder")
    ap.add_argument("--builders", default="", help="comma-separated buildx builders to spread the cases over")
    ap.add_argument("--hosts", default=os.environ.get("DOCKER_HOST", ""),
                    help="comma-separated DOCKER_HOST values to spread the cases over (without --builders)")
    ap.add_argument("--per-host", type=int, default=1, help="cases each builder or engine builds at once")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rebuild after each edit this many times and keep the median (default 3)")
    ap.add_argument("--report", type=Path, default=RESULTS / "REPORT.md",
                    help="the Markdown report (and its chart beside it); '-' for none")
    ap.add_argument("--json", type=Path, default=RESULTS / "outcomes.json")
    ap.add_argument("--beside", type=Path, default=None,
                    help=f"another run's JSON to show next to this one (default: {CLASSIC_JSON.relative_to(REPO)} "
                         "when this run is not the classic builder's and it exists)")
    ap.add_argument("--merge", action="store_true",
                    help="merge into the results already in --json: the cases and modes run here replace theirs, "
                         "the other cases and modes keep their figures (e.g. --modes verified --merge)")
    ap.add_argument("--render-only", action="store_true",
                    help="build nothing: write the report from the results already in --json")
    args = ap.parse_args(argv)
    if args.builders and args.backend == "classic":
        ap.error("--builders needs BuildKit (--backend auto or buildkit)")
    if args.render_only:
        previous = json.loads(args.json.read_text(encoding="utf-8"))
        return _write(args, previous["results"], previous.get("command", ""), previous.get("seconds", 0.0))
    modes = tuple(m for m in args.modes.split(",") if m)
    if set(modes) - set(MODES):
        ap.error(f"unknown modes {', '.join(sorted(set(modes) - set(MODES)))} (known: {', '.join(MODES)})")
    cases = case_dirs(args.cases)
    started = time.monotonic()
    results = _run_cases(args, modes, cases)
    seconds = time.monotonic() - started
    command = ("python -m bench.outcomes " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    if args.merge and args.json.exists():
        previous = json.loads(args.json.read_text(encoding="utf-8"))
        results = merge_results(previous["results"], results)
        seconds += previous.get("seconds", 0)
        command = merged_command(previous.get("command", ""), command)
        cases = case_dirs(None)
    ordered = [results[c.name] for c in cases if c.name in results]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"seconds": seconds, "command": command.strip(), "results": ordered}, indent=1),
                         encoding="utf-8")
    return _write(args, ordered, command.strip(), seconds)


def _write(args: argparse.Namespace, ordered: list[dict], command: str, seconds: float) -> int:
    """Write the report (unless --report -) and print the totals; the exit status of the run."""
    if str(args.report) != "-":
        beside_path = args.beside
        if beside_path is None and args.backend != "classic" and CLASSIC_JSON.exists() \
                and CLASSIC_JSON.resolve() != args.json.resolve():
            beside_path = CLASSIC_JSON
        beside = None
        if beside_path is not None:
            other = json.loads(beside_path.read_text(encoding="utf-8"))["results"]
            beside = (other, "the classic builder" if beside_path == CLASSIC_JSON else beside_path.name)
        args.report.parent.mkdir(parents=True, exist_ok=True)
        chart = args.report.with_name("outcomes.png")
        has_chart = draw_chart(ordered, chart)
        args.report.write_text(render(ordered, command, seconds, chart.name if has_chart else None, beside),
                               encoding="utf-8")
    t = totals(ordered)
    print(json.dumps({**{k: v for k, v in t.items() if k != "size_drops"}, "expert": expert_totals(ordered),
                      "verified": verified_totals(ordered)}, indent=1))
    ok = t["all_smoke_ok"] and not t["noop_rewritten"] and not any("error" in r for r in ordered)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The outcome harness on a representative subset of corpus/, built for real (one case per
ecosystem family): both images build, the smoke test passes before and after, no-op cases stay
byte-identical, and the anti-pattern cases get smaller."""
from __future__ import annotations

import pytest

from bench.outcomes import case_dirs, load_case, run_case

# one per family, chosen among the cases with small images so CI stays quick
SUBSET = ["01-apt-five-runs", "08-python-copy-before-pip", "22-go-single-stage", "24-static-site-single-stage",
          "27-c-make-single-stage", "31-generic-exec-form-clean"]


def test_subset_covers_the_families():
    families = {load_case(c)["family"] for c in case_dirs(SUBSET)}
    assert len(case_dirs(SUBSET)) == len(SUBSET)
    assert {"apt", "python", "go", "static", "c", "generic"} <= families


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("name", SUBSET)
def test_case_outcome(name, docker_engine):
    [case] = case_dirs([name])
    meta = load_case(case)
    result = run_case(str(case), ("unsafe",), None, timeout=900, repeat=1)
    entry = result["modes"]["unsafe"]
    m = entry["metrics"]
    assert m["original"]["ok"], m["original"].get("error")
    assert m["rewritten"]["ok"], m["rewritten"].get("error")
    assert m["original"]["smoke_ok"] and m["rewritten"]["smoke_ok"], entry["summary"]
    if meta["kind"] == "no-op":
        assert not entry["changed"]
    if meta["kind"] == "anti-pattern":
        assert entry["changed"]
        # smaller, or (a hoisted install) no bigger and more of the rebuild after a source edit cached
        o, w = m["original"], m["rewritten"]
        assert w["size"] < o["size"] or (
            w["size"] <= o["size"] * 1.01 and w.get("source-edit_cached", 0) > o.get("source-edit_cached", 0))


# The cases only BuildKit builds: a heredoc RUN; a cache mount under a `# syntax=docker/dockerfile:1`
# line (no registry here: built with the engine's own frontend); COPY --link.
BUILDKIT_ONLY = ["36-apt-heredoc-run", "37-python-cache-mount", "38-node-copy-link"]


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDKIT_ONLY)
def test_buildkit_only_case_verifies_end_to_end(name, docker_engine):
    [case] = case_dirs([name])
    result = run_case(str(case), ("safe",), None, timeout=900, repeat=1)
    entry = result["modes"]["safe"]
    assert entry["backend"] == "buildkit" and entry["changed"], entry["summary"]
    o, w = entry["metrics"]["original"], entry["metrics"]["rewritten"]
    assert o["ok"] and w["ok"], (o.get("error"), w.get("error"))
    assert o["size"] > 0 and w["size"] > 0
    assert o["smoke_ok"] and w["smoke_ok"], entry["summary"]
    # after a source edit both rebuilds re-run the steps that copy it, counted from BuildKit's vertices
    assert o["source-edit_run"] >= 1 and w["source-edit_run"] >= 1
    if "DO201" in entry["fixes"]:
        # the hoisted install is taken from the cache in the rewrite
        assert w["source-edit_run"] < o["source-edit_run"] and w["source-edit_cached"] > o["source-edit_cached"]
    else:
        assert w["size"] < o["size"]          # the package lists went
    assert entry["cache_records_pruned"] > 0


def _result(case: str, sizes: tuple[int, int, int], steps: tuple[int, int, int], mode: str = "safe") -> dict:
    """A harness result for one case: the original, dockopt's rewrite in `mode` and the expert's file."""
    o, d, e = ({"ok": True, "size": s, "source-edit_run": n} for s, n in zip(sizes, steps, strict=True))
    return {"case": case, "modes": {mode: {"metrics": {"original": o, "rewritten": d}},
                                    "expert": {"metrics": {"original": dict(o), "rewritten": e}}}}


def test_captured_share_of_the_experts_gain():
    from bench.outcomes import captured, expert_totals, render_expert

    half = _result("a", (200, 150, 100), (4, 3, 2))
    c = captured(half, "safe")
    assert c is not None and c["size"] == 0.5 and c["steps"] == 0.5 and not c["more_steps_than_original"]
    # an expert that gains nothing on a measure gives no share there; more steps than the original is flagged
    worse = _result("b", (100, 90, 100), (2, 3, 2))
    c = captured(worse, "safe")
    assert c is not None and c["size"] is None and c["steps"] is None and c["more_steps_than_original"]
    assert captured(_result("c", (1, 1, 1), (1, 1, 1), mode="unsafe"), "safe") is None
    t = expert_totals([half, worse])
    assert t["safe"]["median_size_captured"] == 0.5 and t["safe"]["more_steps_than_original"] == ["b"]
    assert t["unsafe"]["cases"] == 0
    assert "| a | safe | 0.0 MB / 0.0 MB / 0.0 MB | 50 % | 4 / 3 / 2 | 50 % |" in "\n".join(render_expert([half]))


def test_rewrite_keeps_the_new_ignore_file_for_the_rewrite_only(tmp_path):
    """The ignore file a fix writes goes to the rewrite's build only: the original is built with the
    case's own context, as the user's repository has it."""
    from bench.outcomes import rewrite

    [case] = case_dirs(["08-python-copy-before-pip"])
    work = tmp_path / case.name
    rw = rewrite(case, work, unsafe=False)
    assert "DO204" in rw["fixes"]
    assert rw["side_files"] == ["Dockerfile.dockerignore"]
    assert rw["rewritten_dockerignore"] and rw["rewritten_dockerignore"].strip()
    assert not (work / "Dockerfile.dockerignore").exists()
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in case.iterdir())


# ---------------------------------------------------------------------------------------------
# the verified mode: what the prover did, the report section, --merge (synthetic results)


def _cli_stdout(kept, rejected=(), builds=(1, 1), tests=1) -> str:
    """The stdout of `dockopt --write --unsafe-fixes --verify --format json` for one file whose
    prover kept `kept` and rejected `rejected` ((key, check, why)), from the prover's own report."""
    import json

    from dockopt.verify.prove import CheckFailure, FixItem, ProofReport, Rejected

    report = ProofReport(verdict="partly-proven" if rejected else "proven", text="", tests=tests,
                         kept=tuple(FixItem(key, f"fix {key[0]}") for key in kept),
                         rejected=tuple(Rejected(FixItem(key, f"fix {key[0]}"), CheckFailure(check, why))
                                        for key, check, why in rejected),
                         builds={"original": builds[0], "rewrite": builds[1]})
    return "note on stdout first\n" + json.dumps({"files": [{"path": "Dockerfile", "proof": report.to_dict()}]})


def test_proof_summary_reads_what_the_prover_did():
    from bench.outcomes import proof_summary

    out = _cli_stdout([("DO101", 2, 1), ("DO302", 1, 1)], [(("DO106", 3, 1), "smoke", "exit status 0 -> 127")],
                      builds=(1, 4), tests=4)
    p = proof_summary(out, "", 1, unsafe_keys={("DO302", 1, 1), ("DO106", 3, 1)})
    assert p["verdict"] == "partly-proven"
    assert [(f["code"], f["unsafe"]) for f in p["proven"]] == [("DO101", False), ("DO302", True)]
    [rej] = p["rejected"]
    assert (rej["code"], rej["unsafe"], rej["check"], rej["why"]) == ("DO106", True, "smoke", "exit status 0 -> 127")
    # the prover's own count: one build of the original and four rewrites, three after the first candidate
    assert p["build_count"] == 5 and p["bisection_builds"] == 3 and p["tests"] == 4
    nothing = proof_summary('{"files": [{"path": "Dockerfile", "message": "no fixes apply: nothing to verify"}]}',
                            "", 0, set())
    assert nothing["verdict"] == "nothing-to-prove" and nothing["build_count"] == 0
    failed = proof_summary("", "dockopt: Dockerfile: no Docker engine", 2, set())
    assert failed["verdict"] == "error" and "no Docker engine" in failed["error"]


def _side(size: int, steps: int, ok: bool = True) -> dict:
    return {"ok": ok, "size": size, "source-edit_run": steps, "smoke_ok": ok}


def _mode(size: int, steps: int, fixes=(), proof=None, original=(200, 4)) -> dict:
    m = {"changed": True, "fixes": list(fixes), "fired": list(fixes), "verdict": "different",
         "metrics": {"original": _side(*original), "rewritten": _side(size, steps)}}
    return {**m, "proof": proof} if proof is not None else m


def _proof(proven, rejected=(), builds=(1, 1)) -> dict:
    """A proof record as proof_summary makes it: proven [(code, unsafe)], rejected [(code, unsafe, check)]."""
    def item(code: str, unsafe: bool) -> dict:
        return {"code": code, "line": 1, "column": 1, "title": f"fix {code}", "unsafe": unsafe}
    return {"verdict": "partly-proven" if rejected else ("proven" if proven else "nothing-to-prove"),
            "proven": [item(c, u) for c, u in proven],
            "rejected": [{**item(c, u), "check": ch, "why": f"{ch} failed"} for c, u, ch in rejected],
            "unproven": [], "builds": {"original": builds[0], "rewrite": builds[1]},
            "build_count": sum(builds), "bisection_builds": max(0, builds[1] - 1), "tests": builds[1]}


def _verified_results(names=("a", "b", "c")) -> list[dict]:
    def case(name, safe, unsafe, verified, expert):
        return {"case": name, "kind": "anti-pattern", "should_fire": [], "should_not_fire": [],
                "modes": {"safe": safe, "unsafe": unsafe, "verified": verified, "expert": expert}}
    return [
        # every fix proven: the verified rewrite is the unsafe one
        case(names[0], _mode(150, 4, ["DO101"]), _mode(100, 4, ["DO101", "DO302"]),
             _mode(100, 4, ["DO101", "DO302"], _proof([("DO101", False), ("DO302", True)])), _mode(100, 2)),
        # DO106 and DO306 rejected by smoke and filesystem checks: three rewrite builds after the first
        case(names[1], _mode(180, 4, ["DO101"]), _mode(120, 4, ["DO101", "DO106", "DO306"]),
             _mode(160, 4, ["DO101"], _proof([("DO101", False)], [("DO106", True, "smoke"),
                                                                  ("DO306", True, "filesystem")], builds=(1, 4))),
             _mode(100, 4)),
        # nothing to prove: no build (and the expert gains nothing)
        case(names[2], _mode(200, 4), _mode(200, 4), _mode(200, 4, [], _proof([], builds=(0, 0))), _mode(200, 4)),
    ]


def test_verified_totals_count_proven_rejected_and_builds():
    from bench.outcomes import verified_totals

    t = verified_totals(_verified_results())
    assert t["cases"] == 3
    assert (t["unsafe_proven"], t["unsafe_rejected"]) == (1, 2)
    assert t["unsafe_rejected_by_check"] == {"filesystem": 1, "smoke": 1}
    assert (t["proven"], t["rejected"]) == (3, 2)
    assert t["files_built"] == 2 and t["nothing_to_prove"] == ["c"]
    assert (t["median_builds"], t["max_builds"]) == (3.5, 5)
    assert t["clean_cases"] == 1 and t["clean_not_two_builds"] == []
    assert t["bisections"] == [("b", 3)]


def test_verified_section_of_the_report():
    from bench.outcomes import render

    results = _verified_results()
    report = render(results, "python -m bench.outcomes --modes verified --merge", 60.0, None)
    section = report.split("## Verified fixes", 1)[1].split("\n## ", 1)[0]
    assert "* Unsafe fixes proven: **1**; rejected: **2** (by check: filesystem 1, smoke 1); not tried: 0." in section
    assert "* Builds per file: median 3.5, max 5 (2 files with fixes to prove; 1 with none, no build)." in section
    assert ("* Cases where fixes were proven and nothing had to be rejected: 1; each cost exactly two builds: "
            "**yes**.") in section
    assert "3 rewrite builds after the first, over 1 case (b 3)" in section
    # the share of the expert's gain next to safe and unsafe: sizes a 50/100/100 %, b 20/80/40 %
    assert ("safe 35 % / 0 %; unsafe 90 % / 0 %; verified 70 % / 0 %") in section
    assert "| b | partly-proven | DO101 | DO106* (smoke), DO306* (filesystem) | none | 1 + 4 | 3 | different, ok |" \
        in section
    assert "* b: DO106 (line 1, fix DO106) rejected by smoke: smoke failed" in section
    # the expert table has the verified mode too
    assert "| verified | 3 | 70 % (2 cases) |" in report
    # a case with nothing rejected that took more than two builds is named
    results[0]["modes"]["verified"]["proof"]["builds"]["rewrite"] = 2
    results[0]["modes"]["verified"]["proof"]["build_count"] = 3
    report = render(results, "x", 1.0, None)
    assert "each cost exactly two builds: **no** (a: 3 builds)." in report


def test_merge_keeps_the_modes_a_run_did_not_run():
    from bench.outcomes import merge_results, merged_command

    earlier = [{"case": c, "kind": "anti-pattern", "modes": {"safe": {"n": 1}, "unsafe": {"n": 1}, "expert": {"n": 1}}}
               for c in ("a", "b")]
    merged = merge_results(earlier, {"a": {"case": "a", "kind": "anti-pattern", "modes": {"verified": {"n": 2}}}})
    assert list(merged["a"]["modes"]) == ["safe", "unsafe", "verified", "expert"]
    assert merged["a"]["modes"]["verified"] == {"n": 2} and merged["a"]["modes"]["safe"] == {"n": 1}
    assert merged["b"] == earlier[1]
    # a mode run again replaces its figures; a new case comes in whole
    merged = merge_results(earlier, {"b": {"case": "b", "modes": {"safe": {"n": 3}}},
                                     "c": {"case": "c", "modes": {"safe": {"n": 3}}}})
    assert merged["b"]["modes"]["safe"] == {"n": 3} and merged["b"]["modes"]["expert"] == {"n": 1}
    assert merged["c"]["modes"] == {"safe": {"n": 3}}
    first = "python -m bench.outcomes"
    second = "python -m bench.outcomes --modes verified --merge"
    assert merged_command(first, second) == f"{first} && {second}"
    assert merged_command(f"{first} && {second}", second) == f"{first} && {second}"


def test_render_only_after_a_merge_keeps_every_mode(tmp_path, monkeypatch):
    """--merge writes the merged results; the report rendered from them has every mode's rows."""
    import json

    from bench import outcomes

    path = tmp_path / "outcomes.json"
    names = ("01-apt-five-runs", "02-apt-update-alone", "31-generic-exec-form-clean")
    results = _verified_results(names)
    earlier = [{**r, "modes": {m: e for m, e in r["modes"].items() if m != "verified"}} for r in results]
    path.write_text(json.dumps({"seconds": 60, "command": "python -m bench.outcomes", "results": earlier}))
    new = {r["case"]: {**r, "modes": {"verified": r["modes"]["verified"]}} for r in results}
    monkeypatch.setattr(outcomes, "_run_cases", lambda args, modes, cases: new)
    assert outcomes.main(["--modes", "verified", "--merge", "--json", str(path), "--report",
                          str(tmp_path / "REPORT.md")]) == 0
    saved = json.loads(path.read_text())
    assert [list(r["modes"]) for r in saved["results"]] == [["safe", "unsafe", "verified", "expert"]] * 3
    assert saved["command"] == ("python -m bench.outcomes && python -m bench.outcomes --modes verified --merge "
                                f"--json {path} --report {tmp_path / 'REPORT.md'}")
    report = (tmp_path / "REPORT.md").read_text()
    assert "| 01-apt-five-runs | anti-pattern | unsafe |" in report
    assert "| 01-apt-five-runs | anti-pattern | verified |" in report
    assert "## Verified fixes" in report


@pytest.mark.docker
@pytest.mark.slow
def test_verified_mode_records_what_dockopt_verify_proves(docker_engine, tmp_path, monkeypatch):
    """The verified mode on a small case, for real: what it records as proven and rejected, and the
    builds, are what a direct `dockopt --write --unsafe-fixes --verify` reports on the same case, and
    the rewrite it measures is the file that run writes."""
    import json
    import shutil

    from conftest import run_cli

    import dockopt.verify as verify_module

    [case] = case_dirs(["02-apt-update-alone"])
    meta = load_case(case)
    measured: list[str] = []
    real = verify_module.verify     # run_case imports it from there: the spy passes every call on

    def spy(original, rewritten, *args, **kwargs):
        measured.append(rewritten)
        return real(original, rewritten, *args, **kwargs)

    monkeypatch.setattr(verify_module, "verify", spy)
    result = run_case(str(case), ("verified",), None, timeout=900, repeat=1)
    entry = result["modes"]["verified"]
    proof = entry["proof"]

    work = tmp_path / case.name
    shutil.copytree(case, work)
    p = run_cli("--write", "--unsafe-fixes", "--verify", "--format", "json", "--smoke", meta["smoke"],
                str(work / "Dockerfile"))
    stdout = p.stdout.decode("utf-8")
    direct = json.loads(stdout[stdout.find("{"):])["files"][0]["proof"]

    def keys(fixes: list[dict]) -> list[tuple]:
        return [(f["code"], f["line"], f["column"]) for f in fixes]

    assert proof["verdict"] == direct["verdict"] and proof["exit"] == p.returncode
    assert keys(proof["proven"]) == keys(direct["kept"]) and proof["proven"]
    assert [(*k, f["check"]) for k, f in zip(keys(proof["rejected"]), proof["rejected"], strict=True)] == \
        [(*k, f["check"]) for k, f in zip(keys(direct["rejected"]), direct["rejected"], strict=True)]
    assert proof["builds"] == direct["builds"] and proof["build_count"] == sum(direct["builds"].values())
    if not direct["rejected"]:
        # nothing rejected: one build of the original and one of the rewrite, no bisection
        assert proof["build_count"] == 2 and proof["bisection_builds"] == 0
    # the unsafe fix (DO302, a non-root user) is marked so; the merge of the RUNs is safe
    assert {f["code"]: f["unsafe"] for f in proof["proven"]}.get("DO302") is True
    assert {f["code"]: f["unsafe"] for f in proof["proven"]}.get("DO101") is False
    # the rewrite built and measured is the file the direct run wrote; it builds and passes its smoke test
    assert measured == [(work / "Dockerfile").read_text(encoding="utf-8")]
    assert entry["changed"] and sorted(entry["fixes"]) == sorted(f["code"] for f in direct["kept"])
    m = entry["metrics"]
    assert m["original"]["ok"] and m["rewritten"]["ok"], (m["original"].get("error"), m["rewritten"].get("error"))
    assert m["original"]["smoke_ok"] and m["rewritten"]["smoke_ok"], entry["summary"]


def test_no_op_cases_with_only_cache_mounts_are_told_apart_from_rewritten_ones():
    """A no-op case that gets only a BuildKit cache mount (DO112: the image holds the same bytes)
    is named as such; one that gets any other fix fails the no-op check."""
    from bench.outcomes import render, totals

    def noop(case: str, fixes: list[str]) -> dict:
        side = {"ok": True, "size": 100, "smoke_ok": True}
        entry = {"changed": bool(fixes), "fixes": fixes, "fired": fixes, "verdict": "equivalent", "summary": "",
                 "metrics": {"original": dict(side), "rewritten": dict(side)}}
        return {"case": case, "kind": "no-op", "family": "apt", "should_fire": [], "should_not_fire": [],
                "modes": {"safe": entry, "unsafe": dict(entry)}}

    t = totals([noop("05-clean", ["DO112"]), noop("14-clean", [])])
    assert not t["noop_identical"] and t["noop_cache_only"] == ["05-clean"] and t["noop_rewritten"] == []
    text = render([noop("05-clean", ["DO112"])], "cmd", 1.0, None)
    assert "No-op cases get no fix that changes the image: **yes**; 05-clean get only BuildKit cache mounts" in text
    t = totals([noop("05-clean", ["DO112", "DO101"])])
    assert t["noop_rewritten"] == ["05-clean"]


def test_a_failed_build_counts_only_when_it_fails_twice(monkeypatch, tmp_path):
    """A mirror that drops a download fails one build: the harness tries once more before it
    reports the failure, and says that it did."""
    import types

    import dockopt.verify
    from bench.outcomes import _verify

    verdicts = iter(["rewritten-failed", "equivalent", "original-failed", "original-failed"])
    monkeypatch.setattr(dockopt.verify, "verify", lambda *a, **k: types.SimpleNamespace(verdict=next(verdicts)))
    rw = {"original": "FROM x\n", "rewritten": "FROM y\n", "rewritten_dockerignore": None}
    report, retried = _verify(rw, tmp_path, {})
    assert (report.verdict, retried) == ("equivalent", True)
    report, retried = _verify(rw, tmp_path, {})
    assert (report.verdict, retried) == ("original-failed", True)

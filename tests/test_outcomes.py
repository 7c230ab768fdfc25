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

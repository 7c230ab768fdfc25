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

"""DO201 proven by real builds: after a source edit, the rewrite takes the dependency install from
the cache and the original runs it again (a pip case and an npm case from corpus/)."""
from __future__ import annotations

import shutil

import pytest

from bench.outcomes import case_dirs, load_case, rewrite
from dockopt.verify import verify


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("name,install", [("08-python-copy-before-pip", "pip install"),
                                          ("15-node-copy-before-install", "npm install")])
def test_install_step_is_cached_after_a_source_edit_only_in_the_rewrite(name, install, tmp_path, docker_engine):
    [case] = case_dirs([name])
    meta = load_case(case)
    work = tmp_path / name
    rw = rewrite(case, work, unsafe=False)
    assert "DO201" in rw["fixes"]
    report = verify(rw["original"], rw["rewritten"], work, smoke=meta["smoke"], source_file=meta["source_file"],
                    manifests=meta["manifests"], timeout=900)
    assert report.verdict == "equivalent", report.summary

    def install_step(role):
        image = getattr(report, role)
        [rebuild] = [r for r in image.rebuilds if r.scenario == "source-edit"]
        steps = [s for s in rebuild.build.steps if install in s.name]
        assert steps, [s.name for s in rebuild.build.steps]
        return steps[0]

    assert not install_step("original").cached      # the source edit invalidated the install
    assert install_step("rewritten").cached          # the hoisted manifest COPY kept it
    shutil.rmtree(work, ignore_errors=True)

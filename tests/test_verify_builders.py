"""Builds on buildx builders other than the default: two builders on two local engines.

buildx lists a builder with the `docker` driver for every docker context, so a
context naming a second engine (a private dockerd, tests/engines.py) is a
second builder.  `--builder NAME` builds there: the image lands in that
engine, which is where the verifier inspects, runs and removes it; the
outcome harness spreads cases over `--builders a,b`.  The contexts live in a
docker config directory of the test's own (with the user's CLI plugins).
Needs root and a dockerd (scripts/docker-up.sh); in CI their absence is a
failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import IN_CI, REPO

from dockopt.verify import RUN_LABEL, verify

pytestmark = pytest.mark.docker

# two busybox cases: the second engine only needs the busybox stand-in
HARNESS_CASES = ["31-generic-exec-form-clean", "33-generic-or-exit-chain"]


def _plugin_dirs() -> list[Path]:
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    return [config / "cli-plugins", Path("/usr/local/lib/docker/cli-plugins"), Path("/usr/libexec/docker/cli-plugins")]


@pytest.fixture(scope="module")
def second_builder(docker_engine, tmp_path_factory):
    """(builder name, private engine): a docker context for a second engine, in a docker config of our own."""
    from engines import PrivateEngine, dockerd_argv

    problem = None
    if os.geteuid() != 0:
        problem = "a second dockerd needs root"
    elif dockerd_argv() is None:
        problem = "no dockerd (scripts/docker-up.sh provides one)"
    elif not shutil.which("docker"):
        problem = "no docker CLI"
    if problem:
        if IN_CI:
            pytest.fail(f"CI must run the builder tests: {problem}")
        pytest.skip(problem)
    config = tmp_path_factory.mktemp("docker-config")
    (config / "cli-plugins").mkdir()
    for plugins in _plugin_dirs():
        for plugin in sorted(plugins.glob("docker-*")) if plugins.is_dir() else []:
            target = config / "cli-plugins" / plugin.name
            if not target.exists():
                target.symlink_to(plugin.resolve())
    engine = PrivateEngine(main=docker_engine)
    name = f"dockopt-second-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_CONFIG", str(config))
        try:
            subprocess.run(["docker", "context", "create", name, "--docker", f"host={engine.host}"],
                           check=True, capture_output=True, timeout=60)
            yield name, engine
        finally:
            subprocess.run(["docker", "context", "rm", "-f", name], capture_output=True, timeout=60, check=False)
            engine.close()


def _labelled(client, run_id: str) -> list[str]:
    label = f"{RUN_LABEL}={run_id}"
    return ([f"image {i}" for i in client.api.images(all=True, quiet=True, filters={"label": label})]
            + [f"container {c['Id']}" for c in client.api.containers(all=True, filters={"label": label})])


def test_verify_on_the_builder_of_another_engine(second_builder, docker_engine, tmp_path):
    name, engine = second_builder
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "app.sh").write_text("echo app\n")
    original = "FROM busybox:latest\nCOPY . /app\nRUN echo one > /a\nRUN echo two > /b\n"
    rewritten = "FROM busybox:latest\nCOPY . /app\nRUN echo one > /a && echo two > /b\n"
    r = verify(original, rewritten, ctx, builder=name, smoke="cat /a /b; sh /app/app.sh", timeout=120)
    assert r.verdict == "equivalent", r.summary
    assert r.backend == "buildkit"
    assert r.builder.startswith(f"{name} (docker driver"), r.builder
    # built, inspected and run on the second engine, not on the one DOCKER_HOST names
    assert r.engine_host == engine.host
    assert r.equivalence.smoke.original.output == "one\ntwo\napp\n"
    src = r.original.rebuild("source-edit")
    assert src.edited == ("app.sh",) and "RUN echo one > /a" in src.build.ran
    assert _labelled(engine.client, r.run_id) == [] and _labelled(docker_engine, r.run_id) == []
    assert r.cleanup.cache_records_pruned > 0
    assert engine.build_cache() == []       # nobody else builds there: every record was ours


def test_an_unknown_builder_is_one_line(tmp_path):
    from conftest import run_cli

    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\nRUN echo a\nRUN echo b\n")
    r = run_cli("--verify", "--builder", "no-such-builder", "--select", "DO101", str(tmp_path / "Dockerfile"))
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert "no-such-builder" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    r = run_cli("--verify", "--backend", "classic", "--builder", "x", str(tmp_path / "Dockerfile"))
    assert r.returncode == 2 and b"needs the BuildKit backend" in r.stderr


def test_harness_spreads_cases_over_builders(second_builder, tmp_path):
    name, engine = second_builder
    out = tmp_path / "outcomes.json"
    proc = subprocess.run([sys.executable, "-m", "bench.outcomes", *HARNESS_CASES, "--modes", "safe",
                           "--repeat", "1", "--builders", f"default,{name}", "--json", str(out), "--report", "-"],
                          cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["results"]
    assert [r["case"] for r in results] == HARNESS_CASES
    builders = {r["case"]: r["builder"] for r in results}
    assert builders == {HARNESS_CASES[0]: "default", HARNESS_CASES[1]: name}
    for r in results:
        entry = r["modes"]["safe"]
        assert entry["backend"] == "buildkit"
        assert entry["builder"].startswith(f"{r['builder']} (docker driver"), entry["builder"]
        metrics = entry["metrics"]
        assert metrics["original"]["smoke_ok"] and metrics["rewritten"]["smoke_ok"], entry["summary"]
    assert engine.labelled(RUN_LABEL) == [] and engine.build_cache() == []

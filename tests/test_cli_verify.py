"""`dockopt --verify` from the command line: a real build, JSON output, and no engine."""
from __future__ import annotations

import json

import pytest
from conftest import run_cli

APP = "FROM busybox:latest\nRUN echo one > /a\nRUN echo two > /b\nCMD [\"cat\", \"/a\", \"/b\"]\n"


def test_verify_without_an_engine_says_how_to_start_one(tmp_path):
    (tmp_path / "Dockerfile").write_text(APP)
    r = run_cli("--verify", str(tmp_path / "Dockerfile"), env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "dockerd" in err or "DOCKER_HOST" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_verify_needs_a_file_on_disk():
    r = run_cli("--verify", "-", input=APP.encode())
    assert r.returncode == 2 and b"needs a Dockerfile on disk" in r.stderr


@pytest.mark.docker
def test_verify_builds_both_and_reports_json(tmp_path, docker_engine):
    try:
        docker_engine.images.get("busybox:latest")
    except Exception:
        pytest.fail("busybox:latest stand-in is missing: run python -m bench.bases")
    (tmp_path / "Dockerfile").write_text(APP)
    r = run_cli("--verify", "--format", "json", "--select", "DO101", "--smoke", "cat /a /b",
                str(tmp_path / "Dockerfile"))
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    doc = json.loads(r.stdout)
    v = doc["files"][0]["verify"]  # the file object of the versioned JSON document
    assert v["verdict"] == "equivalent"
    assert v["original"]["stats"]["layer_count"] == v["rewritten"]["stats"]["layer_count"] + 1
    smoke = v["equivalence"]["smoke"]
    assert smoke["original"]["output"].split() == ["one", "two"] == smoke["rewritten"]["output"].split()
    assert (tmp_path / "Dockerfile").read_text() == APP  # --verify writes nothing

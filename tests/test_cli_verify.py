"""`dockopt --verify` from the command line: a real build, JSON output, and no engine."""
from __future__ import annotations

import json

import pytest
from conftest import run_cli
from test_report import validate_json_output

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
    doc = validate_json_output(r.stdout.decode())  # the versioned document of docs/json-schema.md
    assert doc["mode"] == "verify" and doc["files"][0]["fixes"] == ["DO101 Merge 2 RUN instructions"]
    v = doc["files"][0]["verify"]  # the file object of the versioned JSON document
    assert v["verdict"] == "equivalent"
    assert v["original"]["stats"]["layer_count"] == v["rewritten"]["stats"]["layer_count"] + 1
    smoke = v["equivalence"]["smoke"]
    assert smoke["original"]["output"].split() == ["one", "two"] == smoke["rewritten"]["output"].split()
    assert (tmp_path / "Dockerfile").read_text() == APP  # --verify writes nothing


@pytest.mark.docker
def test_without_buildx_the_classic_builder_is_used_with_a_note(tmp_path, docker_engine):
    # a docker config directory without the buildx plugin: the CLI finds no plugin
    config = tmp_path / "docker-config"
    config.mkdir()
    (tmp_path / "Dockerfile").write_text(APP)
    r = run_cli("--verify", "--format", "json", "--select", "DO101", str(tmp_path / "Dockerfile"),
                env={"DOCKER_CONFIG": str(config)})
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    v = json.loads(r.stdout)["files"][0]["verify"]
    assert v["verdict"] == "equivalent" and v["backend"] == "classic"
    notes = [n for n in v["notes"] if n.startswith("BuildKit unavailable")]
    assert len(notes) == 1 and "buildx" in notes[0] and notes[0].endswith("built with the classic builder")
    # asked for explicitly, BuildKit's absence is a one-line reason, not a fallback
    r = run_cli("--verify", "--backend", "buildkit", "--select", "DO101", str(tmp_path / "Dockerfile"),
                env={"DOCKER_CONFIG": str(config)})
    assert r.returncode == 1
    assert "cannot verify with BuildKit: no docker buildx plugin found" in r.stdout.decode()


@pytest.mark.docker
def test_target_builds_that_stage_of_both_files(tmp_path, docker_engine):
    text = ("FROM busybox:latest AS base\nRUN echo base > /base\n"
            "FROM base AS app\nRUN echo one > /a\nRUN echo two > /b\n"
            "FROM base AS other\nRUN exit 7\n")
    (tmp_path / "Dockerfile").write_text(text)
    r = run_cli("--verify", "--format", "json", "--select", "DO101", "--target", "app", "--smoke", "cat /base /a /b",
                str(tmp_path / "Dockerfile"))
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    v = json.loads(r.stdout)["files"][0]["verify"]
    assert v["equivalence"]["smoke"]["original"]["output"] == "base\none\ntwo\n"
    # the failing stage is not built; the target's steps are
    steps = [s["name"] for s in v["original"]["build"]["steps"]]
    assert steps == ["RUN echo base > /base", "RUN echo one > /a", "RUN echo two > /b"]

"""Engine faults, interruptions and secrets, against a private second dockerd.

Every test here runs `dockopt --verify` (or verify()) against an engine of its
own (tests/engines.py): a dockerd with its own socket, data root on a 300 MB
loop-mounted ext4 disk, and exec root, so that stopping it or filling its disk
cannot disturb the main engine the other tests share.  Most run with both
backends: BuildKit (docker buildx, the default) and the classic builder.
Since nobody else uses the engine, "nothing left behind" is checked strictly
after each test: no container at all, no image but the busybox stand-in,
nothing carrying the verifier's label, no build cache.  Needs root and a
dockerd (scripts/docker-up.sh); in CI (CI set) their absence is a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import IN_CI, REPO

from dockopt.verify import RUN_LABEL, EngineFault, verify
from dockopt.verify import engine as engine_mod
from dockopt.verify.progress import Progress

pytestmark = pytest.mark.docker

STOPPING = "FROM busybox:latest\nRUN echo one > /a\nRUN sleep 60 && echo two > /b\n"
QUICK = "FROM busybox:latest\nRUN echo one > /a\nRUN echo two > /b\n"


@pytest.fixture(scope="module")
def private(docker_engine):
    from engines import PrivateEngine, dockerd_argv

    problem = None
    if os.geteuid() != 0:
        problem = "a private dockerd needs root"
    elif dockerd_argv() is None or not shutil.which("mkfs.ext4"):
        problem = "no dockerd (scripts/docker-up.sh provides one) or mkfs.ext4 is not installed"
    if problem:
        if IN_CI:
            pytest.fail(f"CI must run the engine fault tests: {problem}")
        pytest.skip(problem)
    engine = PrivateEngine(disk_mb=300, main=docker_engine)
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(autouse=True)
def clean_after(private, tmp_path, monkeypatch):
    """Each test gets its own journal directory; afterwards the engine must hold nothing of ours."""
    state = tmp_path / "state"
    monkeypatch.setenv("DOCKOPT_STATE_DIR", str(state))
    base = private.client.images.get("busybox:latest").id
    yield state
    private.ensure_running()
    assert private.labelled(RUN_LABEL) == []
    api = private.client.api
    assert [c["Id"][:12] for c in api.containers(all=True)] == []
    assert set(api.images(all=True, quiet=True)) == {base}
    assert private.build_cache() == []


BACKENDS = ["buildkit", "classic"]


def _cli(private, *args: str, env: dict | None = None, host: str | None = None) -> subprocess.Popen:
    full = dict(os.environ, DOCKER_HOST=host or private.host, **(env or {}))
    full.pop("DOCKOPT_DEBUG", None)
    # --unsafe-fixes: a merge that saves nothing (sleep, dd) is only offered as unsafe
    return subprocess.Popen([sys.executable, "-m", "dockopt", "--verify", "--unsafe-fixes", "--select", "DO101",
                             *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=full)


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.decode(), err.decode()


def _one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def _running(private, needle: str) -> bool:
    """Is a build step running `needle` on the private engine (a container, or a BuildKit process)?"""
    running = private.client.api.containers(filters={"status": "running"})
    if any(needle in (c.get("Command") or "") for c in running):
        return True
    # BuildKit runs its steps with runc, not as containers the API lists: look for the process,
    # a child of this engine's daemon (its root directory is the engine's exec root's view)
    from engines import _pids_matching

    return any(_is_under(private, p) for p in _pids_matching(needle))


def _is_under(private, pid: int) -> bool:
    """Does `pid` descend from the private engine's daemon?"""
    if private.proc is None:
        return False
    while pid > 1:
        if pid == private.proc.pid:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


def _wait_for_step(private, proc: subprocess.Popen, needle: str, limit: float = 30.0) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if _running(private, needle):
            return
        assert proc.poll() is None, _finish(proc)
        time.sleep(0.2)
    pytest.fail(f"no build step running {needle!r} within {limit}s")


def _dockerfile(tmp_path: Path, text: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(text)
    return ctx / "Dockerfile"


@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_stopping_mid_build_is_one_line_and_the_next_run_sweeps(private, tmp_path, clean_after, backend):
    proc = _cli(private, "--backend", backend, str(_dockerfile(tmp_path, STOPPING)))
    _wait_for_step(private, proc, "sleep 60")
    private.stop(grace=2.0)           # SIGTERM, then SIGKILL after 2 s
    rc, out, err = _finish(proc)
    _one_line_error(rc, err, "the Docker engine stopped during the build of the original image",
                    "the next verification against this engine removes it")
    assert out == ""
    # What the dead run made survives the engine's restart, without our label: with the
    # classic builder the first step's image and the killed step's container, with
    # BuildKit the first step's cache record.
    private.start()
    journals = list(clean_after.glob("*.json"))
    assert len(journals) == 1
    recorded = json.loads(journals[0].read_text())
    if backend == "classic":
        assert private.client.api.containers(all=True), "expected the killed build's container to survive"
        assert recorded["images"] and recorded["containers"]
    else:
        assert any("echo one > /a" in d for d in private.build_cache()), private.build_cache()
        assert recorded["cache"]["windows"] and any("echo one" in n for n in recorded["cache"]["names"])
    # The next run against the engine removes them before it builds.
    r = verify(QUICK, QUICK.replace("\nRUN echo two", " && echo two"), tmp_path / "ctx",
               host=private.host, timeout=60, backend=backend)
    assert r.verdict == "equivalent", r.summary
    assert r.backend == backend
    assert any("earlier verifications left" in n for n in r.notes), r.notes
    assert list(clean_after.glob("*.json")) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_disk_full_during_a_build_names_the_data_root(private, tmp_path, backend):
    text = "FROM busybox:latest\nRUN echo one > /a\nRUN dd if=/dev/zero of=/fill bs=1M count=400\n"
    rc, _out, err = _finish(_cli(private, "--backend", backend, str(_dockerfile(tmp_path, text))))
    _one_line_error(rc, err, "no space left on the device holding the Docker data root (",
                    str(private.data))
    assert "free of" in err


@pytest.mark.parametrize("backend", BACKENDS)
def test_hanging_build_times_out_with_exit_2(private, tmp_path, backend):
    started = time.monotonic()
    rc, out, err = _finish(_cli(private, "--backend", backend, "--timeout", "3",
                                str(_dockerfile(tmp_path, STOPPING))))
    _one_line_error(rc, err, "the original build timed out", "within 3s")
    assert out == ""
    assert time.monotonic() - started < 40


@pytest.mark.alone
@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_mid_build_exits_2_and_cleans_up(private, tmp_path, backend):
    # its own step (sleep 61): a step an earlier test interrupted may still be winding down, and
    # seeing that one would send Ctrl-C before this run's build has started
    proc = _cli(private, "--backend", backend, str(_dockerfile(tmp_path, STOPPING.replace("sleep 60", "sleep 61"))))
    _wait_for_step(private, proc, "sleep 61")
    proc.send_signal(signal.SIGINT)
    rc, _out, err = _finish(proc)
    _one_line_error(rc, err, "dockopt: interrupted")
    assert not _running(private, "sleep 61"), "the interrupted build step still runs"


@pytest.mark.parametrize("backend", BACKENDS)
def test_verifier_containers_are_unprivileged_without_host_mounts(private, tmp_path, monkeypatch, backend):
    seen: dict[str, dict] = {}
    real = engine_mod.Engine.track_container

    def track(self, cid):
        if cid and cid not in seen:
            seen[cid] = self.client.api.inspect_container(cid)   # inspected while it exists
        real(self, cid)

    monkeypatch.setattr(engine_mod.Engine, "track_container", track)
    probe = "grep CapEff /proc/self/status; cat /proc/mounts"
    original = f"FROM busybox:latest\nRUN ({probe}) > /build.txt && sleep 1\nRUN echo two > /b\n"
    rewritten = f"FROM busybox:latest\nRUN ({probe}) > /build.txt && sleep 1 && echo two > /b\n"
    r = verify(original, rewritten, _dockerfile(tmp_path, original).parent, host=private.host,
               smoke=f"{probe}; cat /build.txt", timeout=60, backend=backend)
    # (/proc/mounts names each container's own overlay directories: the files differ)
    assert r.original.build.ok and r.rewritten.build.ok and r.equivalence.smoke, r.summary
    # the classic builder's steps run in containers, BuildKit's do not (their view is in /build.txt)
    assert len(seen) >= (4 if backend == "classic" else 2)
    for cid, attrs in seen.items():
        host = attrs["HostConfig"]
        assert host["Privileged"] is False, cid
        assert not host.get("CapAdd"), (cid, host.get("CapAdd"))
        assert not host.get("Binds") and not host.get("Mounts") and not attrs.get("Mounts"), cid
        assert not host.get("Devices"), cid
        assert host.get("NetworkMode") != "host" and host.get("PidMode") != "host", cid
        assert not any("unconfined" in o for o in host.get("SecurityOpt") or []), cid
    out = r.equivalence.smoke.original.output
    caps = {line.split()[1] for line in out.splitlines() if line.startswith("CapEff:")}
    assert caps == {"00000000a80425fb"}, out   # Docker's default set, at build and smoke time
    for line in out.splitlines():
        if line.startswith("CapEff:"):
            continue
        _device, point, fstype = line.split()[:3]
        if fstype in ("ext4", "xfs", "btrfs", "vfat"):   # host filesystems: only Docker's own files
            assert point in ("/etc/resolv.conf", "/etc/hostname", "/etc/hosts"), line


def _run_left(client, run_id: str) -> list:
    label = f"{RUN_LABEL}={run_id}"
    return (client.api.images(all=True, quiet=True, filters={"label": label})
            + client.api.containers(all=True, filters={"label": label}))


@pytest.mark.parametrize("backend", BACKENDS)
def test_build_arg_values_never_appear_in_any_output(private, tmp_path, monkeypatch, backend):
    host, client = private.host, private.client
    secret = f"s3cr3t-{uuid.uuid4().hex[:12]}"
    text = ("FROM busybox:latest\nARG TOKEN\n"
            "RUN echo \"token=$TOKEN\" > /t && echo \"building with $TOKEN\"\n"
            "RUN test -n \"$TOKEN\" && echo two > /b\nENV SEEN=$TOKEN\n")
    path = _dockerfile(tmp_path, text)
    for fmt in ("text", "json"):
        rc, out, err = _finish(_cli(private, "--backend", backend, "--format", fmt, "--build-arg", "TOKEN",
                                    "--smoke", "cat /t; echo \"seen=$SEEN\"", str(path), env={"TOKEN": secret},
                                    host=host))
        assert rc == 0, out + err
        assert secret not in out + err
        if fmt == "json":
            doc = json.loads(out)["files"][0]["verify"]
            assert doc["verdict"] == "equivalent"
            assert doc["equivalence"]["smoke"]["original"]["output"] == "token=***\nseen=***\n"
            assert _run_left(client, doc["run_id"]) == []
    # a build that fails: the value is in its log and would be in its error
    shown: list[str] = []
    monkeypatch.setattr(Progress, "line", lambda self, line: shown.append(line))
    failing = text.replace("RUN test -n", "RUN echo \"no $TOKEN\" && exit 3 && test -n")
    with_value = verify(failing, text, path.parent, host=host, backend=backend,
                        build_args={"TOKEN": secret}, timeout=60)
    assert with_value.verdict == "original-failed", with_value.summary
    assert any("***" in line for line in shown)
    dumped = json.dumps(with_value.to_dict()) + "\n".join(shown)
    assert secret not in dumped
    assert _run_left(client, with_value.run_id) == []
    # NAME alone and unset: not passed, like docker build (so `test -n` fails)
    monkeypatch.delenv("TOKEN", raising=False)
    rc, out, err = _finish(_cli(private, "--backend", backend, "--build-arg", "TOKEN", str(path), host=host))
    assert rc == 1, out + err
    assert "does not build" in out


def test_secret_values_never_appear_in_any_output(private, tmp_path, monkeypatch):
    secret = f"t0ken-{uuid.uuid4().hex[:12]}"
    (tmp_path / "token").write_text(secret + "\n")
    text = ("FROM busybox:latest\n"
            "RUN --mount=type=secret,id=api cat /run/secrets/api && echo one > /a\n"
            "RUN --mount=type=secret,id=api test -s /run/secrets/api && echo two > /b\n")
    path = _dockerfile(tmp_path, text)
    rc, out, err = _finish(_cli(private, "--format", "json", "--secret", f"id=api,src={tmp_path / 'token'}",
                                "--smoke", "cat /a /b", str(path)))
    assert rc == 0, out + err
    assert secret not in out + err
    doc = json.loads(out)["files"][0]["verify"]
    assert doc["verdict"] == "equivalent" and doc["backend"] == "buildkit"
    # the step printed the secret: the log shows *** in its place
    shown: list[str] = []
    monkeypatch.setattr(Progress, "line", lambda self, line: shown.append(line))
    monkeypatch.setenv("API_TOKEN", secret)
    r = verify(text, text.replace("\nRUN --mount=type=secret,id=api test", " && test"), path.parent, host=private.host,
               secrets=["id=api,env=API_TOKEN"], timeout=60)
    assert r.verdict == "equivalent", r.summary
    assert any("***" in line for line in shown), shown
    assert secret not in json.dumps(r.to_dict()) + "\n".join(shown)
    # the classic builder has no secrets
    with pytest.raises(ValueError, match="needs the BuildKit backend"):
        verify(text, text, path.parent, host=private.host, backend="classic", secrets=["id=api,env=API_TOKEN"])


def test_bad_build_arg_is_one_line(private, tmp_path):
    rc, _out, err = _finish(_cli(private, "--build-arg", "=x", str(_dockerfile(tmp_path, QUICK))))
    _one_line_error(rc, err, "--build-arg needs NAME or NAME=VALUE")


def test_engine_fault_is_exported():
    assert issubclass(engine_mod.EngineUnavailable, EngineFault)

"""dockopt.verify against a real Docker engine: real builds, real images, real cleanup.

Needs an engine (DOCKER_HOST or the default socket) with the buildx plugin
(scripts/docker-up.sh).  Without one these tests are skipped, except under CI
(CI set), where they fail: CI must really build.  What a verification
measures is checked with both backends: BuildKit (the default) and the
classic builder.
The base image is a busybox root made from Debian's busybox-static package
(`docker import`), so the tests do not depend on other people's images;
`busybox:latest` is the fallback when the package cannot be downloaded.
The apt test needs the `debian:bookworm` stand-in (python -m bench.bases).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

import docker
import pytest

from dockopt.verify import RUN_LABEL, verify
from dockopt.verify import buildkit as buildkit_mod
from dockopt.verify import engine as engine_mod
from dockopt.verify import runner as runner_mod
from dockopt.verify.progress import Progress

pytestmark = pytest.mark.docker

IN_CI = bool(os.environ.get("CI"))
TEST_BASE = "dockopt-test/busybox:latest"


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI needs a Docker engine for these tests: {reason}")
    pytest.skip(f"no Docker engine reachable ({reason}); start dockerd or set DOCKER_HOST")


@pytest.fixture(scope="session")
def client():
    try:
        c = docker.from_env(timeout=30)
        c.ping()
    except Exception as exc:
        _unavailable(str(exc))
    yield c
    # Nothing any verification of this session made may be left on the engine:
    # neither what carries its label nor the unlabelled intermediate images
    # it recorded by id.
    left = [f"{e.run_id}: {x}" for e in ENGINES for x in e.leftovers() + _cache_left(e)]
    for run_id in engine_mod.RUN_IDS:
        label = f"{RUN_LABEL}={run_id}"
        left += [f"image {i}" for i in c.api.images(all=True, quiet=True, filters={"label": label})]
        left += [f"container {x['Id']}" for x in c.api.containers(all=True, filters={"label": label})]
    assert not left, f"verification runs left objects behind: {left}"


ENGINES: list = []
BACKENDS = ["buildkit", "classic"]


def _cache_left(engine) -> list[str]:
    """BuildKit cache records a run made that are still there (chosen as its cleanup chooses them).

    (Records in use belong to builds running now: other people's, on a shared engine. The local
    sources are left out: every build sends some, and those of other people's builds running at
    the same time cannot be told from ours.)
    """
    if not engine.cache_windows:
        return []
    records = (buildkit_mod.cache_records(engine) or {}).values()
    mine = engine_mod.own_records([r for r in records if not r.in_use], engine.cache_before or frozenset(),
                                  engine.cache_windows, engine.cache_names, engine.cache_commands)
    return [f"cache record {r.id} ({r.description})" for r in mine
            if engine_mod.record_kind(r.description, engine.cache_names, engine.cache_commands) != "source"]


@pytest.fixture(autouse=True)
def _record_engines(monkeypatch):
    """Keep every Engine a verify() call connects, to check its leftovers afterwards."""
    real = runner_mod.connect

    def connect(**kw):
        engine = real(**kw)
        ENGINES.append(engine)
        return engine

    monkeypatch.setattr(runner_mod, "connect", connect)


def _busybox_root(dest: Path) -> bool:
    """Unpack busybox-static into dest/root; False when the package cannot be had."""
    debs = dest / "debs"
    debs.mkdir()
    try:
        subprocess.run(["apt-get", "download", "busybox-static"], cwd=debs, check=True,
                       capture_output=True, timeout=120)
        deb = next(debs.glob("busybox-static_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest / "x")], check=True, timeout=60)
    except (OSError, subprocess.SubprocessError, StopIteration):
        return False
    root = dest / "root"
    for d in ("bin", "tmp", "etc", "root"):
        (root / d).mkdir(parents=True)
    (root / "tmp").chmod(0o1777)
    shutil.copy2(dest / "x" / "bin" / "busybox", root / "bin" / "busybox")
    applets = subprocess.run([str(root / "bin" / "busybox"), "--list"], capture_output=True, text=True,
                             check=True, timeout=30).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return True


@pytest.fixture(scope="session")
def base(client):
    """A tiny base image for the tests' Dockerfiles."""
    work = Path(tempfile.mkdtemp(prefix="dockopt-verify-base-"))
    made = None
    session = f"test-base-{uuid.uuid4().hex[:8]}"
    try:
        if _busybox_root(work):
            tar_path = work / "root.tar"
            with tarfile.open(tar_path, "w") as tar:
                tar.add(work / "root", arcname=".")
            client.api.import_image_from_data(
                tar_path.read_bytes(), repository="dockopt-test/busybox", tag="latest",
                changes=['CMD ["sh"]', f"LABEL org.dockopt.test-base={session}"])
            made = client.images.get(TEST_BASE).id
            name = TEST_BASE
        else:
            try:
                client.images.get("busybox:latest")
            except docker.errors.ImageNotFound:
                _unavailable("neither busybox-static (apt-get download) nor a busybox:latest image is available")
            name = "busybox:latest"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    yield name
    if made:
        # every image the tests built from this base inherits its label: all must be gone
        derived = set(client.api.images(all=True, quiet=True,
                                        filters={"label": f"org.dockopt.test-base={session}"}))
        derived.discard(made)
        assert not derived, f"images built on the test base were left behind: {sorted(derived)}"
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(made, force=True)


def _ctx(tmp_path: Path, files: dict[str, str]) -> Path:
    ctx = tmp_path / "ctx"
    for rel, text in files.items():
        p = ctx / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return ctx


def _no_leftovers(client, run_id: str) -> None:
    engine = next(e for e in ENGINES if e.run_id == run_id)
    assert engine.leftovers() == []
    assert _cache_left(engine) == []
    label = f"{RUN_LABEL}={run_id}"
    assert client.api.images(all=True, quiet=True, filters={"label": label}) == []
    assert client.api.containers(all=True, filters={"label": label}) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_deleting_in_a_later_layer_wastes_bytes_merging_does_not(client, base, tmp_path, backend):
    original = (f"FROM {base}\n"
                "RUN dd if=/dev/zero of=/big bs=1024 count=512 2>/dev/null\n"
                "RUN rm /big && echo done > /done\n")
    rewritten = (f"FROM {base}\n"
                 "RUN dd if=/dev/zero of=/big bs=1024 count=512 2>/dev/null && rm /big && echo done > /done\n")
    r = verify(original, rewritten, _ctx(tmp_path, {"x": "x\n"}), smoke="cat /done", timeout=120, backend=backend)
    assert r.verdict == "equivalent", r.summary
    assert r.backend == backend
    a, b = r.original.stats, r.rewritten.stats
    assert a.wasted_bytes == 512 * 1024 and b.wasted_bytes == 0
    assert a.efficiency < 0.85 and b.efficiency == 1.0   # the base layer counts as efficient
    assert a.shadowed_bytes >= 512 * 1024 and b.shadowed_bytes == 0
    assert b.size < a.size - 500_000
    assert b.layer_count == a.layer_count - 1
    assert any("dd if=/dev/zero" in layer.created_by and layer.size >= 512 * 1024 for layer in a.layers)
    assert r.equivalence.smoke.original.output == "done\n"
    assert r.cleanup.leftovers == ()
    _no_leftovers(client, r.run_id)


HOISTED_FILES = {"requirements.txt": "flask==3.0\n", "app.py": "print('hi')\n", "static/site.css": "a{}\n"}


def _hoisted(base: str) -> tuple[str, str]:
    original = (f"FROM {base}\nWORKDIR /app\nCOPY . .\n"
                "RUN cat requirements.txt > /deps.txt && sleep 2\nCMD [\"cat\", \"/deps.txt\"]\n")
    rewritten = (f"FROM {base}\nWORKDIR /app\nCOPY requirements.txt .\n"
                 "RUN cat requirements.txt > /deps.txt && sleep 2\nCOPY . .\nCMD [\"cat\", \"/deps.txt\"]\n")
    return original, rewritten


INSTALL = "RUN cat requirements.txt > /deps.txt && sleep 2"


@pytest.mark.parametrize("backend", BACKENDS)
def test_hoisted_install_stays_cached_after_a_source_edit(client, base, tmp_path, backend):
    ctx = _ctx(tmp_path, HOISTED_FILES)
    app = ctx / "app.py"
    past = time.time() - 3600
    os.utime(app, (past, past))
    before = app.stat()
    original, rewritten = _hoisted(base)
    r = verify(original, rewritten, ctx, smoke="cat /deps.txt; ls /app", timeout=120, backend=backend)
    assert r.verdict == "equivalent", r.summary
    assert r.backend == backend
    if backend == "buildkit":
        assert "docker driver" in r.builder and "buildx" in r.builder
        assert r.cleanup.cache_records_pruned > 0
    o_src, w_src = r.original.rebuild("source-edit"), r.rewritten.rebuild("source-edit")
    assert o_src.edited == ("app.py",) and w_src.edited == ("app.py",)
    assert INSTALL in o_src.build.ran                 # original reinstalls after any edit
    assert INSTALL not in w_src.build.ran             # rewritten takes it from the cache
    assert any(s.name == INSTALL and s.cached for s in w_src.build.steps)
    assert w_src.seconds < o_src.seconds
    install = next(s for s in o_src.build.steps if s.name == INSTALL)
    assert install.seconds >= 2          # the step's own duration: it sleeps 2 s
    for side in (r.original, r.rewritten):
        nochange = side.rebuild("no-change")
        assert nochange.run_steps == 0 and nochange.cached_steps >= 3
        manifest = side.rebuild("manifest-edit")
        assert manifest.edited == ("requirements.txt",) and INSTALL in manifest.build.ran
    assert r.equivalence.smoke.same
    assert "flask==3.0" in r.equivalence.smoke.original.output
    # the context is exactly as it was
    after = app.stat()
    assert app.read_text() == HOISTED_FILES["app.py"]
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert (ctx / "requirements.txt").read_text() == HOISTED_FILES["requirements.txt"]
    assert sorted(p.name for p in ctx.iterdir()) == sorted({"requirements.txt", "app.py", "static"})
    d = json.loads(json.dumps(r.to_dict()))
    assert d["rewritten"]["rebuilds"][1]["scenario"] == "source-edit"
    assert d["original"]["rebuilds"][1]["build"]["ran"] == list(o_src.build.ran)
    _no_leftovers(client, r.run_id)


@pytest.mark.parametrize("backend", BACKENDS)
def test_differences_are_reported(client, base, tmp_path, backend):
    original = f"FROM {base}\nRUN echo one > /v && chmod 600 /v\nENV MODE=a\nCMD [\"cat\", \"/v\"]\n"
    rewritten = f"FROM {base}\nRUN echo two > /v && echo extra > /extra\nENV MODE=b\nCMD [\"cat\", \"/v\"]\n"
    r = verify(original, rewritten, _ctx(tmp_path, {"x": "x\n"}), smoke="cat /v", timeout=120, backend=backend)
    assert r.verdict == "different"
    eq = r.equivalence
    assert [d.field for d in eq.config] == ["Env"]
    assert eq.filesystem.added == ("/extra",)
    changed = {c.path: c.detail for c in eq.filesystem.changed}
    assert changed["/v"].startswith("mode 0600 -> 0644") and "content" in changed["/v"]
    assert not eq.smoke.same and eq.smoke.original.output == "one\n" and eq.smoke.rewritten.output == "two\n"
    assert "different" in r.summary and "config Env" in r.summary


@pytest.mark.parametrize("backend", BACKENDS)
def test_original_that_does_not_build_is_reported(client, base, tmp_path, backend):
    original = f"FROM {base}\nRUN echo before && exit 3\n"
    rewritten = f"FROM {base}\nRUN echo fine\n"
    r = verify(original, rewritten, _ctx(tmp_path, {"x": "x\n"}), timeout=120, backend=backend)
    assert r.verdict == "original-failed"
    assert not r.original.build.ok and r.original.stats is None
    assert ("non-zero code: 3" if backend == "classic" else "exit code: 3") in r.original.build.error
    assert "before" in r.original.build.log_tail
    assert r.rewritten.build.ok
    assert r.equivalence is None
    assert "original Dockerfile does not build" in r.summary
    _no_leftovers(client, r.run_id)
    bad = verify(f"FROM {base}\nFOO bar\n", rewritten, _ctx(tmp_path / "b", {"x": "x\n"}), timeout=120,
                 backend=backend)
    assert bad.verdict == "original-failed"
    assert "line 2: unknown instruction: FOO" in bad.original.build.error
    # no FROM at all: nothing is sent to the engine (BuildKit 0.13's frontend crashes the daemon on it)
    empty = verify("ARG A=1\n", rewritten, _ctx(tmp_path / "c", {"x": "x\n"}), timeout=120, backend=backend)
    assert empty.verdict == "original-failed" and "no FROM instruction" in empty.summary
    assert client.ping()


@pytest.mark.parametrize("backend", BACKENDS)
def test_hanging_build_hits_the_timeout(client, base, tmp_path, backend):
    original = f"FROM {base}\nRUN echo start && sleep 300\n"
    started = time.monotonic()
    r = verify(original, original, _ctx(tmp_path, {"x": "x\n"}), timeout=4, backend=backend)
    assert time.monotonic() - started < 60
    assert r.original.build.timed_out and r.rewritten.build.timed_out
    assert r.verdict == "both-failed" and "timed out" in r.summary
    _no_leftovers(client, r.run_id)
    # the interrupted step's container is gone too (it carries no label of ours)
    assert not [c for c in client.api.containers(all=True) if "sleep 300" in (c.get("Command") or "")]


def test_buildkit_file_is_built_with_buildkit(client, base, tmp_path):
    original, _ = _hoisted(base)
    rewritten = ("# syntax=docker/dockerfile:1\n"
                 f"FROM {base}\nWORKDIR /app\nCOPY --chmod=0644 requirements.txt .\n"
                 "RUN --mount=type=cache,target=/root/.cache cat requirements.txt > /deps.txt && sleep 2\n"
                 "COPY . .\nCMD [\"cat\", \"/deps.txt\"]\n")
    started = time.monotonic()
    r = verify(original, rewritten, _ctx(tmp_path, HOISTED_FILES), smoke="cat /deps.txt", timeout=120)
    assert r.backend == "buildkit"
    assert r.verdict == "equivalent", r.summary
    # no registry here: the stock frontend the directive names is replaced by the engine's own
    assert any("instead of `# syntax=docker/dockerfile:1`" in n for n in r.notes), r.notes
    w_src = r.rewritten.rebuild("source-edit")
    assert any(s.cached and s.name.startswith("RUN --mount") for s in w_src.build.steps)
    assert not any(s.name.startswith("RUN") for s in r.original.rebuild("source-edit").build.steps if s.cached)
    assert r.rewritten.rebuild("no-change").run_steps == 0
    assert time.monotonic() - started < 120
    _no_leftovers(client, r.run_id)
    # the same file with the classic builder: a one-line reason, nothing built
    classic = verify(original, rewritten, _ctx(tmp_path / "b", HOISTED_FILES), backend="sdk")
    assert classic.verdict == "cannot-verify" and classic.backend == "classic"
    assert "RUN --mount" in classic.summary and "\n" not in classic.summary


def test_features_this_engine_cannot_build_are_reported(client, base, tmp_path):
    plain = f"FROM {base}\nRUN echo hi > /h\nCMD [\"cat\", \"/h\"]\n"
    heredoc = f"FROM {base}\nRUN <<EOF\necho hi > /h\nEOF\nCMD [\"cat\", \"/h\"]\n"
    r = verify(plain, heredoc, _ctx(tmp_path, {"x": "x\n"}), timeout=120)
    assert r.verdict == "equivalent", r.summary
    _no_leftovers(client, r.run_id)
    parents = f"FROM {base}\nCOPY --parents x /app/\n"
    started = time.monotonic()
    for directive, needle in (("", "COPY --parents, which the Dockerfile frontend built into Docker Engine"),
                              ("# syntax=docker/dockerfile:1.7-labs\n", "needs frontend docker/dockerfile:1.7-labs"),
                              ("# syntax=example.invalid/frontend:1\n", "needs frontend example.invalid/frontend:1")):
        text = directive + (parents if directive != "# syntax=example.invalid/frontend:1\n" else plain)
        r = verify(plain, text, _ctx(tmp_path / str(len(directive)), {"x": "x\n"}), timeout=120)
        assert r.verdict == "cannot-verify", r.summary
        assert r.summary.startswith("cannot verify") and needle in r.summary, r.summary
        assert "\n" not in r.summary
        _no_leftovers(client, r.run_id)
    assert time.monotonic() - started < 120        # a frontend that cannot be fetched fails fast


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_mid_build_cleans_up_and_restores(client, base, tmp_path, monkeypatch, backend):
    ctx = _ctx(tmp_path, HOISTED_FILES)
    app = ctx / "app.py"
    before = (app.read_bytes(), app.stat().st_mtime_ns)
    state = {"phase": ""}
    real_phase = Progress.phase

    def phase(self, text):
        state["phase"] = text
        real_phase(self, text)

    def line(self, text):
        # interrupt during the rewritten side's source-edit rebuild, once it runs a step
        if state["phase"].startswith("rewritten: rebuild after editing") and "COPY . ." in text:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "phase", phase)
    monkeypatch.setattr(Progress, "line", line)
    runs_before = len(engine_mod.RUN_IDS)
    original, rewritten = _hoisted(base)
    with pytest.raises(KeyboardInterrupt):
        verify(original, rewritten, ctx, backend=backend, timeout=120)
    assert len(engine_mod.RUN_IDS) == runs_before + 1
    _no_leftovers(client, engine_mod.RUN_IDS[-1])
    assert (app.read_bytes(), app.stat().st_mtime_ns) == before
    # no docker CLI left running for us
    if backend == "buildkit":
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        assert str(ctx) not in ps


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_real_apt_merge_shrinks_the_image(client, tmp_path, backend):
    try:
        client.images.get("debian:bookworm")
    except docker.errors.ImageNotFound:
        msg = "debian:bookworm stand-in is missing (python -m bench.bases builds it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    original = ("FROM debian:bookworm\n"
                "RUN apt-get update\n"
                "RUN apt-get install -y --no-install-recommends hello\n"
                "RUN apt-get install -y --no-install-recommends tree\n"
                "RUN apt-get install -y --no-install-recommends libgomp1\n"
                "RUN apt-get clean\n")
    rewritten = ("FROM debian:bookworm\n"
                 "RUN apt-get update \\\n"
                 " && apt-get install -y --no-install-recommends hello tree libgomp1 \\\n"
                 " && apt-get clean && rm -rf /var/lib/apt/lists/*\n")
    r = verify(original, rewritten, _ctx(tmp_path, {"x": "x\n"}), smoke="hello && tree --version",
               timeout=600, backend=backend)
    assert r.original.build.ok and r.rewritten.build.ok, r.summary
    a, b = r.original.stats, r.rewritten.stats
    assert b.size < a.size and b.layer_count < a.layer_count
    assert b.wasted_bytes < a.wasted_bytes
    assert r.equivalence.smoke.same, r.equivalence.smoke
    assert not r.equivalence.config
    fs = r.equivalence.filesystem
    cache = {g.category: g for g in fs.ignored}["cache"]
    assert cache.original_bytes > cache.rewritten_bytes       # the apt lists went
    assert not fs.added and not fs.removed, (fs.added, fs.removed)
    _no_leftovers(client, r.run_id)


def test_repeated_rebuilds_report_the_median_run(client, base, tmp_path):
    ctx = _ctx(tmp_path, HOISTED_FILES)
    original, rewritten = _hoisted(base)
    r = verify(original, rewritten, ctx, timeout=120, rebuild_repeats=3)
    assert r.backend == "buildkit"
    assert r.verdict == "equivalent", r.summary
    for side in (r.original, r.rewritten):
        for scenario in ("source-edit", "manifest-edit"):
            rb = side.rebuild(scenario)
            assert len(rb.samples) == 3
            assert rb.seconds == sorted(rb.samples)[1]
        assert side.rebuild("no-change").samples == ()      # nothing edited: run once
    # the median run is a real edit: the original reinstalled, the rewrite took the install from the cache
    assert INSTALL in r.original.rebuild("source-edit").build.ran
    assert INSTALL not in r.rewritten.rebuild("source-edit").build.ran
    assert (ctx / "app.py").read_text() == HOISTED_FILES["app.py"]
    d = json.loads(json.dumps(r.to_dict()))
    assert len(d["original"]["rebuilds"][1]["samples"]) == 3
    _no_leftovers(client, r.run_id)

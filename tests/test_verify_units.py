"""Engine-free parts of dockopt.verify: feature detection, log parsing, comparison, edits, report."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import tarfile
import time
from pathlib import Path

import pytest
from rich.console import Console

from dockopt.verify import features as feat
from dockopt.verify.build import (
    SDK_DOCKERFILE,
    BuildkitLog,
    ClassicLog,
    classify_failure,
    frontend_unavailable,
    make_context_tar,
)
from dockopt.verify.compare import classify, compare_config, compare_files, smoke_argv
from dockopt.verify.edits import (
    appended,
    choose_source_file,
    context_files,
    copy_sources,
    covered,
    detect_manifests,
    edit_suffix,
)
from dockopt.verify.engine import _parse_time, _run_commands
from dockopt.verify.layers import FileEntry
from dockopt.verify.report import (
    BuildOutcome,
    Cleanup,
    Equivalence,
    FilesystemDiff,
    ImageReport,
    ImageStats,
    Rebuild,
    SmokeResult,
    SmokeRun,
    Step,
    VerifyReport,
    render_report,
)

# --------------------------------------------------------------------------
# features


@pytest.mark.parametrize("text, expected", [
    ("FROM x\nRUN apt-get update\n", set()),
    ("FROM x\nRUN --mount=type=cache,target=/root/.cache pip install .\n", {"run-mount"}),
    ("FROM x\nRUN --network=none make\n", {"run-network"}),
    ("FROM x\nCOPY --link --chmod=755 a /b\n", {"copy-link", "copy-chmod"}),
    ("FROM x\nCOPY --parents src/*.py /app/\n", {"copy-parents"}),
    ("FROM x\nADD --exclude=*.md . /app\n", {"copy-exclude"}),
    ("FROM x\nADD --checksum=sha256:ab https://x/y /y\n", {"add-checksum"}),
    ("FROM x\nRUN <<EOF\necho hi\nEOF\n", {"heredoc"}),
    ("FROM x\nCOPY <<-'END' /f\nhi\nEND\n", {"heredoc"}),
    ("# syntax=docker/dockerfile:1\nFROM x\n", {"syntax-directive"}),
    ("#syntax = docker/dockerfile:1.4\n# escape=\\\nFROM x\n", {"syntax-directive"}),
    # not a directive once an ordinary comment or instruction came first
    ("# hello\n# syntax=docker/dockerfile:1\nFROM x\n", set()),
    # flags after the command are the command's, not the instruction's
    ("FROM x\nRUN ls --link --mount\n", set()),
    # continuation lines are one instruction
    ("FROM x\nRUN \\\n  --mount=type=cache,target=/c \\\n  make\n", {"run-mount"}),
])
def test_needed_features(text, expected):
    assert feat.needed_features(text) == expected


def test_engine_frontend_limits():
    fs = frozenset({"run-mount", "copy-chmod", "heredoc", "copy-link"})
    assert feat.unsupported_by_builtin_frontend(fs, "20.10.24+dfsg1") == {"heredoc", "copy-link"}
    assert feat.unsupported_by_builtin_frontend(fs, "27.3.1") == set()
    assert feat.needs_buildkit(frozenset({"copy-chmod"}))
    assert feat.syntax_directive("# syntax=docker/dockerfile:1.4\nFROM a") == (0, "docker/dockerfile:1.4")


# --------------------------------------------------------------------------
# build logs


def test_classic_log_counts_cached_and_run_steps():
    label = "LABEL org.dockopt.run=abc"
    log = ClassicLog(own_label=label)
    chunks = [
        "Step 1/5 : FROM busybox\n", " ---> 242c30d5a22b\n",
        "Step 2/5 : WORKDIR /app\n", " ---> Using cache\n", " ---> f3e3b5498ea8\n",
        "Step 3/5 : COPY . .\n", " ---> c8fa1c0e", "a8dd\n",          # split across chunks
        "Step 4/5 : RUN make\n", " ---> Running in 974da9e0c1f7\n",
        "Removing intermediate container 974da9e0c1f7\n", " ---> f99fe90127ee\n",
        f"Step 5/5 : {label}\n", " ---> Running in e7ffc4d79db3\n", " ---> df7b0af73174\n",
        "Successfully built df7b0af73174\n",
    ]
    for c in chunks:
        log.feed({"stream": c})
    log.feed({"aux": {"ID": "sha256:df7b0af73174aa"}})
    log.finish()
    assert log.steps == [Step("WORKDIR /app", True), Step("COPY . .", False), Step("RUN make", False)]
    # cached step images and the base are not ours; everything built is
    assert log.created_images == ["c8fa1c0ea8dd", "f99fe90127ee", "df7b0af73174"]
    assert log.containers == ["974da9e0c1f7", "e7ffc4d79db3"]
    assert log.image_id == "sha256:df7b0af73174aa"


def test_classic_log_error():
    log = ClassicLog()
    log.feed({"stream": "Step 1/2 : FROM busybox\n ---> 242c30d5a22b\nStep 2/2 : RUN exit 3\n"})
    log.feed({"stream": " ---> Running in 0123456789ab\n"})
    log.feed({"errorDetail": {"code": 3}, "error": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"})
    log.finish()
    assert "non-zero code: 3" in log.error
    assert log.steps == [Step("RUN exit 3", False)]


PLAIN = """#1 [internal] load build definition from Dockerfile
#1 sha256:0e87
#1 transferring dockerfile: 133B done
#1 DONE 0.0s

#3 [internal] load metadata for docker.io/library/busybox:latest
#3 DONE 0.0s

#4 [stage-0 1/4] FROM docker.io/library/busybox:latest
#4 DONE 0.0s

#5 [stage-0 2/4] WORKDIR /app
#5 CACHED

#6 [stage-0 3/4] COPY requirements.txt .
#6 CACHED

#7 [stage-0 4/4] RUN cat requirements.txt > /deps.txt
#7 sha256:1a31
#7 0.182 some output
#7 DONE 0.2s

#8 exporting to image
#8 DONE 0.0s
"""


def test_buildkit_plain_log():
    log = BuildkitLog()
    for line in PLAIN.splitlines():
        log.feed_line(line)
    assert log.steps == [Step("WORKDIR /app", True), Step("COPY requirements.txt .", True),
                         Step("RUN cat requirements.txt > /deps.txt", False)]
    assert log.error is None


def test_buildkit_failures_are_classified():
    log = BuildkitLog()
    for line in ["#1 [internal] load build definition from Dockerfile",
                 ("failed to solve with frontend dockerfile.v0: failed to create LLB definition: "
                  "dockerfile parse error line 2: Unknown flag: link")]:
        log.feed_line(line)
    assert "Unknown flag: link" in log.error
    assert "--link" in classify_failure(log.error, frozenset({"copy-link"}))
    heredoc = "failed to create LLB definition: dockerfile parse error line 3: unknown instruction: ECHO"
    assert "heredoc" in classify_failure(heredoc, frozenset({"heredoc"}))
    assert classify_failure(heredoc, frozenset()) is None     # a plain typo stays the file's fault
    assert classify_failure("exit code: 1", frozenset({"heredoc"})) is None
    gw = ('failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: failed to do '
          'request: Head "https://registry-1.docker.io/v2/docker/dockerfile/manifests/1": dial tcp: no such host')
    assert frontend_unavailable(gw, "docker/dockerfile:1")
    assert not frontend_unavailable("process exited with 1", "docker/dockerfile:1")


def test_context_tar_hides_our_dockerfile(tmp_path):
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "secret.key").write_text("k")
    (tmp_path / ".dockerignore").write_text("*.key\n# comment\n")
    fileobj = make_context_tar(tmp_path, "FROM scratch\n")
    with tarfile.open(fileobj=fileobj) as tar:
        names = set(tar.getnames())
        ignore = tar.extractfile(".dockerignore").read().decode()
        dockerfile = tar.extractfile(SDK_DOCKERFILE).read().decode()
    assert names == {"app.py", ".dockerignore", SDK_DOCKERFILE}
    assert ignore == f"*.key\n# comment\n{SDK_DOCKERFILE}\n"
    assert dockerfile == "FROM scratch\n"
    (tmp_path / ".dockerignore").unlink()
    with tarfile.open(fileobj=make_context_tar(tmp_path, "FROM scratch\n")) as tar:
        assert tar.extractfile(".dockerignore").read().decode() == f".dockerignore\n{SDK_DOCKERFILE}\n"


# --------------------------------------------------------------------------
# comparison


def test_compare_config_ignores_our_label_and_env_order():
    a = {"Cmd": ["python", "app.py"], "Env": ["A=1", "B=2"], "Labels": {"org.dockopt.run": "x", "k": "v"},
         "ExposedPorts": {"80/tcp": {}}, "Volumes": None, "WorkingDir": "/app"}
    b = {"Cmd": ["python", "app.py"], "Env": ["B=2", "A=1"], "Labels": {"org.dockopt.run": "y", "k": "v"},
         "ExposedPorts": {"80/tcp": {}}, "Volumes": {}, "WorkingDir": "/app", "OnBuild": []}
    assert compare_config(a, b) == ()
    b2 = dict(b, Cmd=["python", "main.py"], User="app", Env=["A=1", "B=3"])
    assert [d.field for d in compare_config(a, b2)] == ["Cmd", "Env", "User"]


@pytest.mark.parametrize("path, category", [
    ("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "cache"),
    ("/var/cache/apt/pkgcache.bin", "cache"),
    ("/root/.cache/pip/http/x", "cache"),
    ("/root/.npm/_cacache/index", "cache"),
    ("/home/node/.npm", "cache"),
    ("/usr/lib/python3/dist-packages/__pycache__/x.cpython-311.pyc", "cache"),
    ("/app/mod.pyc", "cache"),
    ("/usr/share/doc/hello/copyright", "docs"),
    ("/usr/share/man/man1/ls.1.gz", "docs"),
    ("/var/log/dpkg.log", "logs"),
    ("/etc/hostname", "build-artifact"),
    ("/var/lib/dpkg/status-old", "cache"),
    ("/tmp/build.log", "temp"),
    ("/var/lib/dpkg/status", None),
    ("/usr/bin/hello", None),
    ("/app/app.py", None),
    ("/tmp", None),
    ("/var/log", None),
])
def test_classify(path, category):
    assert classify(path) == category


def _f(path, kind="file", **kw):
    return FileEntry(path=path, kind=kind, mode=kw.pop("mode", 0o644), uid=kw.pop("uid", 0),
                     gid=kw.pop("gid", 0), **kw)


def test_compare_files():
    a = {p: e for e in [
        _f("/app/a.py", size=3, digest="1"), _f("/app/b.py", size=3, digest="2"),
        _f("/bin/sh", kind="symlink", link="busybox"), _f("/run.sh", mode=0o755, size=1, digest="x"),
        _f("/var/lib/apt/lists/big", size=1000, digest="z"), _f("/gone", size=1, digest="g"),
        _f("/owned", size=1, digest="o"),
    ] for p in [e.path]}
    b = {p: e for e in [
        _f("/app/a.py", size=3, digest="1"), _f("/app/b.py", size=4, digest="3"),
        _f("/bin/sh", kind="symlink", link="dash"), _f("/run.sh", mode=0o644, size=1, digest="x"),
        _f("/new", size=1, digest="n"), _f("/owned", size=1, digest="o", uid=1000, gid=1000),
    ] for p in [e.path]}
    diff = compare_files(a, b)
    assert diff.added == ("/new",) and diff.removed == ("/gone",)
    assert {c.path: c.detail for c in diff.changed} == {
        "/app/b.py": "content (3 -> 4 bytes)", "/bin/sh": "symlink busybox -> dash",
        "/run.sh": "mode 0755 -> 0644", "/owned": "owner 0:0 -> 1000:1000"}
    assert [(g.category, g.paths, g.original_bytes, g.rewritten_bytes) for g in diff.ignored] == [
        ("cache", 1, 1000, 0)]
    assert not diff.same
    assert compare_files(a, a).same


def test_smoke_argv_uses_shell_when_there_is_one():
    with_shell = {"/bin": _f("/bin", kind="symlink", link="usr/bin"), "/usr": _f("/usr", kind="dir"),
                  "/usr/bin": _f("/usr/bin", kind="dir"), "/usr/bin/sh": _f("/usr/bin/sh", mode=0o755)}
    assert smoke_argv("echo hi | wc -c", with_shell) == (["/bin/sh", "-c"], ["echo hi | wc -c"])
    assert smoke_argv("/app --version", {}) == (["/app"], ["--version"])


# --------------------------------------------------------------------------
# edits


def test_copy_sources_and_coverage():
    text = ("FROM node\nCOPY package.json package-lock.json ./\nCOPY --from=build /out /out\n"
            'COPY ["src", "/app/src"]\nADD https://example.com/x /x\nCOPY --chown=1:1 . .\n')
    assert copy_sources(text) == ["package.json", "package-lock.json", "src", "."]
    assert covered("src/index.js", "src") and covered("src/index.js", "./src/")
    assert not covered("srcs/x.js", "src")
    assert covered("a/b.py", "*/b.py") and covered("a.py", "*.py") and not covered("a/b.py", "*.py")
    assert covered("anything/at/all", ".")


def test_choose_files(tmp_path):
    for rel in ["requirements.txt", "app.py", "pkg/mod.py", "README.md", "Dockerfile", "static/x.css",
                "notes.key"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x\n")
    (tmp_path / ".dockerignore").write_text("*.key\n")
    files = context_files(tmp_path)
    assert "notes.key" not in files and "app.py" in files
    hoisted = "FROM python\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
    assert detect_manifests(hoisted, files) == ["requirements.txt"]
    assert choose_source_file(hoisted, files, "Dockerfile") == "app.py"
    only_pkg = "FROM python\nCOPY pkg /app/pkg\n"
    assert choose_source_file(only_pkg, files, "Dockerfile") == "pkg/mod.py"
    assert detect_manifests(only_pkg, files) == []
    assert choose_source_file("FROM python\nCOPY app.py /app.py\n", files, "Dockerfile") is None


@pytest.mark.parametrize("name, data", [
    ("app.py", b"print(1)\n"), ("main.go", b"package main"), ("package.json", b'{"a": 1}\n'),
    ("requirements.txt", b""), ("index.php", b"<?php echo 1; ?>"),
])
def test_appended_edit_is_undone_byte_for_byte(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    os.chmod(path, 0o640)
    past = time.time() - 86400
    os.utime(path, (past, past))
    before = path.stat()
    token = "0123456789abcdef0123456789abcdef"
    with pytest.raises(KeyboardInterrupt), appended(tmp_path, [name], token):
        edited = path.read_bytes()
        assert edited != data and edited.startswith(data)
        if name.endswith(".json"):
            assert json.loads(edited) == {"a": 1}      # still valid JSON
        raise KeyboardInterrupt
    after = path.stat()
    assert path.read_bytes() == data
    assert (after.st_mtime_ns, after.st_atime_ns, after.st_ino, after.st_mode) == (
        before.st_mtime_ns, before.st_atime_ns, before.st_ino, before.st_mode)


def test_edit_suffix_is_unique_per_token():
    assert edit_suffix("a.py", b"x", "aa" * 16) == b"\n# dockopt-verify " + b"aa" * 16 + b"\n"
    one, two = edit_suffix("p.json", b"{}", "ab" * 16), edit_suffix("p.json", b"{}", "cd" * 16)
    assert one != two and set(one) <= set(b" \t\n")


# --------------------------------------------------------------------------
# engine helpers


def test_parse_go_time_and_run_commands():
    assert _parse_time("2026-12-01T07:57:19.319211183Z") == pytest.approx(1796111839.319211, abs=1e-3)
    assert _parse_time("garbage") is None
    assert _run_commands(["FROM x\nRUN --mount=type=cache,target=/c make all\nRUN ls\n"]) == ["make all"]


# --------------------------------------------------------------------------
# report


def _report() -> VerifyReport:
    build = BuildOutcome(backend="sdk", ok=True, seconds=1.5, image_id="sha256:1",
                         steps=(Step("RUN a", True), Step("COPY . .", False)))
    stats = ImageStats(image_id="sha256:1", size=2_000_000, layer_count=3, layers=(), content_bytes=2_000_000,
                       wasted_bytes=512, efficiency=0.99, wasted_user_ratio=0.1, shadowed_bytes=512,
                       file_count=10)
    side = ImageReport(role="original", build=build, stats=stats,
                       rebuilds=(Rebuild("no-change", build=build), Rebuild("manifest-edit", skipped="none")))
    smoke = SmokeResult("true", SmokeRun(("sh", "-c", "true"), 0, ""), SmokeRun(("sh", "-c", "true"), 0, ""))
    eq = Equivalence(config=(), filesystem=FilesystemDiff(compared_paths=10), smoke=smoke)
    return VerifyReport(run_id="r", verdict="equivalent", summary="equivalent: ...", backend="sdk",
                        engine_version="20.10", engine_host="unix:///x", context_dir="/c",
                        dockerfile_name="Dockerfile", original=side,
                        rewritten=ImageReport(role="rewritten", build=build, stats=stats),
                        equivalence=eq, notes=("n",), cleanup=Cleanup(images_removed=3))


def test_report_to_dict_is_json_and_renders():
    report = _report()
    d = json.loads(json.dumps(report.to_dict()))
    assert d["verdict"] == "equivalent" and d["equivalence"]["equivalent"] is True
    assert d["original"]["build"]["cached_steps"] == 1 and d["original"]["build"]["ran"] == ["COPY . ."]
    assert d["original"]["rebuilds"][1]["skipped"] == "none"
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.verdict = "x"
    out = io.StringIO()
    render_report(report, Console(file=out, width=120))
    text = out.getvalue()
    assert "verify: equivalent" in text and "2.0 MB" in text and "1 cached / 1 run" in text


def test_progress_silent_without_tty():
    from dockopt.verify.progress import Progress

    p = Progress(enabled=True, stream=io.StringIO())
    p.phase("x")
    p.line("Step 1/2 : FROM a")
    p.close()


def test_engine_unavailable_is_quick(monkeypatch):
    from dockopt.verify import EngineUnavailable, verify

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as info:
        verify("FROM scratch\n", "FROM scratch\n", Path("."))
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert "unix:///nonexistent.sock" in message and "DOCKER_HOST" in message and "dockerd" in message

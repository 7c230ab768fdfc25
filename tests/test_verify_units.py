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
from dockopt.verify.build import classify_failure, frontend_unavailable
from dockopt.verify.buildkit import SolveLog, _go_time, parse_du, stage_names
from dockopt.verify.classic import CONTEXT_DOCKERFILE, ClassicLog, make_context_tar
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
from dockopt.verify.engine import ours, own_records, run_commands
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
from dockopt.verify.runner import _secret_values

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
    fs = frozenset({"run-mount", "copy-chmod", "heredoc", "copy-link", "copy-parents"})
    assert feat.unsupported_by_builtin_frontend(fs, "20.10.24+dfsg1") == {"heredoc", "copy-link", "copy-parents"}
    # measured on 26.1.5: the labs flags stay out of the built-in frontend
    assert feat.unsupported_by_builtin_frontend(fs, "26.1.5+dfsg1") == {"copy-parents"}
    # a builder with its own BuildKit: its version decides
    assert feat.unsupported_by_builtin_frontend(fs, "20.10.24", buildkit_version="0.13.2") == {"copy-parents"}
    assert feat.unsupported_by_builtin_frontend(fs, "26.1.5", buildkit_version="0.9.3") >= {"heredoc"}
    assert feat.needs_buildkit(frozenset({"copy-chmod"}))
    assert feat.syntax_directive("# syntax=docker/dockerfile:1.4\nFROM a") == (0, "docker/dockerfile:1.4")


@pytest.mark.parametrize("ref, stock", [
    ("docker/dockerfile:1", True), ("docker/dockerfile:1.7", True), ("docker/dockerfile:1.7.1", True),
    ("docker/dockerfile:1.7-labs", True), ("docker.io/docker/dockerfile:1", True), ("docker/dockerfile", True),
    ("docker/dockerfile:1@sha256:" + "a" * 64, True),
    ("docker/dockerfile-upstream:master", False), ("tonistiigi/dockerfile:runmount", False),
    ("example.com/docker/dockerfile:1", False), ("docker/dockerfile:2", False),
])
def test_stock_frontend_names(ref, stock):
    assert feat.is_stock_frontend(ref) is stock


def test_directive_taken_out_keeps_line_numbers_and_other_directives():
    text = "# syntax=docker/dockerfile:1\r\n# escape=`\r\nFROM busybox\r\nRUN echo a `\r\n  b\r\n"
    out = feat.without_syntax_directive(text)
    assert out == "# escape=`\r\n#\r\nFROM busybox\r\nRUN echo a `\r\n  b\r\n"
    assert feat.syntax_directive(out) is None
    # the escape directive is still a directive: BuildKit's reading of the rest is unchanged
    assert [line for line in out.splitlines() if line.startswith("RUN")] == ["RUN echo a `"]
    from dockopt.syntax import parse

    assert parse(out).directive("escape") == "`"
    assert len(out.splitlines()) == len(text.splitlines())
    # an unknown directive ends the block: a later `# syntax=` is a comment, nothing to take out
    assert feat.syntax_directive("# foo=bar\n# syntax=docker/dockerfile:1\nFROM a\n") is None
    bom = "\ufeff# syntax=docker/dockerfile:1\nFROM a\n"
    assert feat.without_syntax_directive(bom) == "\ufeff#\nFROM a\n"


def test_a_file_without_from_has_nothing_to_build():
    assert not feat.has_stage("ARG A=1\n# FROM x\n")
    assert feat.has_stage("ARG A=1\nfrom x\n")


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


def _rawjson(*docs: object, text: tuple[str, ...] = ()) -> list[str]:
    """Output lines as `docker buildx build --progress=rawjson` writes them: each document pretty-printed."""
    lines: list[str] = []
    for doc in docs:
        lines += json.dumps(doc, indent=2).splitlines()
    return lines + list(text)


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


T = "2026-12-07T00:15:35.{}Z"
# The rebuild of a two-stage file after an edit of `f`, as BuildKit reported it (shortened): the
# `base` stage is cached, the second stage re-runs; vertices arrive in no particular order.
REBUILD = _rawjson(
    {"vertexes": [{"digest": "sha256:d0", "name": "[internal] load build definition from Dockerfile",
                   "started": T.format("100"), "completed": T.format("200")}]},
    {"vertexes": [{"digest": "sha256:s1", "inputs": ["sha256:b3"], "name": "[stage-1 1/2] COPY f /f"},
                  {"digest": "sha256:b3", "inputs": ["sha256:b2"], "name": "[base 3/3] RUN echo cap > /a"},
                  {"digest": "sha256:b1", "name": "[base 1/3] FROM docker.io/library/busybox:latest"}]},
    {"vertexes": [{"digest": "sha256:b2", "name": "[base 2/3] WORKDIR /app", "started": T.format("901"),
                   "completed": T.format("901"), "cached": True}]},
    {"vertexes": [{"digest": "sha256:b3", "name": "[base 3/3] RUN echo cap > /a", "started": T.format("901"),
                   "cached": True}]},
    {"statuses": [{"id": "transferring context:", "vertex": "sha256:ctx", "current": 29}]},
    {"vertexes": [{"digest": "sha256:s1", "name": "[stage-1 1/2] COPY f /f", "started": T.format("902"),
                   "completed": T.format("930")}]},
    {"vertexes": [{"digest": "sha256:s2", "name": '[stage-1 2/2] RUN echo "hello from run" && cat /f',
                   "started": T.format("935")}]},
    {"logs": [{"vertex": "sha256:s2", "stream": 1, "data": _b64("hello from run\ncapfile\n"),
               "timestamp": T.format("999")}]},
    {"vertexes": [{"digest": "sha256:s2", "name": '[stage-1 2/2] RUN echo "hello from run" && cat /f',
                   "started": T.format("935"), "completed": "2026-12-07T00:15:36.435Z"}]},
    {"vertexes": [{"digest": "sha256:x", "name": "exporting to image", "started": "2026-12-07T00:15:36.5Z"}]},
)


def test_solve_log_follows_rawjson():
    log = SolveLog(stages=stage_names("FROM busybox AS base\nWORKDIR /app\nRUN x\nFROM base\nCOPY f /f\nRUN y\n"))
    shown = [line for raw in REBUILD for line in log.feed_line(raw)]
    # in file order: the base stage (cached), then the second stage (run)
    assert [(s.name, s.cached) for s in log.steps] == [
        ("WORKDIR /app", True), ("RUN echo cap > /a", True),
        ("COPY f /f", False), ('RUN echo "hello from run" && cat /f', False)]
    assert log.steps[3].seconds == pytest.approx(0.5, abs=1e-3)
    assert log.steps[2].seconds == pytest.approx(0.028, abs=1e-3)
    assert log.error is None
    # a readable log like --progress=plain: step names, CACHED, the step's output
    assert "#3 [base 3/3] RUN echo cap > /a" in shown and "#3 CACHED" in shown
    assert any(line.endswith(" hello from run") for line in shown)
    assert log.step_names[0] == "[stage-1 1/2] COPY f /f"


def test_solve_log_failure_and_redaction():
    log = SolveLog(redact=lambda text: text.replace("s3cr3t", "***"))
    lines = _rawjson(
        {"vertexes": [{"digest": "sha256:r", "name": "[2/2] RUN echo s3cr3t && exit 3", "started": T.format("1")}]},
        {"logs": [{"vertex": "sha256:r", "stream": 1, "data": _b64("s3cr3t\n")}]},
        {"vertexes": [{"digest": "sha256:r", "name": "[2/2] RUN echo s3cr3t && exit 3", "started": T.format("1"),
                       "completed": T.format("2"),
                       "error": 'process "/bin/sh -c echo s3cr3t && exit 3" did not complete successfully: '
                                "exit code: 3"}]},
        text=("--------------------", "   2 | >>> RUN echo s3cr3t && exit 3",
              'ERROR: failed to solve: process "/bin/sh -c echo s3cr3t && exit 3" did not complete '
              "successfully: exit code: 3"))
    shown = [line for raw in lines for line in log.feed_line(raw)]
    assert log.error == ('failed to solve: process "/bin/sh -c echo *** && exit 3" did not complete '
                         "successfully: exit code: 3")
    assert log.steps == [Step("RUN echo *** && exit 3", False)]
    assert not any("s3cr3t" in line for line in shown + log.lines)
    # a line that looks like JSON but is not stays text
    other = SolveLog()
    assert other.feed_line("{not json") == []
    assert other.feed_line("}") == ["{not json", "}"]


def test_buildkit_failures_are_classified():
    unknown = "failed to solve: dockerfile parse error on line 2: unknown flag: parents"
    assert "--parents" in classify_failure(unknown, frozenset({"copy-parents"}))
    old = ("failed to solve with frontend dockerfile.v0: failed to create LLB definition: "
           "dockerfile parse error line 2: Unknown flag: link")
    assert "--link" in classify_failure(old, frozenset({"copy-link"}))
    heredoc = "failed to create LLB definition: dockerfile parse error line 3: unknown instruction: ECHO"
    assert "heredoc" in classify_failure(heredoc, frozenset({"heredoc"}))
    assert classify_failure(heredoc, frozenset()) is None     # a plain typo stays the file's fault
    assert classify_failure("exit code: 1", frozenset({"heredoc"})) is None
    gw = ('failed to solve: failed to resolve source metadata for docker.io/docker/dockerfile:1: failed to do '
          'request: Head "https://registry-1.docker.io/v2/docker/dockerfile/manifests/1": dial tcp: lookup '
          "registry-1.docker.io on 10.255.255.53:53: no such host")
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
        dockerfile = tar.extractfile(CONTEXT_DOCKERFILE).read().decode()
    assert names == {"app.py", ".dockerignore", CONTEXT_DOCKERFILE}
    assert ignore == f"*.key\n# comment\n{CONTEXT_DOCKERFILE}\n"
    assert dockerfile == "FROM scratch\n"
    (tmp_path / ".dockerignore").unlink()
    with tarfile.open(fileobj=make_context_tar(tmp_path, "FROM scratch\n")) as tar:
        assert tar.extractfile(".dockerignore").read().decode() == f".dockerignore\n{CONTEXT_DOCKERFILE}\n"


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
    ("/srv/logs/app.log", "logs"),
    ("/var/lib/dbus/machine-id", "build-artifact"),
    ("/etc/machine-id", "build-artifact"),
    ("/usr/lib/logrotate", None),
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


def test_parse_go_time():
    assert _go_time("2026-12-01T07:57:19.319211183Z") == pytest.approx(1796111839.319211, abs=1e-3)
    assert _go_time("garbage") is None


@pytest.mark.parametrize("description, mine", [
    ("mount / from exec /bin/sh -c make all", True),                     # RUN --mount=... make all
    ("cached mount /root/.cache from exec /bin/sh -c make all", True),   # its cache mount
    ("[stage-1 2/3] COPY --from=build /out /out", True),
    ("mount / from exec /bin/sh -c echo x > /b", True),                  # the heredoc's body
    ("mount / from exec ls -l /", True),                                 # exec form
    ("local source for context", True),
    ("mount / from exec /bin/sh -c make all && make install", False),    # someone else's command
    ("[2/3] COPY --from=build /out /elsewhere", False),
])
def test_cache_records_of_our_steps(description, mine):
    steps = ["[2/4] RUN --mount=type=cache,target=/root/.cache make all", "[stage-1 2/3] COPY --from=build /out /out",
             "[3/4] RUN <<EOF (echo x > /b)", '[4/4] RUN ["ls", "-l", "/"]']
    assert ours(description, steps) is mine


def test_records_named_like_a_step_are_ours_only_when_they_hang_together_with_ours():
    from dockopt.verify.buildkit import CacheRecord

    steps = ["[2/3] COPY . .", "[3/3] RUN pip install -r requirements.txt"]
    window = [(100.0, 200.0)]

    def record(rid, description, parents=(), created=150.0):
        return CacheRecord(rid, description, created, False, tuple(parents))

    records = [
        record("copy", "[2/3] COPY . .", ["base"]),
        record("pip", "mount / from exec /bin/sh -c pip install -r requirements.txt", ["copy"]),
        record("ctx", "local source for context"),
        # another build at the same time, with a step of the same name: its record is not ours
        record("their-copy", "[2/3] COPY . .", ["base"]),
        record("their-run", "mount / from exec /bin/sh -c npm ci", ["their-copy"]),
        # ours by name, but made before the run
        record("old", "[2/3] COPY . .", ["base"], created=50.0),
    ]
    mine = own_records(records, frozenset({"base"}), window, steps, ["pip install -r requirements.txt"])
    assert sorted(r.id for r in mine) == ["copy", "ctx", "pip"]


def test_cache_records_name_the_command_before_build_args_expand():
    text = 'FROM x\nARG TOKEN\nRUN echo "t=$TOKEN" && \\\n    test -n "$TOKEN"\nRUN ["ls", "-l"]\nRUN <<EOF\nhi\nEOF\n'
    commands = run_commands(text)
    assert commands == ['echo "t=$TOKEN" &&     test -n "$TOKEN"', "ls -l", "hi\n"]
    # a RUN that is only a heredoc: BuildKit runs (and describes) its body
    assert ours("mount / from exec /bin/sh -c hi\n", ["[4/4] RUN <<EOF (hi)"], commands)
    # BuildKit names the step with the value, the record with the variable
    step = '[3/3] RUN echo "t=v4lue" &&     test -n "v4lue"'
    record = 'mount / from exec /bin/sh -c echo "t=$TOKEN" &&     test -n "$TOKEN"'
    assert not ours(record, [step])
    assert ours(record, [step], commands)


DU = """ID:\t\tlzzmlei47btt3b8npn6cu52m9
Parent:\t\tfq526b9kbqetw4q86i1rdfgi7
Created at:\t2026-12-07 00:05:31.964046786 +0000 UTC
Mutable:\tfalse
Reclaimable:\ttrue
Shared:\t\ttrue
Size:\t\t2.568MB
Description:\tmount / from exec /bin/sh -c apt-get update
Usage count:\t1
Last used:\t23 seconds ago
Type:\t\tregular

ID:\t\tse4odjqsq5yp4wdy6umio4tz2
Created at:\t2026-12-07 00:05:22.707462932 +0000 UTC
Mutable:\ttrue
Reclaimable:\ttrue
Shared:\t\tfalse
Size:\t\t442B
Description:\tlocal source for context
In use:\t\ttrue
Type:\t\tsource.local

Reclaimable:\t5.224MB
Total:\t\t5.224MB
"""


def test_buildx_du_records():
    records = parse_du(DU)
    assert list(records) == ["lzzmlei47btt3b8npn6cu52m9", "se4odjqsq5yp4wdy6umio4tz2"]
    first, second = records.values()
    assert first.description == "mount / from exec /bin/sh -c apt-get update" and not first.in_use
    assert first.created == pytest.approx(_go_time("2026-12-07T00:05:31.964046786Z"))
    assert second.in_use


def test_secret_values_are_read_for_redaction(tmp_path, monkeypatch):
    (tmp_path / "token").write_text("file-secret\n")
    monkeypatch.setenv("API_TOKEN", "env-secret")
    values = _secret_values([f"id=tok,src={tmp_path / 'token'}", "id=api,env=API_TOKEN", "id=API_TOKEN"])
    assert {"file-secret", "file-secret\n", "env-secret"} <= values
    assert _secret_values(["id=missing,src=/nonexistent"]) == set()


# --------------------------------------------------------------------------
# report


def _report() -> VerifyReport:
    build = BuildOutcome(backend="classic", ok=True, seconds=1.5, image_id="sha256:1",
                         steps=(Step("RUN a", True), Step("COPY . .", False)))
    stats = ImageStats(image_id="sha256:1", size=2_000_000, layer_count=3, layers=(), content_bytes=2_000_000,
                       wasted_bytes=512, efficiency=0.99, wasted_user_ratio=0.1, shadowed_bytes=512,
                       file_count=10)
    side = ImageReport(role="original", build=build, stats=stats,
                       rebuilds=(Rebuild("no-change", build=build), Rebuild("manifest-edit", skipped="none")))
    smoke = SmokeResult("true", SmokeRun(("sh", "-c", "true"), 0, ""), SmokeRun(("sh", "-c", "true"), 0, ""))
    eq = Equivalence(config=(), filesystem=FilesystemDiff(compared_paths=10), smoke=smoke)
    return VerifyReport(run_id="r", verdict="equivalent", summary="equivalent: ...", backend="classic",
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

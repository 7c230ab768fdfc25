"""The field bench's own logic (bench/field): manifest, image references, verdicts, totals, and
one end-to-end run on a small repository made here."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import REALWORLD, REPO, need_shared

from bench.field.engine import failure_lines
from bench.field.images import image_refs, substitute_bases
from bench.field.manifest import LANGS, ManifestError, load_manifest, parse_manifest
from bench.field.report import render_markdown, shared_ignore_edits, summarize
from bench.field.verdict import BROKEN, EXITED, KEPT, RUNNING, UNJUDGED, Probe, build_verdict, probe_verdict

HEADER = "repo\tcommit\tdockerfile\tcontext\tlang\tsmoke\ttarget\tbuild_args\tsubstitute\tblocker"
SHA = "0123456789abcdef0123456789abcdef01234567"


def row(*cells: str) -> str:
    return "\t".join(cells)


# -- manifest -------------------------------------------------------------------


def test_manifest_row_with_dashes_args_and_substitutions() -> None:
    text = "\n".join([HEADER, row("acme/shop", SHA, "docker/Dockerfile", ".", "python", "python -c 'import shop'",
                                 "-", "A=1; B=two", "python:3.12-slim=python:3.11-slim", "-")])
    [e] = parse_manifest(text)
    assert e.checkout_name == "acme+shop"
    assert e.key == "acme/shop:docker/Dockerfile"
    assert e.smoke == "python -c 'import shop'"
    assert e.target == "" and e.blocker == ""
    assert e.build_args == {"A": "1", "B": "two"}
    assert e.substitute == {"python:3.12-slim": "python:3.11-slim"}
    assert e.line == 2


@pytest.mark.parametrize(("cells", "where", "words"), [
    (("acme/shop", "abc", "Dockerfile", ".", "python", "-", "-", "-", "-", "-"), "m.tsv:2:11:", "40 lowercase hex"),
    (("acme", SHA, "Dockerfile", ".", "python", "-", "-", "-", "-", "-"), "m.tsv:2:1:", "owner/name"),
    (("acme/shop", SHA, "Dockerfile", ".", "cobol", "-", "-", "-", "-", "-"), "m.tsv:2:", "not one of"),
    (("acme/shop", SHA, "../Dockerfile", ".", "go", "-", "-", "-", "-", "-"), "m.tsv:2:", "inside the repository"),
    (("acme/shop", SHA, "Dockerfile", ".", "go", "-", "-", "1BAD=x", "-", "-"), "m.tsv:2:", "not a valid name"),
    (("acme/shop", SHA, "Dockerfile", ".", "go", "-", "-", "-", "golang:1.22", "-"), "m.tsv:2:", "FROM=TO"),
    (("acme/shop", SHA, "Dockerfile", "-", "go", "-", "-", "-", "-", "-"), "m.tsv:2:", "context is empty"),
])
def test_manifest_errors_name_file_line_and_column(cells: tuple[str, ...], where: str, words: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(HEADER + "\n" + row(*cells), "m.tsv")
    assert str(info.value).startswith(where)
    assert words in str(info.value)


def test_manifest_rejects_wrong_field_count_duplicates_and_unknown_columns() -> None:
    good = row("acme/shop", SHA, "Dockerfile", ".", "go", "-", "-", "-", "-", "-")
    with pytest.raises(ManifestError, match=r"^m.tsv:3:1: 3 fields, the header has 10"):
        parse_manifest("\n".join([HEADER, good, "a\tb\tc"]), "m.tsv")
    with pytest.raises(ManifestError, match=r"^m.tsv:3:\d+: acme/shop:Dockerfile is listed twice \(first on line 2\)"):
        parse_manifest("\n".join([HEADER, good, good]), "m.tsv")
    with pytest.raises(ManifestError, match=r"^m.tsv:1:1: unknown column\(s\) colour"):
        parse_manifest(HEADER + "\tcolour\n", "m.tsv")


def test_committed_manifest_meets_the_field_bench_scope() -> None:
    entries = load_manifest(REPO / "bench" / "field" / "manifest.tsv")
    repos = {e.repo for e in entries}
    assert len(entries) >= 40
    assert len(repos) >= 20
    assert {e.lang for e in entries} == set(LANGS)
    need_shared(REALWORLD)
    with open(REALWORLD / "manifest.tsv", encoding="utf-8") as fh:
        seen = {line.split("\t")[1] for line in fh.read().splitlines()[1:] if line}
    assert not repos & seen, "field repositories must be new to the shared corpus"


def test_bench_refuses_a_checkout_root_inside_the_project(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "bench.field", "--no-build", "--root", str(REPO / "corpus"),
                        "--report", str(tmp_path / "R.md")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "inside the project" in p.stderr
    assert not (tmp_path / "R.md").exists()


# -- images ----------------------------------------------------------------------


def test_image_refs_follow_the_stages_the_target_needs() -> None:
    text = ("ARG PY=3.12\nARG BASE\nFROM --platform=$BUILDPLATFORM node:20 AS web\n"
            "FROM python:${PY}-slim AS build\nCOPY --from=web /app /app\n"
            "COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/\n"
            "RUN --mount=type=bind,from=busybox:1.36,target=/bb true\n"
            "FROM alpine:3.19 AS unused\n"
            "FROM ${BASE:-debian:bookworm}\nCOPY --from=build /x /x\nCOPY --from=0 /y /y\n")
    refs = image_refs(text)
    assert refs.external == ("node:20", "python:3.12-slim", "ghcr.io/astral-sh/uv:0.5", "busybox:1.36",
                             "debian:bookworm")
    assert refs.stages == ("web", "build", "unused")
    assert image_refs(text, {"PY": "3.11"}, target="build").external == (
        "node:20", "python:3.11-slim", "ghcr.io/astral-sh/uv:0.5", "busybox:1.36")
    assert image_refs(text, target="unused").external == ("alpine:3.19",)
    assert image_refs("FROM scratch\nCOPY a /a\n").external == ()
    chained = "ARG RUBY=3.4\nARG TAG=${RUBY}-slim\nFROM ruby:${TAG}\n"
    assert image_refs(chained).external == ("ruby:3.4-slim",)
    assert substitute_bases(chained, {"ruby:3.4-slim": "ruby:3.3-slim"}).endswith("FROM ruby:3.3-slim\n")


def test_substitute_bases_rewrites_only_matching_from_lines() -> None:
    text = ("ARG V=24\n# FROM node:24 stays a comment\nFROM node:${V}@sha256:abc AS build\n"
            "RUN echo FROM node:24\nFROM nginx:stable-alpine\n")
    out = substitute_bases(text, {"node:24": "node:18", "nginx:stable-alpine": "nginx:stable"})
    assert out == ("ARG V=24\n# FROM node:24 stays a comment\nFROM node:18 AS build\n"
                   "RUN echo FROM node:24\nFROM nginx:stable\n")
    assert substitute_bases(text, {}) == text


# -- build logs and verdicts ---------------------------------------------------------

BUILD_LOG = """#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s

#7 [build 3/4] RUN apt-get purge -y npm && npm cache clean --force
#7 0.511 Removing npm (9.2.0) ...
#7 2.104 /bin/sh: 1: npm: not found
#7 ERROR: process "/bin/sh -c apt-get purge -y npm" did not complete successfully: exit code: 127
------
 > [build 3/4] RUN apt-get purge -y npm && npm cache clean --force:
------
ERROR: failed to solve: process "/bin/sh -c apt-get purge -y npm" did not complete successfully: exit code: 127
"""


def test_failure_lines_point_at_the_failing_steps_own_output() -> None:
    step, line = failure_lines(BUILD_LOG)
    assert step == "[build 3/4] RUN apt-get purge -y npm && npm cache clean --force"
    assert line == "/bin/sh: 1: npm: not found"
    apt = ("#4 [2/3] RUN apt-get install -y git\n#4 9.1 E: Failed to fetch http://deb/git.deb\n"
           "#4 9.1 E: Unable to fetch some archives, maybe run apt-get update?\n#4 9.2 Fetched 53.4 MB in 9s\n"
           "#4 ERROR: process did not complete successfully: exit code: 100\n")
    assert failure_lines(apt)[1] == "E: Unable to fetch some archives, maybe run apt-get update?"
    step, line = failure_lines('#5 [2/3] COPY x /x\n#5 ERROR: failed to calculate checksum: "/x": not found\n')
    assert (step, line) == ("[2/3] COPY x /x", 'ERROR: failed to calculate checksum: "/x": not found')


def test_liveness_verdict() -> None:
    running = Probe("liveness", RUNNING)
    done = Probe("liveness", EXITED, 0)
    died = Probe("liveness", EXITED, 1)
    assert probe_verdict(running, running) == KEPT
    assert probe_verdict(running, done) == KEPT  # exiting 0 is not a failure
    assert probe_verdict(running, died) == BROKEN
    assert probe_verdict(done, died) == BROKEN
    assert probe_verdict(died, died) == UNJUDGED  # the original fails too: nothing to hold against the rewrite
    assert probe_verdict(died, running) == UNJUDGED
    assert probe_verdict(None, running) == UNJUDGED


def test_smoke_verdict_needs_exit_zero() -> None:
    ok = Probe("smoke", EXITED, 0)
    assert probe_verdict(ok, Probe("smoke", EXITED, 2)) == BROKEN
    assert probe_verdict(ok, Probe("smoke", RUNNING)) == BROKEN  # a smoke command that hangs fails
    assert probe_verdict(ok, ok) == KEPT


def test_build_verdict() -> None:
    assert build_verdict(True, False) == BROKEN
    assert build_verdict(True, True) == KEPT
    assert build_verdict(False, False) == UNJUDGED
    assert build_verdict(True, None) == UNJUDGED


# -- totals and report -----------------------------------------------------------------


def variant(rewritten: bool = False, fixes: tuple[str, ...] | list[str] = (), built: bool | None = None,
            build_verdict: str = "", probe_verdict: str = "", probe: str = "", after: int | None = None,
            same_as: str = "") -> dict[str, Any]:
    return {"rewritten": rewritten, "fixes": list(fixes), "diff": "", "findings_after": after, "built": built,
            "build_seconds": 1.0, "failed_step": "", "error_line": "", "probe": probe, "probe_tail": "",
            "build_verdict": build_verdict, "probe_verdict": probe_verdict, "same_as": same_as}


def record(key: str, lang: str, status: str, findings: int, original: dict[str, Any], safe: dict[str, Any],
           unsafe: dict[str, Any], breaks: Sequence[dict[str, Any]] = (), reason: str = "",
           substitutions: dict[str, str] | None = None) -> dict[str, Any]:
    return {"key": key, "repo": key.split(":")[0], "dockerfile": key.split(":")[1], "context": ".", "lang": lang,
            "commit": SHA, "status": status, "reason": reason, "substitutions": substitutions or {},
            "findings": findings, "finding_codes": {"DO101": findings}, "original": original, "safe": safe,
            "unsafe": unsafe, "breaks": list(breaks), "dockopt_seconds": 0.5, "seconds": 10.0}


def sample_records() -> list[dict[str, Any]]:
    npm_break = {"mode": "safe", "what": "build", "codes": ["DO109"], "step": "[3/4] RUN npm ci",
                 "line": "/bin/sh: 1: npm: not found", "code_lines": {}}
    return [
        record("a/web:Dockerfile", "node", "built", 4, variant(built=True, probe="running"),
               variant(True, ["DO101", "DO109"], False, BROKEN, after=1),
               variant(True, ["DO101", "DO109", "DO106"], False, BROKEN), [npm_break, {**npm_break, "mode": "unsafe"}],
               substitutions={"node:20": "node:18"}),
        record("a/web:Dockerfile.ci", "node", "built", 2, variant(built=True, probe="running"),
               variant(True, ["DO101"], True, KEPT, KEPT, "running", after=0),
               variant(True, ["DO101", "DO302"], True, KEPT, BROKEN, "exit 1"),
               [{"mode": "unsafe", "what": "liveness", "codes": ["DO302"], "step": "exit 1",
                 "line": "permission denied", "code_lines": {}}]),
        record("b/svc:Dockerfile", "go", "not built", 3, variant(), variant(True, ["DO101"]), variant(),
               reason="base golang:1.22-alpine not available"),
        record("c/app:Dockerfile", "python", "not built", 0, variant(built=False), variant(), variant(),
               reason="the original does not build here: E: Unable to locate package foo"),
    ]


def test_summarize_counts_breaks_per_mode_and_code() -> None:
    s = summarize(sample_records())
    assert (s["files"], s["repos"]) == (4, 3)
    assert s["files_by_lang"] == {"go": 1, "node": 2, "python": 1}
    assert s["findings"] == 9 and s["findings_per_file_median"] == 2.5
    assert (s["rewritten_safe"], s["rewritten_unsafe"]) == (3, 2)
    assert (s["original_built"], s["original_failed"], s["not_built"]) == (2, 1, 2)
    assert s["substituted_and_built"] == 1
    assert s["safe"] == {"rewrites_of_built_files": 2, "built_after": 1, "broken_build": 1, "broken_probe": 0,
                         "probe_kept": 1, "broken_files": 1, "files_compared": 0, "files_undeclared": 0}
    assert s["unsafe"]["broken_build"] == 1 and s["unsafe"]["broken_probe"] == 1
    assert s["unsafe"]["broken_files"] == 2
    assert s["breaks_by_code"] == {"safe DO109": 1, "unsafe DO109": 1, "unsafe DO302": 1}
    assert s["findings_before_after_safe"] == [6, 1, 2]
    assert s["not_built_reasons"] == {"base image not available": 1, "original does not build here": 1}


def test_shared_ignore_edits_name_the_siblings() -> None:
    records = sample_records()
    records[0]["safe"]["diff"] = ("--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-x\n+y\n"
                                  "--- a/.dockerignore\n+++ b/.dockerignore\n@@ -0,0 +1 @@\n+dist\n")
    records[1]["safe"]["diff"] = "--- a/Dockerfile.ci.dockerignore\n+++ b/Dockerfile.ci.dockerignore\n"
    records[2]["safe"]["diff"] = "--- a/.dockerignore\n+++ b/.dockerignore\n"  # no sibling shares b/svc's context
    assert shared_ignore_edits(records) == [
        {"file": "a/web:Dockerfile", "mode": "safe", "ignore_file": ".dockerignore", "siblings": ["Dockerfile.ci"]}]
    assert summarize(records)["shared_ignore_edits"] == {"safe": 1, "unsafe": 0}


def test_markdown_lists_every_break_with_its_log_line() -> None:
    records = sample_records()
    md = render_markdown(records, summarize(records), {"dockopt": "dockopt 9", "engine": "26", "probe_seconds": 8})
    breaks = md.split("## Breaks")[1].split("## Per file")[0]
    assert breaks.count("| a/web:Dockerfile |") == 2
    assert "| a/web:Dockerfile.ci | unsafe | liveness | DO302 |" in breaks
    assert "`/bin/sh: 1: npm: not found`" in breaks
    assert "base substituted: node:20 → node:18" in md
    assert "base golang:1.22-alpine not available" in md
    assert ("| safe rewrites of built files: built after / broke the build / broke smoke or liveness "
            "| 2: 1 / **1** / **0**") in md


def test_image_files_differ_only_where_an_applied_fix_declares_it() -> None:
    from bench.field.files import check
    from dockopt.verify.layers import FileEntry

    def f(path: str, size: int = 1, mode: int = 0o644) -> FileEntry:
        return FileEntry(path, "file", mode, 0, 0, size, digest=str(size))

    original = {p: f(p) for p in ("/usr/bin/jq", "/app/main.py", "/var/lib/apt/lists/x", "/root/.cache/pip/w")}
    rewrite = {"/usr/bin/jq": f("/usr/bin/jq", mode=0o755), "/app/main.py": f("/app/main.py"),
               "/usr/share/recommended/r": f("/usr/share/recommended/r")}
    # DO104 declares the lists, the pip cache is never compared; jq's mode is no fix's doing
    found = check(original, rewrite, ["DO104"])
    assert (found.compared, found.undeclared) == (3, 2)
    assert found.examples == ["added /usr/share/recommended/r", "changed /usr/bin/jq: mode 0644 -> 0755"]
    # DO106 (no recommended packages) declares the package tree
    assert check(original, rewrite, ["DO104", "DO106"]).undeclared == 0
    # a copy of the build context holds the rewritten Dockerfile
    original["/app/Dockerfile"], rewrite["/app/Dockerfile"] = f("/app/Dockerfile", 10), f("/app/Dockerfile", 12)
    changed = check(original, rewrite, ["DO104", "DO106"]).examples
    assert changed == ["changed /app/Dockerfile: content (10 -> 12 bytes)"]
    assert check(original, rewrite, ["DO104", "DO106"], rewritten=["Dockerfile"]).undeclared == 0


def test_summary_and_markdown_count_undeclared_file_changes() -> None:
    records = sample_records()
    records[1]["safe"].update(files_compared=900, files_undeclared=0, files_examples=[])
    records[1]["unsafe"].update(files_compared=900, files_undeclared=2, files_examples=["removed /etc/app.conf"])
    s = summarize(records)
    assert (s["safe"]["files_compared"], s["safe"]["files_undeclared"]) == (1, 0)
    assert (s["unsafe"]["files_compared"], s["unsafe"]["files_undeclared"]) == (1, 1)
    md = render_markdown(records, s, {"dockopt": "dockopt 9", "engine": "26", "probe_seconds": 8})
    assert "| a/web:Dockerfile.ci | unsafe | 2 (900) | DO101, DO302 | removed /etc/app.conf |" in md
    assert "(safe; unsafe) | 1: **0**; 1: **1** |" in md


# -- end to end ----------------------------------------------------------------------------

FIXTURE_DOCKERFILE = """FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y jq
ADD serve.sh /serve.sh
CMD ["sh", "/serve.sh"]
"""

# a stand-in for dockopt that runs the real one, then spoils the safe rewrites of two of the files
# once their apt package lists are removed: the bench must catch both and blame the code that did it
SPOILER = """#!{python}
import os, subprocess, sys
args = sys.argv[1:]
p = subprocess.run([{python!r}, "-m", "dockopt", *args])
if "--write" in args and "--unsafe-fixes" not in args:
    path = args[args.index("--quiet") + 1]
    text = open(path).read()
    extra = {{"Dockerfile.breaks": 'RUN echo "broken on purpose" >&2 && exit 3\\n',
             "Dockerfile.dies": 'CMD ["sh", "-c", "echo dying on purpose; exit 4"]\\n',
             "Dockerfile.quiet": 'RUN rm /usr/bin/jq\\n'}}.get(os.path.basename(path))
    if extra and "/var/lib/apt/lists" in text:
        open(path, "a").write(extra)
sys.exit(p.returncode)
"""


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.mark.docker
def test_field_bench_end_to_end_on_a_local_repository(tmp_path: Path) -> None:
    root = tmp_path / "field"
    repo = root / "acme+tiny"
    repo.mkdir(parents=True)
    for name in ("Dockerfile", "Dockerfile.breaks", "Dockerfile.dies", "Dockerfile.quiet"):
        (repo / name).write_text(FIXTURE_DOCKERFILE)
    (repo / "serve.sh").write_text("echo up\nexec sleep 120\n")
    # the classic target keeps cache mounts (DO112) out of the safe fixes: one code removes the lists
    (repo / ".dockopt.toml").write_text('target = "classic"\n')
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fixture")
    commit = git(repo, "rev-parse", "HEAD").strip()
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text(HEADER + "\n" + "".join(
        row("acme/tiny", commit, name, ".", "apt", "-", "-", "-", "-", "-") + "\n"
        for name in ("Dockerfile", "Dockerfile.breaks", "Dockerfile.dies", "Dockerfile.quiet")))
    spoiler = tmp_path / "dockopt-spoiler"
    spoiler.write_text(SPOILER.format(python=sys.executable))
    spoiler.chmod(spoiler.stat().st_mode | stat.S_IXUSR)
    report = tmp_path / "out" / "REPORT.md"
    p = subprocess.run([sys.executable, "-m", "bench.field", "--root", str(root), "--manifest", str(manifest),
                        "--report", str(report), "--dockopt", str(spoiler), "--probe-seconds", "4",
                        "--work", str(tmp_path / "work"), "--timeout", "600"],
                       cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-3000:]
    doc = json.loads(report.with_suffix(".json").read_text())
    files = {f["dockerfile"]: f for f in doc["files"]}

    kept = files["Dockerfile"]
    assert kept["status"] == "built" and kept["findings"] > 0
    assert kept["original"]["probe"] == "running"
    assert kept["safe"]["rewritten"] and kept["safe"]["built"] is True
    assert kept["safe"]["probe_verdict"] == KEPT
    assert kept["safe"]["findings_after"] < kept["findings"]
    assert kept["breaks"] == []
    # the image files: the same as the original's but for what the fixes declare
    assert kept["safe"]["files_compared"] > 1000 and kept["safe"]["files_undeclared"] == 0, kept["safe"]

    # a quiet change passes the build and the probe; the files show it
    quiet = files["Dockerfile.quiet"]
    assert quiet["breaks"] == [] and quiet["safe"]["probe_verdict"] == KEPT
    assert quiet["safe"]["files_undeclared"] == 1 and quiet["safe"]["files_examples"] == ["removed /usr/bin/jq"]

    [broke] = [b for b in files["Dockerfile.breaks"]["breaks"] if b["mode"] == "safe"]
    assert broke["what"] == "build"
    assert broke["line"] == "broken on purpose"
    assert len(broke["codes"]) == 1 and broke["codes"][0] in files["Dockerfile.breaks"]["safe"]["fixes"]

    [died] = [b for b in files["Dockerfile.dies"]["breaks"] if b["mode"] == "safe"]
    assert died["what"] == "liveness"
    assert died["step"] == "exit 4" and died["line"] == "dying on purpose"
    assert died["codes"] == broke["codes"]

    assert doc["summary"]["safe"]["broken_build"] == 1 and doc["summary"]["safe"]["broken_probe"] == 1
    md = report.read_text()
    assert f"| acme/tiny:Dockerfile.breaks | safe | build | {broke['codes'][0]} |" in md
    assert doc["summary"]["safe"]["files_undeclared"] == 1
    assert "| acme/tiny:Dockerfile.quiet | safe | 1 (" in md and "removed /usr/bin/jq" in md
    left = subprocess.run(["docker", "images", "-q", "--filter", "reference=dockopt-field/acme-tiny-*"],
                          capture_output=True, text=True, timeout=60).stdout.split()
    assert left == [], "the bench removes the images it built"

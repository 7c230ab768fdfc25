"""The fix search of `--write --verify` without an engine: which fixes are kept, which rejected,
how many candidate rewrites it checks; the checks on given image facts; the fixer's selection of
fixes; the command line around it."""
from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from conftest import run_cli

from dockopt.fixer import fix_text
from dockopt.lint import RULES, Linter
from dockopt.verify.compare import CONFIG_FIELDS
from dockopt.verify.layers import FileEntry
from dockopt.verify.prove import (
    CheckFailure,
    FixItem,
    Probe,
    _files_check,
    _Image,
    _liveness_check,
    _Search,
)


def _items(n: int) -> list[FixItem]:
    return [FixItem(key=("DO101", line, 1), title=f"fix {line}") for line in range(1, n + 1)]


class _FakeSearch(_Search):
    """The search over `items` where a candidate fails when it holds a fix in `bad`."""

    def __init__(self, items: list[FixItem], bad: set[int], deadline: float | None = None):
        def render(keys):
            return ("original" if not keys else "+".join(sorted(str(k[1]) for k in keys))), {}

        super().__init__(None, "original", items, render, smoke=None, liveness=0, deadline=deadline,  # type: ignore[arg-type]
                         cannot=None)
        self.bad = bad
        self.checked: list[str] = []

    def _build_base(self):
        self.builds["original"] += 1
        return None

    def _check(self, text, files, allowed_config, allowed_paths):
        self.checked.append(text)
        self.builds["rewrite"] += 1
        lines = {int(x) for x in text.split("+")}
        hit = sorted(lines & self.bad)
        return CheckFailure("liveness", f"fix {hit[0]} breaks it") if hit else None


def test_when_every_fix_passes_one_candidate_is_built():
    search = _FakeSearch(_items(6), bad=set())
    report = search.execute()
    assert report.verdict == "proven" and len(report.kept) == 6 and report.rejected == ()
    assert report.builds == {"original": 1, "rewrite": 1}
    assert report.text == "1+2+3+4+5+6"


@pytest.mark.parametrize("n,bad", [(2, {2}), (5, {3}), (8, {1}), (8, {8}), (9, {2, 7}), (7, {1, 2, 3})])
def test_exactly_the_failing_fixes_are_rejected(n, bad):
    search = _FakeSearch(_items(n), bad=bad)
    report = search.execute()
    assert {r.fix.line for r in report.rejected} == bad
    assert {f.line for f in report.kept} == set(range(1, n + 1)) - bad
    assert report.text == "+".join(str(x) for x in sorted(set(range(1, n + 1)) - bad))
    # each rejected fix costs at most about two candidates per halving
    assert report.tests <= 1 + 2 * len(bad) * math.ceil(math.log2(n))
    assert report.verdict == "partly-proven"


def test_when_every_fix_fails_nothing_is_proven_and_the_text_is_the_original():
    report = _FakeSearch(_items(3), bad={1, 2, 3}).execute()
    assert report.verdict == "nothing-proven" and report.kept == ()
    assert report.text == "original" and "liveness" in report.reason


def test_the_budget_leaves_undecided_fixes_out():
    report = _FakeSearch(_items(4), bad={2}, deadline=time.monotonic() - 1).execute()
    assert report.kept == () and report.tests == 0
    assert [f.line for f, _why in report.unproven] == [1, 2, 3, 4]
    assert all("--verify-budget" in why for _f, why in report.unproven)
    assert report.text == "original"


def _entry(size: int = 1, uid: int = 0) -> FileEntry:
    return FileEntry(path="", kind="file", mode=0o644, uid=uid, gid=0, size=size, digest=str(size))


def _image(files: dict[str, FileEntry], probe: Probe | None = None) -> _Image:
    return _Image(config={}, files=files, image_id="x", probe=probe)


def test_the_filesystem_check_allows_only_the_declared_globs():
    base = _image({"/app/a": _entry(), "/usr/bin/gcc": _entry(), "/etc/passwd": _entry(1)})
    rewrite = _image({"/app/a": _entry(), "/etc/passwd": _entry(2)})
    assert _files_check(base, rewrite, ("/usr/*", "/etc/passwd")) is None
    failure = _files_check(base, rewrite, ("/usr/*",))
    assert failure is not None and failure.check == "filesystem"
    assert failure.evidence == ("changed /etc/passwd: content (1 -> 2 bytes)",)


@pytest.mark.parametrize("original,rewrite,fails", [
    (Probe(running=True, exit_code=None, output=""), Probe(running=False, exit_code=1, output="boom"), "liveness"),
    (Probe(running=False, exit_code=0, output=""), Probe(running=False, exit_code=2, output="boom"), "liveness"),
    (Probe(running=False, exit_code=3, output=""), Probe(running=False, exit_code=1, output=""), None),
    (Probe(running=True, exit_code=None, output=""), Probe(running=False, exit_code=0, output=""), None),
    (Probe(running=True, exit_code=None, output="", open_ports=frozenset({"80/tcp"})),
     Probe(running=True, exit_code=None, output="", open_ports=frozenset()), "port"),
])
def test_the_liveness_check(original, rewrite, fails):
    failure = _liveness_check(_image({}, original), _image({}, rewrite))
    assert (failure.check if failure else None) == fails
    if failure is not None and failure.check == "liveness":
        assert failure.evidence == ("boom",)


def test_every_declared_config_field_is_one_the_check_compares():
    for rule in RULES:
        declared = getattr(rule, "may_change", None)
        if declared is not None:
            assert declared.config <= set(CONFIG_FIELDS), rule.code
            assert all(p.startswith(("/", "*")) for p in declared.paths), rule.code


def test_the_fixer_applies_only_the_accepted_fixes(tmp_path):
    text = "FROM busybox\nRUN echo a\nRUN echo b\nADD x /x\n"
    (tmp_path / "x").write_text("x\n")
    linter = Linter()
    every = fix_text(text, linter, context_dir=tmp_path, path=tmp_path / "Dockerfile")
    assert {f.code for f in every.applied} >= {"DO101", "DO203"}
    only = fix_text(text, linter, context_dir=tmp_path, path=tmp_path / "Dockerfile",
                    accept=lambda f: f.code == "DO203")
    assert {f.code for f in only.applied} == {"DO203"}
    assert "COPY x /x" in only.text and only.text.count("RUN") == 2


NONROOT = "FROM python:3.11-slim\nCOPY app.py /app/\nCMD [\"python\", \"/app/app.py\"]\n"


def test_unsafe_fixes_hold_back_a_fix_that_needs_a_build_to_prove_it(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(NONROOT)
    r = run_cli("--write", "--unsafe-fixes", "--select", "DO302", str(path))
    assert path.read_text() == NONROOT
    notes = [line for line in r.stderr.decode().splitlines() if "note:" in line]
    assert len(notes) == 1 and "DO302" in notes[0] and "--verify" in notes[0]
    r = run_cli("--write", "--unsafe-fixes", "--select", "DO302", "--force-fix", "DO302", str(path))
    assert "USER 10001" in path.read_text() and b"note:" not in r.stderr


def test_force_fix_in_the_configuration(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(NONROOT)
    (tmp_path / ".dockopt.toml").write_text('unsafe-fixes = true\nforce-fix = ["DO3"]\n')
    run_cli("--write", "--select", "DO302", str(path))
    assert "USER 10001" in path.read_text()


@pytest.mark.parametrize("args,message", [
    (["--verify", "--check"], "not with --check"),
    (["--verify", "--write", "--liveness", "-1"], "--liveness must not be negative"),
    (["--force-fix", "XX9"], "XX9"),
])
def test_bad_combinations_are_usage_errors(tmp_path, args, message):
    path = tmp_path / "Dockerfile"
    path.write_text(NONROOT)
    r = run_cli(*args, str(path))
    assert r.returncode == 2 and message in r.stderr.decode() and b"Traceback" not in r.stderr


def test_the_documented_ci_job_runs_a_command_dockopt_accepts():
    import re
    import shlex

    import yaml

    from dockopt.cli import build_parser

    doc = (Path(__file__).resolve().parents[1] / "docs" / "verify.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    steps = yaml.safe_load(block)["jobs"]["dockopt-verify"]["steps"]
    script = next(s["run"] for s in steps if "dockopt --diff" in s.get("run", ""))
    line = next(ln for ln in script.splitlines() if ln.strip().startswith("dockopt "))
    argv = shlex.split(line.split(">")[0])[1:]
    args = build_parser().parse_args(argv)
    assert args.diff and args.verify and args.verify_budget == 900 and args.paths == ["Dockerfile"]


def test_write_verify_without_an_engine_exits_2_and_leaves_the_file(tmp_path):
    path = tmp_path / "Dockerfile"
    text = "FROM busybox:latest\nRUN echo a > /a\nRUN echo b > /b\n"
    path.write_text(text)
    r = run_cli("--write", "--verify", str(path), env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert "DOCKER_HOST" in r.stderr.decode() or "dockerd" in r.stderr.decode()
    assert path.read_text() == text

"""A fix that makes another rule's fix unneeded wins in the round both would apply (Pass.supersedes).

A cache mount (DO112) keeps a package cache out of the layer, so deleting the cache (DO104, DO108,
DO109) is then unneeded, and DO112's own fix would delete the deletion again. Before, both were
applied and a later round undid one: `--show-fixes` listed an `--no-cache-dir` the diff did not
have, and a merge whose only gain was that short-lived cleanup was applied as safe.
"""
from __future__ import annotations

from pathlib import Path

from conftest import run_cli

from dockopt.fixer import fix_text
from dockopt.lint import RULES, Linter

PIP = "FROM python:3.12-slim\nCOPY requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n"
APT = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n"
NPM_TWICE = ("FROM node:20-slim\nRUN npm install -g yarn\n\n# another package manager\n"
             "RUN npm install -g pnpm\n")
# what each fix title adds, as it appears in the file
ADDED_BY = {"Add --no-cache-dir": "--no-cache-dir", "Remove /var/lib/apt/lists/*": "rm -rf /var/lib/apt/lists",
            "Clean the package cache": "cache clean"}


def write(tmp_path: Path, text: str, *args: str) -> tuple[str, str]:
    (tmp_path / "requirements.txt").write_text("flask\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    done = run_cli("--write", "--show-fixes", *args, str(dockerfile), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr.decode()
    return dockerfile.read_text(), done.stdout.decode()


def listed(report: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in report.splitlines() if line.startswith("  ") and ": DO" in line]


def test_a_pip_cache_mount_is_not_preceded_by_no_cache_dir(tmp_path: Path) -> None:
    text, report = write(tmp_path, PIP)
    assert "--mount=type=cache,target=/root/.cache/pip" in text
    assert "--no-cache-dir" not in text
    assert listed(report) == ["DO112 Use a cache mount for pip"], report


def test_an_apt_cache_mount_is_not_preceded_by_deleting_the_lists(tmp_path: Path) -> None:
    text, report = write(tmp_path, APT)
    assert "target=/var/lib/apt/lists" in text and "rm -rf /var/lib/apt/lists" not in text
    titles = listed(report)
    assert "DO104 Remove /var/lib/apt/lists/*" not in titles
    assert not [t for t in titles if "Keep the" in t], report


def test_without_the_cache_mount_the_cleanup_is_applied(tmp_path: Path) -> None:
    text, report = write(tmp_path, PIP, "--ignore", "DO112")
    assert "pip install --no-cache-dir -r /app/requirements.txt" in text
    assert listed(report) == ["DO108 Add --no-cache-dir"], report


def test_a_merge_that_only_a_short_lived_cleanup_justified_stays_unsafe(tmp_path: Path) -> None:
    # each install gets its cache mount; merging them would save nothing, so the safe run keeps
    # both RUNs (before, a cache clean added then removed again made the merge look worth it)
    text, report = write(tmp_path, NPM_TWICE)
    assert text.count("RUN --mount=type=cache,target=/root/.npm npm install -g") == 2
    assert "cache clean" not in text
    assert [t.split()[0] for t in listed(report)] == ["DO112", "DO112"], report
    assert "DO101" in report and "[*?]" in report


def test_every_listed_fix_is_in_the_result(realworld: list[tuple[str, str]]) -> None:
    """Over the real-world files that use apt, pip or npm: no fix --write reports as applied is
    taken back by a later round (a cleanup the result does not hold, or a `Keep the` fix for a
    cleanup the input did not have)."""
    checked = 0
    for name, text in realworld[::4]:
        if not any(word in text for word in ("apt-get", "pip", "npm")):
            continue
        try:
            result = fix_text(text, Linter())
        except Exception:       # files dockopt refuses are the bad-input tests' subject
            continue
        checked += 1
        original_keeps = {f.line for f in result.findings if f.fix and f.fix.title.startswith("Keep the")}
        for f in result.applied:
            assert f.fix is not None
            added = ADDED_BY.get(f.fix.title)
            assert added is None or added in result.text, (name, f.code, f.fix.title)
            if f.fix.title.startswith("Keep the"):
                assert f.line in original_keeps, (name, f.line, f.fix.title)
    assert checked > 100


def test_a_rule_that_takes_the_place_of_others_says_so_in_its_documentation() -> None:
    superseding = [rule for rule in RULES if getattr(rule, "supersedes", ())]
    assert superseding
    for rule in superseding:
        docs = rule.docs()
        assert all(code in docs for code in rule.supersedes), rule.code

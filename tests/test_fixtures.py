"""The fixture harness: every case under tests/fixtures/<CODE>/<case>/ (see tests/fixtures/README.md).

A case is a Dockerfile, an optional build context (`context/`) and optional settings
(`settings.toml`); its `snapshot.txt` holds what dockopt reports on it (code, line, safety,
message of each finding) and the diffs of its safe and its unsafe fixes, side files included.
Every case also checks that each rewrite parses, that BuildKit's parser reads it, and that
fixing it again changes nothing. `DOCKOPT_REGEN=1` rewrites the snapshots from the current
output (review the diff before committing it).
"""
from __future__ import annotations

import difflib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.config import Settings, load_config_file, rule_enabled
from dockopt.findings import Finding
from dockopt.fixer import FixResult, fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES, by_code

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASES = sorted(p.parent for p in FIXTURES.glob("DO*/*/Dockerfile"))
REGEN = bool(os.environ.get("DOCKOPT_REGEN"))


@dataclass
class Case:
    path: Path
    text: str
    codes: list[str]
    settings: Settings

    @classmethod
    def read(cls, path: Path) -> Case:
        """The case's settings are a .dockopt.toml; the rules that run are the case's own code,
        or what its settings select."""
        settings_file = path / "settings.toml"
        settings = load_config_file(settings_file) if settings_file.exists() else Settings()
        table = tomllib.loads(settings_file.read_text(encoding="utf-8")) if settings_file.exists() else {}
        if "select" in table or "ignore" in table:
            codes = [code for code in by_code() if rule_enabled(settings, code)]
        else:
            codes = [path.parent.name]
        text = (path / "Dockerfile").read_bytes().decode("utf-8")
        return cls(path, text, codes, settings)

    @property
    def linter(self) -> Linter:
        return Linter([p for p in ALL_PASSES if p.code in self.codes])

    def context(self, tmp: Path) -> Path | None:
        """A fresh copy of the build context (None without a context/): fixes write side files."""
        if not (self.path / "context").is_dir():
            return None
        shutil.copytree(self.path / "context", tmp)
        for stand_in in sorted(tmp.rglob("dot-git"), reverse=True):   # git cannot hold a .git directory
            stand_in.rename(stand_in.with_name(".git"))
        return tmp


def _finding_line(f: Finding) -> str:
    safety = f.fix.safety.value if f.fix is not None else "no fix"
    return f"{f.line}:{f.column} {f.code} [{safety}] {f.message}"


def _diff(before: str, res: FixResult, context: Path | None, old_files: dict[str, str]) -> list[str]:
    out = list(difflib.unified_diff(before.splitlines(keepends=True), res.text.splitlines(keepends=True),
                                    "Dockerfile", "Dockerfile (fixed)", n=2))
    for path, text in sorted(res.files.items()):
        name = os.path.relpath(path, context) if context is not None else path
        old = old_files.get(path, "")
        out += difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                    name, f"{name} (written)", n=2)
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out]


def _fix_and_check(case: Case, context: Path | None, unsafe: bool) -> tuple[FixResult, dict[str, str]]:
    """The fixes, checked, and the side files as they were before the fixes wrote them."""
    path = context / "Dockerfile" if context is not None else None
    res = fix_text(case.text, case.linter, unsafe=unsafe, path=path, context_dir=context, settings=case.settings)
    parse(res.text)
    oracle_view(res.text)  # BuildKit's parser reads it
    old_files = {side: Path(side).read_bytes().decode("utf-8") for side in res.files if Path(side).exists()}
    for side, text in res.files.items():
        Path(side).write_text(text, encoding="utf-8")
    again = fix_text(res.text, case.linter, unsafe=unsafe, path=path, context_dir=context, settings=case.settings)
    assert again.text == res.text, f"{case.path.name}: fixing the rewrite changes it again"
    assert not again.files, f"{case.path.name}: a side file is written again"
    return res, old_files


def snapshot(case: Case, tmp: Path) -> str:
    context = case.context(tmp / "findings")
    path = context / "Dockerfile" if context is not None else None
    findings = case.linter.run(parse(case.text), path=path, context_dir=context, settings=case.settings)
    parts = [f"# dockopt {' '.join(case.codes)}\n", "## findings\n"]
    parts += [_finding_line(f) + "\n" for f in findings] or ["(none)\n"]
    diffs = {}
    for unsafe in (False, True):
        context = case.context(tmp / ("unsafe" if unsafe else "safe"))
        res, old_files = _fix_and_check(case, context, unsafe)
        diffs[unsafe] = "".join(_diff(case.text, res, context, old_files)) or "(no change)\n"
    parts += ["## safe fixes\n", diffs[False]]
    parts += ["## unsafe fixes\n", "(as the safe fixes)\n" if diffs[True] == diffs[False] else diffs[True]]
    return "".join(parts)


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_fixture(path: Path, tmp_path: Path) -> None:
    case = Case.read(path)
    got = snapshot(case, tmp_path)
    expected_file = path / "snapshot.txt"
    if REGEN:
        expected_file.write_bytes(got.encode("utf-8"))
    assert expected_file.exists(), f"{path}: no snapshot.txt (run with DOCKOPT_REGEN=1 to write it)"
    assert got == expected_file.read_bytes().decode("utf-8")   # byte for byte: CRLF files stay CRLF


def test_every_case_names_known_codes() -> None:
    known = set(by_code())
    for path in CASES:
        case = Case.read(path)
        assert path.parent.name in known and set(case.codes) <= known, path

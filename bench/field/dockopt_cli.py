"""dockopt as a black box: the installed command, its JSON output (docs/json-schema.md) and diffs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DockoptError(RuntimeError):
    """dockopt failed on a file (exit 2); the message is its own."""


def default_command() -> list[str]:
    """The ``dockopt`` installed beside this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dockopt")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dockopt")
    return [found] if found else [sys.executable, "-m", "dockopt"]


@dataclass
class Plan:
    changed: bool
    fixes: list[str]  # codes of the fixes this mode applies, one per fix, in file order


@dataclass
class Dockopt:
    command: list[str]
    seconds: float = 0.0  # time spent in dockopt, summed

    def _run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        t0 = time.monotonic()
        try:
            p = subprocess.run([*self.command, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                               check=False)
        finally:
            self.seconds += time.monotonic() - t0
        if p.returncode not in (0, 1):
            raise DockoptError((p.stderr or p.stdout).strip().splitlines()[-1] if (p.stderr or p.stdout).strip()
                               else f"dockopt exited {p.returncode}")
        return p

    def version(self) -> str:
        p = subprocess.run([*self.command, "--version"], capture_output=True, text=True, timeout=120, check=False)
        return p.stdout.strip() or p.stderr.strip()

    def _json(self, args: list[str], cwd: Path) -> dict[str, Any]:
        p = self._run([*args, "--format", "json"], cwd)
        try:
            doc = json.loads(p.stdout)
        except json.JSONDecodeError as exc:
            raise DockoptError(f"dockopt printed no JSON: {exc}") from None
        files = doc.get("files") or []
        if files and files[0].get("error"):
            raise DockoptError(files[0]["error"])
        return files[0] if files else {}

    def findings(self, dockerfile: str, context: str, cwd: Path) -> list[str]:
        """Codes of the findings (report mode), one per finding."""
        return [f["code"] for f in self._json([dockerfile, "--context", context], cwd).get("findings", [])]

    def plan(self, dockerfile: str, context: str, cwd: Path, unsafe: bool) -> Plan:
        args = ["--check", dockerfile, "--context", context] + (["--unsafe-fixes"] if unsafe else [])
        doc = self._json(args, cwd)
        fixes = [f["code"] for f in doc.get("findings", []) if (f.get("fix") or {}).get("applicable")]
        return Plan(bool(doc.get("changed")), fixes)

    def diff(self, dockerfile: str, context: str, cwd: Path, unsafe: bool) -> str:
        args = ["--diff", "--quiet", dockerfile, "--context", context] + (["--unsafe-fixes"] if unsafe else [])
        return self._run(args, cwd).stdout

    def write(self, dockerfile: str, context: str, cwd: Path, unsafe: bool, select: str | None = None,
              ignore: str | None = None) -> None:
        args = ["--write", "--quiet", dockerfile, "--context", context] + (["--unsafe-fixes"] if unsafe else [])
        if select:
            args += ["--select", select]
        if ignore:
            args += ["--ignore", ignore]
        self._run(args, cwd)

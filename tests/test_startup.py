"""What a plain single-file `--check` loads: a pre-commit hook runs one process per file, and each
pays for every module it imports. Nothing of the verifier, the Docker SDK, rich, the other
report formats, the language modules a file does not use, nor a TOML reader without a TOML file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LOADED = """
import json, sys
from dockopt.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

NOT_FOR_A_PLAIN_CHECK = ("docker", "rich", "dockopt.verify", "dockopt.proof", "dockopt.report.sarif",
                         "dockopt.report.junit", "dockopt.report.json_format", "dockopt.ecosystems.node",
                         "dockopt.ecosystems.python", "dockopt.ecosystems.go", "dockopt.ecosystems.java",
                         "dockopt.ecosystems.ruby", "dockopt.ecosystems.php",
                         "dockopt.passes.multistage.render", "dockopt.passes.multistage.python",
                         "tomllib")  # no configuration file, no TOML manifest


def loaded(*args: str, cwd: Path) -> tuple[int, set[str]]:
    r = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, cwd=cwd, timeout=120)
    doc = json.loads(r.stderr.decode().strip().splitlines()[-1])
    return doc["code"], set(doc["modules"])


def test_a_plain_check_of_an_apt_file_loads_no_language_module_nor_verifier(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y jq\n")
    code, modules = loaded("--check", "Dockerfile", cwd=tmp_path)
    assert code == 1  # findings with fixes: the run really checked the file
    assert "dockopt.shell.parse" in modules
    found = sorted(m for m in modules if m.startswith(NOT_FOR_A_PLAIN_CHECK))
    assert found == []


@pytest.mark.parametrize(("text", "module"), [
    ("FROM node:20\nCOPY package.json .\nRUN npm install\nCOPY . .\n", "dockopt.ecosystems.node"),
    ("FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n", "dockopt.ecosystems.python"),
])
def test_a_language_module_is_loaded_when_the_file_uses_its_manager(tmp_path, text, module):
    (tmp_path / "Dockerfile").write_text(text)
    _code, modules = loaded("--check", "Dockerfile", cwd=tmp_path)
    assert module in modules

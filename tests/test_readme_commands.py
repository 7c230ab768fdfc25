"""The README's set-up command, run as a new user would: a fresh clone, a fresh virtualenv."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", setup, re.S)


def test_readme_has_the_two_setup_commands():
    install, tests = readme_commands()
    assert install.startswith("pip install . && dockopt --diff corpus/")
    assert tests == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_install_command_works_from_a_fresh_clone(tmp_path):
    install, _ = readme_commands()
    clone = tmp_path / "dockopt"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "HOME": str(tmp_path), "VIRTUAL_ENV": str(venv)}
    r = subprocess.run(["bash", "-c", install], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    # the diff of the five-RUN example: exit 1 means "would change", and the diff is on stdout
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    diff = r.stdout[r.stdout.index("--- a/corpus/01-apt-five-runs/Dockerfile"):]  # after pip's own output
    assert "\n+++ b/corpus/01-apt-five-runs/Dockerfile\n" in diff
    assert "+RUN apt-get update && \\" in diff

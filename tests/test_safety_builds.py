"""Safe fixes whose placement decides whether the build still works, built for real on BuildKit.

* A cache cleanup runs the tool it cleans: `npm cache clean --force` appended at the end of a RUN
  that has already removed npm fails with `npm: not found`. The fix puts it right after npm's
  last use (fixture DO109/npm-removed-later).
* A cache mount on a directory the RUN deletes, or one above it (`rm -rf /var/lib/apt` with the
  lists on a mount): the mount point cannot go, and the RUN fails with "Device or resource busy".
  That RUN gets no mount; the next one does (fixture DO112/deletes-apt-state).
* Package lists a later step installs from: removing them after the first install breaks a later
  RUN that installs through a script copied from the build context. The fix gives that RUN its
  own `apt-get update` (fixture DO104/context-script-installs).

Each case builds only the safe rewrite (the original is the fixture's input, built by nobody's
mistake) and runs a command in the image that shows the fix did its work and the program runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from dockopt.config import Settings
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import by_code

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LABEL = "org.dockopt.test=1"

CASES = [
    pytest.param("DO109/npm-removed-later", "npm cache clean --force \\",
                 "semver 1.2.3 && test ! -d /root/.npm/_cacache && echo cache-gone", "1.2.3\ncache-gone\n",
                 id="cleanup-before-npm-goes"),
    pytest.param("DO104/context-script-installs", "RUN apt-get update && install-extras.sh",
                 "jq -n 1+1 && ls /var/lib/apt/lists | grep -v -x -e lock -e partial | wc -l", "2\n0\n",
                 id="lists-for-a-context-script"),
    pytest.param("DO112/deletes-apt-state", "so this RUN gets no mount\nRUN apt-get update \\\n",
                 "curl --version | head -c 4 && jq -n 1+1", "curl2\n", id="no-mount-where-rm-takes-its-parent"),
]


def _docker() -> str:
    docker = shutil.which("docker")
    if docker is None or not os.environ.get("DOCKER_HOST"):
        message = "needs the docker CLI and DOCKER_HOST (eval \"$(bash scripts/docker-up.sh)\")"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return docker


def _safe_rewrite(case: Path) -> str:
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    linter = Linter([by_code()[case.parent.name]])
    context = case / "context" if (case / "context").is_dir() else None
    return fix_text(text, linter, path=case / "Dockerfile", context_dir=context, settings=Settings()).text


@pytest.mark.docker
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name,placed,smoke,expected", CASES)
def test_safe_rewrite_builds_and_runs(name: str, placed: str, smoke: str, expected: str, tmp_path: Path) -> None:
    docker = _docker()
    case = FIXTURES / name
    rewritten = _safe_rewrite(case)
    assert placed in rewritten, rewritten          # the fix is there, where it must be
    ctx = tmp_path / "ctx"
    if (case / "context").is_dir():
        shutil.copytree(case / "context", ctx, symlinks=True)
    else:
        ctx.mkdir()
    (ctx / "Dockerfile.rewritten").write_text(rewritten, encoding="utf-8")
    tag = f"dockopt-test/safety-{case.name}:{uuid.uuid4().hex[:10]}"
    try:
        build = subprocess.run([docker, "buildx", "build", "--load", "--label", LABEL, "-t", tag,
                                "-f", str(ctx / "Dockerfile.rewritten"), str(ctx)],
                               capture_output=True, text=True, timeout=800, check=False)
        assert build.returncode == 0, build.stderr[-4000:]
        run = subprocess.run([docker, "run", "--rm", "--label", LABEL, "--entrypoint", "sh", tag, "-c", smoke],
                             capture_output=True, text=True, timeout=120, check=False)
        assert (run.returncode, run.stdout) == (0, expected), run.stderr
    finally:
        subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, check=False)

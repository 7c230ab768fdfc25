"""Shared test fixtures: the repository, the shared corpora, the CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the bench/ helpers are imported by some tests
    sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("DOCKOPT_SHARED", REPO.parent / "shared"))
REALWORLD = SHARED / "corpus" / "realworld"
BUILDKIT_CASES = SHARED / "corpus" / "buildkit-parser-testfiles"
BUILDKIT_NEGATIVE = SHARED / "corpus" / "buildkit-parser-testfiles-negative"
IN_CI = bool(os.environ.get("CI"))


def need_shared(path: Path) -> None:
    """Skip when the shared corpus is absent (a user's clone); in CI its absence is a failure."""
    if path.exists():
        return
    if IN_CI:
        pytest.fail(f"{path} is missing in CI: the shared corpus must be beside the clone")
    pytest.skip(f"{path} not found: the shared corpus lives beside the project checkout (../shared)")


def manifest_files(root: Path) -> list[str]:
    with open(root / "manifest.tsv", encoding="utf-8") as fh:
        rows = fh.read().splitlines()[1:]
    return [row.split("\t")[0] for row in rows if row]


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def realworld() -> list[tuple[str, str]]:
    need_shared(REALWORLD)
    return [(name, read_text(REALWORLD / name)) for name in manifest_files(REALWORLD)]


@pytest.fixture(scope="session")
def buildkit_cases() -> list[Path]:
    need_shared(BUILDKIT_CASES)
    return sorted(p for p in BUILDKIT_CASES.iterdir() if (p / "Dockerfile").exists())


# the console script pip installed beside this interpreter: what a user types
DOCKOPT = Path(sys.executable).parent / "dockopt"


def run_cli(*args: str, input: bytes | None = None, cwd: Path | None = None, env: dict | None = None):
    """Run the installed `dockopt` console script the way a user does, as a separate process."""
    if not DOCKOPT.exists():
        pytest.fail(f"{DOCKOPT} is missing: install the project (pip install -e '.[dev]') before testing")
    full_env = dict(os.environ)
    for name in ("DOCKOPT_DEBUG", "FORCE_COLOR", "NO_COLOR"):
        full_env.pop(name, None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [str(DOCKOPT), *args], input=input, capture_output=True, cwd=cwd, env=full_env, timeout=300,
    )


@pytest.fixture(scope="session")
def docker_engine():
    """A reachable Docker engine with the stand-in bases; in CI its absence is a failure."""
    import docker

    try:
        client = docker.from_env(timeout=10)
        client.ping()
        client.images.get("debian:bookworm")
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"no Docker engine with the stand-in bases in CI: {exc}")
        pytest.skip(f"no Docker engine with the stand-in bases ({exc}); "
                    "run scripts/docker-up.sh and python -m bench.bases")
    return client

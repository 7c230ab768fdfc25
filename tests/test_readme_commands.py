"""The README's commands, run as written: the set-up command in a fresh Debian 12 container, the
pre-commit snippets in a fresh repository, the CI snippet's install in a fresh virtualenv."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from conftest import REPO

README = REPO / "README.md"
LABEL = "org.dockopt.test"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", section("Set-up"), re.S)


def readme_output() -> str:
    """The console block that says what the first command prints."""
    [block] = re.findall(r"```console\n(.*?)```", section("Set-up"), re.S)
    return block


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", section("pre-commit and CI"), re.S)


def test_readme_has_the_two_setup_commands():
    install, tests = readme_commands()
    # Debian 12 refuses a system-wide pip install (PEP 668): the command makes its own venv
    assert install.startswith("python3 -m venv .venv && .venv/bin/pip install ")
    assert "sudo" not in install and "--break-system-packages" not in install
    assert tests == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_shows_the_diff_the_command_prints(tmp_path):
    """The diff part of the shown output is what this tree's dockopt prints (the full output,
    pip's included, is checked in a container below)."""
    from conftest import run_cli

    r = run_cli("--diff", "corpus/01-apt-five-runs/Dockerfile", cwd=REPO)
    assert r.returncode == 1
    assert readme_output() == r.stdout.decode() + r.stderr.decode()


def test_lint_only_install_needs_no_docker_sdk():
    """A check run never imports the Docker SDK, so `pip install .` (without the verify extra)
    is enough to lint; --verify says which extra it needs."""
    code = ("import sys\nfrom dockopt.cli import main\n"
            "rc = main(['--check', '--format', 'json', 'corpus/01-apt-five-runs/Dockerfile'])\n"
            "print(rc, sorted(m for m in sys.modules if m == 'docker' or m.startswith('docker.')), file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.stderr.strip().splitlines()[-1] == "1 []", r.stderr
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    dependencies = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "docker" not in dependencies
    assert re.search(r'verify = \[\s*"docker>=', pyproject)


def _tree_archive() -> bytes:
    """The files git tracks, as they are in the working tree, under src/."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names.decode().split("\0"):
            if name and (REPO / name).exists():
                tar.add(REPO / name, arcname=f"src/{name}", recursive=False)
    return buf.getvalue()


@pytest.mark.docker
def test_setup_command_in_a_fresh_debian_12(docker_engine):
    """python3 and python3-venv from Debian's mirror, nothing else; the README's first command
    prints exactly what the README shows, and exits 1 (the file would change)."""
    install, _ = readme_commands()
    run_id = uuid.uuid4().hex[:12]
    tag = f"dockopt-readme-test:{run_id}"
    recipe = ("FROM debian:bookworm-slim\n"
              "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv"
              " && rm -rf /var/lib/apt/lists/*\n")
    image = container = None
    try:
        image, _ = docker_engine.images.build(fileobj=io.BytesIO(recipe.encode()), tag=tag, rm=True,
                                             labels={LABEL: run_id}, timeout=900)
        container = docker_engine.containers.create(
            tag, ["sh", "-c", f"cd /src && {{ {install} ; }} > /out 2>&1; echo $? > /rc; "
                              ".venv/bin/dockopt --verify corpus/01-apt-five-runs/Dockerfile > /verify 2>&1; "
                              "echo $? >> /rc"],
            labels={LABEL: run_id})
        container.put_archive("/", _tree_archive())
        container.start()
        assert container.wait(timeout=900)["StatusCode"] == 0

        def read(path: str) -> str:
            bits, _ = container.get_archive(path)
            with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
                member = tar.extractfile(Path(path).name)
                assert member is not None
                return member.read().decode()

        output, codes = read("/out"), read("/rc").split()
        # a name-resolution hiccup of the machine's network makes pip retry and say so; that is
        # the network's output, not the command's
        output = "".join(line for line in output.splitlines(keepends=True)
                         if not line.startswith("WARNING: Retrying (Retry("))
        assert output == readme_output(), output
        assert codes[0] == "1"
        # --verify without the extra: one line naming it, exit 2
        assert codes[1] == "2" and "pip install 'dockopt[verify]'" in read("/verify")
    finally:
        if container is not None:
            container.remove(force=True)
        if image is not None:
            docker_engine.images.remove(image.id, force=True)


def _sample_repo(tmp_path: Path) -> Path:
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "Dockerfile").write_text("FROM debian:bookworm\nUSER nobody\nRUN echo one > /tmp/a\n"
                                       "RUN echo two > /tmp/b\n")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=sample, check=True)
    subprocess.run([*git, "add", "Dockerfile"], cwd=sample, check=True)
    return sample


def _pre_commit(sample: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent
    env = {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([str(bin_dir / "pre-commit"), *args], cwd=sample, capture_output=True, text=True,
                          env=env, timeout=900)


@pytest.mark.slow
def test_pre_commit_snippet_works_as_written(tmp_path):
    sample = _sample_repo(tmp_path)
    local = yaml_blocks()[0]
    assert "repo: local" in local
    (sample / ".pre-commit-config.yaml").write_text(local)
    r = _pre_commit(sample, tmp_path, "run", "--all-files")
    assert r.returncode == 1 and "DO101" in r.stdout, r.stdout + r.stderr
    subprocess.run([str(Path(sys.executable).parent / "dockopt"), "--write", "Dockerfile"], cwd=sample)
    assert _pre_commit(sample, tmp_path, "run", "--all-files").returncode == 0


@pytest.mark.slow
def test_pre_commit_from_the_repository_at_a_commit(tmp_path):
    """The README's other way: `repo:` a clone, `rev:` a commit id (there is no tag)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    sample = _sample_repo(tmp_path)
    (sample / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n      - id: dockopt\n")
    r = _pre_commit(sample, tmp_path, "run", "--all-files")
    assert r.returncode == 1 and "DO101" in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
def test_ci_snippet_installs_from_the_repository(tmp_path):
    ci = yaml_blocks()[1]
    [install] = re.findall(r"- run: (pip install .*)", ci)
    [lint] = re.findall(r"- run: (dockopt .*)", ci)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    install = install.replace("DOCKOPT_GIT_URL", f"file://localhost{REPO}").replace("COMMIT", head)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {**os.environ, "PATH": f"{venv}/bin:/usr/bin:/bin", "VIRTUAL_ENV": str(venv)}
    r = subprocess.run(["sh", "-c", install], env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    sample = _sample_repo(tmp_path)
    r = subprocess.run(["sh", "-c", lint], cwd=sample, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    log = json.loads((sample / "dockopt.sarif").read_text())
    assert log["version"] == "2.1.0" and any(res["ruleId"] == "DO101" for res in log["runs"][0]["results"])

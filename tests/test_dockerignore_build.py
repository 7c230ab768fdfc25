"""DO204 proven by real BuildKit builds: the exclusions of a Dockerfile whose context other
Dockerfiles share go to `<Dockerfile>.dockerignore`, which BuildKit applies to that Dockerfile
only (a sibling's `COPY logs/` still builds), and `.git`, which a build script reads, stays."""
from __future__ import annotations

import subprocess
import uuid

import pytest
from conftest import run_cli
from test_pass_do2_common import d, make_context

pytestmark = pytest.mark.docker

LABEL = "dockopt.test=dockerignore-build"


def _build(ctx, dockerfile: str, tag: str) -> subprocess.CompletedProcess[str]:
    # -f names the file, as a user builds: BuildKit then looks for <file>.dockerignore beside it
    return subprocess.run(["docker", "buildx", "build", "--load", "--progress=plain", "--label", LABEL,
                           "-t", tag, "-f", str(ctx / dockerfile), str(ctx)],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory, docker_engine):
    ctx = make_context(tmp_path_factory.mktemp("shared") / "ctx", {
        "Dockerfile": d("""\
            FROM busybox
            WORKDIR /src
            COPY . .
            RUN sh build/stamp.sh
            """),
        # the build script reads the commit from .git: without it the build fails
        "build/stamp.sh": "set -e\ncat .git/HEAD > /stamp\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        "src/app.sh": "echo app\n",
        "debug.log": "junk\n",
        # a sibling that ships the logs directory: a shared `**/*.log` would break its COPY
        "Dockerfile.logs": "FROM busybox\nCOPY logs/ /logs/\n",
        "logs/app.log": "kept\n",
    })
    r = run_cli("--write", "--select", "DO204", "--context", str(ctx), str(ctx / "Dockerfile"))
    assert r.returncode == 0, r.stderr
    run = uuid.uuid4().hex[:8]
    tags = {name: f"dockopt-test-ignore-{name.lower().replace('.', '-')}:{run}" for name in
            ("Dockerfile", "Dockerfile.logs")}
    results = {name: _build(ctx, name, tag) for name, tag in tags.items()}
    yield ctx, tags, results
    subprocess.run(["docker", "image", "rm", "-f", *tags.values()], capture_output=True, check=False)


def test_the_exclusions_go_to_the_dockerfile_own_ignore_file(built):
    ctx, _tags, _results = built
    assert not (ctx / ".dockerignore").exists()
    own = (ctx / "Dockerfile.dockerignore").read_text()
    assert "**/*.log" in own.splitlines() and ".git" not in own.splitlines()


def test_buildkit_applies_it_to_that_dockerfile_only(built):
    _ctx, tags, results = built
    for name, result in results.items():
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
    listing = subprocess.run(["docker", "run", "--rm", tags["Dockerfile"], "sh", "-c",
                              "cat /stamp; ls -a /src"], capture_output=True, text=True, timeout=120, check=True)
    files = listing.stdout.split()
    assert files[:2] == ["ref:", "refs/heads/main"]     # .git reached the build script
    assert "debug.log" not in files and "src" in files   # the log did not reach the image
    logs = subprocess.run(["docker", "run", "--rm", tags["Dockerfile.logs"], "cat", "/logs/app.log"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert logs.stdout == "kept\n"                       # the sibling still sends its logs


@pytest.fixture(scope="module")
def own_ignore_context(tmp_path_factory, docker_engine):
    # The Dockerfile's own ignore file keeps secret.txt out; the context's .dockerignore does not.
    # A build that sent it fails, so a verification that ignored the own file could not pass.
    return make_context(tmp_path_factory.mktemp("own") / "ctx", {
        "Dockerfile.app": d("""\
            FROM busybox
            COPY . /app
            RUN test ! -e /app/secret.txt
            ADD run.sh /run.sh
            CMD ["sh", "/run.sh"]
            """),
        "Dockerfile.app.dockerignore": "secret.txt\n",
        ".dockerignore": "*.log\n",
        "secret.txt": "do not ship\n",
        "run.sh": "echo ok\n",
    })


@pytest.mark.parametrize("mode", ["--verify", "--diff"])
def test_verify_builds_with_the_dockerfile_own_ignore_file(own_ignore_context, mode):
    ctx = own_ignore_context
    args = [mode, "--select", "DO203", "--context", str(ctx), str(ctx / "Dockerfile.app")]
    r = run_cli(*args) if mode == "--verify" else run_cli(*args, "--verify")
    stdout, out = r.stdout.decode(), (r.stdout + r.stderr).decode()
    if mode == "--verify":
        assert r.returncode == 0, out
        assert "equivalent" in out
    else:
        # the proven diff: ADD became COPY, after both images built without secret.txt
        assert "-ADD run.sh /run.sh" in stdout and "+COPY run.sh /run.sh" in stdout, out
        assert "1 fixes proven, 0 rejected" in out, out
    assert "secret.txt" not in out.replace("test ! -e /app/secret.txt", "")

"""`dockopt --write --verify` / `--diff --verify` with real builds: only what the builds prove is
written, each rejected fix is named with the check it failed and the log lines showing why.

Each scenario runs once (module-scoped fixtures); the tests read its result.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = pytest.mark.docker

NGINX = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/*
ADD index.html /var/www/html/index.html
COPY start.sh /start.sh
CMD ["sh", "/start.sh"]
"""

GO_MAIN = """\
package main

import (
\t"fmt"
\t"os"
)

func main() {
\tmsg, err := os.ReadFile("/app/message.txt")
\tif err != nil {
\t\tfmt.Fprintln(os.Stderr, "cannot read the message:", err)
\t\tos.Exit(1)
\t}
\tfmt.Print(string(msg))
}
"""

GO = """\
FROM golang:1.19
WORKDIR /app
COPY . .
RUN go build -o /usr/local/bin/hello .
CMD ["hello"]
"""

# an entrypoint that does root's work, then drops to another user by itself (as gosu does)
DROPPING_ENTRYPOINT = """\
#!/bin/sh
set -e
if [ "$(id -u)" = 0 ]; then
    mkdir -p /data && chown nobody /data
    exec chroot --userspec=nobody:nogroup / "$0" "$@"
fi
echo "worker $(id -u) started" > /data/state
exec sleep 600
"""

DROPPING = """\
FROM debian:bookworm-slim
ADD entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
"""

CLEAN = """\
FROM busybox:latest
WORKDIR /app
COPY . .
ADD motd /etc/motd
RUN echo one > /a
RUN echo two > /b
CMD ["cat", "/etc/motd", "/a", "/b"]
"""


def _prove(tmp: Path, dockerfile: str, files: dict[str, str], *args: str) -> tuple[object, dict, str]:
    """Run dockopt with --verify --format json on a new project; (process, proof, file text after)."""
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
        if name.endswith(".sh"):
            (tmp / name).chmod(0o755)
    (tmp / "Dockerfile").write_text(dockerfile)
    r = run_cli("--verify", "--format", "json", "--liveness", "3", *args, str(tmp / "Dockerfile"))
    out = r.stdout.decode() if "--write" in args else r.stderr.decode()
    start = out.find("{")
    assert start >= 0, r.stdout.decode() + r.stderr.decode()
    doc = json.loads(out[start:])
    return r, doc["files"][0]["proof"], (tmp / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, docker_engine):
    return _prove(tmp_path_factory.mktemp("nginx"), NGINX, {"index.html": "<h1>hello</h1>\n",
                                                                "start.sh": "exec nginx -g 'daemon off;'\n"},
                  "--write", "--unsafe-fixes", "--select", "DO203,DO302")


def test_a_non_root_user_on_nginx_is_rejected_and_the_other_fix_kept(nginx):
    r, proof, text = nginx
    assert [f["code"] for f in proof["kept"]] == ["DO203"]
    [rejected] = proof["rejected"]
    assert rejected["code"] == "DO302" and rejected["check"] == "liveness"
    assert any("Permission denied" in line for line in rejected["evidence"]), rejected
    # written: the proven fix only
    assert "COPY index.html /var/www/html/index.html" in text
    assert "USER" not in text and "useradd" not in text
    assert r.returncode == 1      # a fix was rejected


@pytest.fixture(scope="module")
def go_split(tmp_path_factory, docker_engine):
    return _prove(tmp_path_factory.mktemp("go"), GO,
                  {"main.go": GO_MAIN, "go.mod": "module example.com/hello\n\ngo 1.19\n", "message.txt": "hello\n"},
                  "--diff", "--unsafe-fixes", "--select", "DO301")


def test_a_split_that_leaves_out_a_runtime_file_is_rejected(go_split):
    r, proof, text = go_split
    assert proof["verdict"] == "nothing-proven" and proof["kept"] == []
    [rejected] = proof["rejected"]
    assert rejected["code"] == "DO301" and rejected["check"] == "liveness"
    assert any("cannot read the message" in line for line in rejected["evidence"]), rejected
    assert r.returncode == 1 and r.stdout.decode() == ""   # no proven diff to show
    assert text == GO


@pytest.fixture(scope="module")
def dropping(tmp_path_factory, docker_engine):
    return _prove(tmp_path_factory.mktemp("drop"), DROPPING, {"entrypoint.sh": DROPPING_ENTRYPOINT},
                  "--write", "--unsafe-fixes", "--select", "DO203,DO302")


def test_an_entrypoint_that_drops_privileges_itself_keeps_root(dropping):
    r, proof, text = dropping
    assert [f["code"] for f in proof["rejected"]] == ["DO302"]
    assert "/data/state" in " ".join(proof["rejected"][0]["evidence"])
    assert "USER" not in text and text.count("COPY entrypoint.sh") == 1
    assert r.returncode == 1


@pytest.fixture(scope="module")
def clean(tmp_path_factory, docker_engine):
    tmp = tmp_path_factory.mktemp("clean")
    return (*_prove(tmp, CLEAN, {"motd": "welcome\n", ".git/HEAD": "ref: refs/heads/main\n"}, "--write",
                    "--select", "DO101,DO203,DO204"), tmp)


def test_a_file_whose_fixes_all_pass_is_written_after_one_build_of_each(clean):
    r, proof, text, tmp = clean
    assert proof["verdict"] == "proven" and proof["rejected"] == []
    assert sorted(f["code"] for f in proof["kept"]) == ["DO101", "DO203", "DO204"]
    # the .dockerignore the fix writes was built with, and is written with the Dockerfile
    assert ".git" in (tmp / ".dockerignore").read_text().splitlines()
    assert proof["builds"] == {"original": 1, "rewrite": 1}
    assert "COPY motd /etc/motd" in text and text.count("RUN") == 1
    assert r.returncode == 0


# a build that is not reproducible: each build of it writes a different stamp
STAMPED = """\
FROM busybox:latest
RUN date +%s%N > /build-stamp
RUN echo two > /b
CMD ["cat", "/b"]
"""


@pytest.fixture(scope="module")
def stamped(tmp_path_factory, docker_engine):
    return _prove(tmp_path_factory.mktemp("stamped"), STAMPED, {}, "--write", "--unsafe-fixes", "--select", "DO101")


def test_paths_the_original_does_not_build_the_same_way_twice_are_not_held_against_a_fix(stamped):
    r, proof, text = stamped
    # the merge re-runs the step that writes the stamp: /build-stamp differs, so the original is
    # built once more without the cache, which shows the stamp differs by itself
    assert proof["verdict"] == "proven" and [f["code"] for f in proof["kept"]] == ["DO101"]
    assert proof["builds"] == {"original": 2, "rewrite": 1}
    assert any("1 paths differ between two builds of the original (/build-stamp)" in n for n in proof["notes"])
    assert text.count("RUN") == 1
    assert r.returncode == 0

"""The local stand-ins for the official base images (bench/bases.py).

Builds them with ``python -m bench.bases`` (seconds when they are already
there) and checks, in real containers, that they do what Dockerfiles written
for the official images expect.  Network is used by two checks only: apt in
debian:bookworm and pip in python:3.11-slim.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from bench import bases

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.docker

DOCKER_ENV = dict(os.environ, DOCKER_BUILDKIT="0")


def docker(*args: str, check: bool = True, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(["docker", *args], check=False, capture_output=True, text=True, timeout=timeout, env=DOCKER_ENV,
                       **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def run(image: str, script: str, *, entrypoint: str | None = None, check: bool = True,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """`docker run --rm image sh -c script` (or `--entrypoint`)."""
    args = ["run", "--rm"]
    if entrypoint:
        return docker(*args, "--entrypoint", entrypoint, image, *script.split(), check=check, timeout=timeout)
    return docker(*args, image, "sh", "-c", script, check=check, timeout=timeout)


def inspect(ref: str) -> dict:
    return json.loads(docker("image", "inspect", "--format", "{{json .}}", ref).stdout)


def build_bases() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.bases"], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=3600)


@pytest.fixture(scope="module")
def built() -> str:
    try:
        up = subprocess.run(["docker", "info"], check=False, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        up = False
    if not up:
        msg = "no Docker engine answers `docker info` (run scripts/docker-up.sh)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    p = build_bases()
    assert p.returncode == 0, f"python -m bench.bases failed:\n{p.stdout}\n{p.stderr[-6000:]}"
    return p.stdout


ALL_TAGS = [t for r in bases.RECIPE_LIST for t in r.tags]


def image_files(image: str) -> dict[str, tarfile.TarInfo]:
    """Every path of an image's file system (via docker export)."""
    cid = docker("create", image, "/nonexistent").stdout.strip()
    try:
        data = subprocess.run(["docker", "export", cid], capture_output=True, check=True, timeout=300).stdout
    finally:
        docker("rm", "-f", cid, check=False)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name.lstrip("./").rstrip("/"): m for m in tf.getmembers()}


def export_file(image: str, path: str) -> bytes:
    cid = docker("create", image, "/nonexistent").stdout.strip()
    try:
        data = subprocess.run(["docker", "cp", f"{cid}:{path}", "-"], capture_output=True, check=True,
                              timeout=120).stdout
    finally:
        docker("rm", "-f", cid, check=False)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        member = tf.getmembers()[0]
        return tf.extractfile(member).read()


# ---------------------------------------------------------------- the images


@pytest.mark.parametrize("tag", ALL_TAGS)
def test_every_tag_is_a_labelled_stand_in(built, tag):
    info = inspect(tag)
    labels = info["Config"]["Labels"] or {}
    assert labels.get("org.dockopt.stand-in") == "true"
    assert labels.get("org.dockopt.stand-in.for") == tag
    assert re.fullmatch(r"[0-9a-f]{64}", labels.get("org.dockopt.stand-in.recipe", ""))
    assert tag in info["RepoTags"] or f"{tag}:latest" in info["RepoTags"]


def test_table_lists_every_tag(built):
    for tag in ALL_TAGS:
        assert re.search(rf"^{re.escape(tag)}\s+[0-9a-f]{{12}}\s", built, re.MULTILINE), built


def test_aliases_share_layers_and_children_sit_on_parents(built):
    for r in bases.RECIPE_LIST:
        layers = inspect(r.tag)["RootFS"]["Layers"]
        for alias in r.aliases:
            assert inspect(alias)["RootFS"]["Layers"] == layers, alias
        if r.kind == "build" and r.on_parent:
            parent = inspect(r.parent)["RootFS"]["Layers"]
            assert layers[: len(parent)] == parent, f"{r.tag} is not built on the current {r.parent}"


def test_warm_rerun_rebuilds_nothing(built):
    t0 = time.monotonic()
    p = build_bases()
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()[1:] if line.strip()]
    assert rows and all(row[-1] == "reused" for row in rows), p.stdout
    assert took < 120, f"warm run took {took:.0f}s"


def test_slim_is_slimmer(built):
    full, slim = inspect("debian:bookworm")["Size"], inspect("debian:bookworm-slim")["Size"]
    assert slim < full
    assert inspect("python:3.11-slim")["Size"] < inspect("python:3.11")["Size"]


# ------------------------------------------------------- trust store, apt


def test_host_cas_and_apt_sources_are_inside(built):
    bundle = export_file("debian:bookworm", "/etc/ssl/certs/ca-certificates.crt").decode()
    norm = re.sub(r"\s+", "", bundle)
    for crt in bases.host_ca_files():
        for pem in re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", crt.read_text(), re.DOTALL):
            assert re.sub(r"\s+", "", pem) in norm, f"{crt} is not in the image's trust store"
    sources = export_file("debian:bookworm", "/etc/apt/sources.list.d/debian.sources").decode()
    assert sources == bases.host_apt_sources()[0]


def test_apt_get_install_works_in_debian(built):  # network
    p = run("debian:bookworm",
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends hello >/dev/null && hello")
    assert "Hello, world!" in p.stdout


# ------------------------------------------------------------ languages


def test_python_slim(built):
    p = run("python:3.11-slim",
            "python3 -c 'import ssl, urllib.request, venv, sqlite3; print(ssl.OPENSSL_VERSION)' && "
            "python --version && pip --version && /usr/local/bin/python --version && "
            "echo PBS=$PIP_BREAK_SYSTEM_PACKAGES && python -m venv /tmp/v && /tmp/v/bin/pip --version")
    assert "Python 3.11." in p.stdout
    assert "PBS=1" in p.stdout
    assert "/tmp/v/" in p.stdout


def test_python_full_has_a_compiler_and_headers(built):
    p = run("python:3.11", "gcc --version && python3-config --includes && python --version")
    assert "Python 3.11." in p.stdout


def test_pip_installs_from_pypi(built):  # network
    p = run("python:3.11-slim",
            "pip install --no-cache-dir -q --no-deps six && python -c 'import six; print(six.__version__)'",
            timeout=300)
    assert re.search(r"^\d+\.\d+", p.stdout.strip().splitlines()[-1])


def test_node(built):
    for tag in ("node:18-slim", "node:18"):
        p = run(tag, "node -e 1 && node --version && npm --version && yarn --version && "
                     "echo CA=$NODE_EXTRA_CA_CERTS && id -u node")
        out = p.stdout.split()
        assert out[0].startswith("v18."), (tag, p.stdout)
        assert "CA=/etc/ssl/certs/ca-certificates.crt" in out and out[-1] == "1000"
    assert "no-gcc" in run("node:18-slim", "command -v gcc || echo no-gcc").stdout
    assert run("node:18", "gcc -dumpversion").stdout.strip() == "12"


def test_go_builds_stdlib_programs(built):
    p = run("golang:1.19",
            "cd /tmp && printf 'package main\\nimport \"fmt\"\\nfunc main() { fmt.Println(\"hi from go\") }\\n' "
            "> m.go && go version && go run m.go && go env GOPATH GOPROXY")
    assert "go1.19" in p.stdout and "hi from go" in p.stdout
    assert p.stdout.split()[-2:] == ["/go", "off"]


def test_rust_and_gcc_compile(built):
    p = run("rust:1.63", "cd /tmp && echo 'fn main() { println!(\"hi from rust\"); }' > m.rs && "
                         "rustc --version && cargo --version && rustc m.rs && ./m")
    assert "rustc 1.63." in p.stdout and "hi from rust" in p.stdout
    p = run("gcc:12", "cd /tmp && printf '#include <stdio.h>\\nint main(void){puts(\"hi from c\");}\\n' > m.c "
                      "&& gcc -O2 m.c -o m && ./m && gcc -dumpversion")
    assert p.stdout.split()[-4:] == ["hi", "from", "c", "12"]


def test_java(built):
    p = run("eclipse-temurin:17-jdk", "java -version 2>&1 && javac -version && echo JH=$JAVA_HOME")
    assert 'version "17.' in p.stdout and "javac 17." in p.stdout and "JH=/opt/java/openjdk" in p.stdout
    p = run("eclipse-temurin:17-jre", "java -version 2>&1; command -v javac || echo no-javac")
    assert 'version "17.' in p.stdout and "no-javac" in p.stdout


# ---------------------------------------------------- servers, tiny roots


def test_nginx_serves_and_logs_to_stdout(built):
    info = inspect("nginx:stable")["Config"]
    assert info["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert "80/tcp" in (info.get("ExposedPorts") or {})
    name = f"dockopt-test-nginx-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "nginx:stable")
    try:
        body = ""
        for _ in range(30):
            p = docker("run", "--rm", "--network", f"container:{name}", "busybox:latest",
                       "wget", "-qO-", "http://127.0.0.1/", check=False)
            if p.returncode == 0:
                body = p.stdout
                break
            time.sleep(0.5)
        assert "Welcome to nginx!" in body
        logs = docker("logs", name)
        assert "GET / HTTP/1.1" in logs.stdout
    finally:
        docker("rm", "-f", name, check=False)


def test_busybox(built):
    p = run("busybox:latest", "echo ok && busybox --list | wc -l && ls /bin | wc -l && /usr/bin/env true && "
                              "/bin/wget --help 2>&1 | head -1 && id -u")
    out = p.stdout.split()
    assert out[0] == "ok" and int(out[1]) > 200 and int(out[2]) > 200 and out[-1] == "0"
    assert inspect("busybox:latest")["Config"]["Cmd"] == ["sh"]


@pytest.mark.parametrize("tag", ["gcr.io/distroless/static-debian12", "gcr.io/distroless/base-debian12"])
def test_distroless_has_no_shell_but_the_basics(built, tag):
    files = image_files(tag)
    for shell in ("bin/sh", "bin/bash", "bin/dash", "usr/bin/sh", "bin/busybox"):
        assert shell not in files, f"{tag} has {shell}"
    for need in ("etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC",
                 "usr/share/zoneinfo/Europe/Paris", "etc/services"):
        assert need in files, f"{tag} lacks /{need}"
    assert files["tmp"].mode & 0o1777 == 0o1777
    passwd = export_file(tag, "/etc/passwd").decode()
    assert re.search(r"^root:x:0:0:", passwd, re.MULTILINE)
    assert re.search(r"^nonroot:x:65532:65532:", passwd, re.MULTILINE)
    assert run(tag, "true", entrypoint="/bin/sh", check=False).returncode != 0
    has_libc = any(re.fullmatch(r"(usr/)?lib/[^/]+/libc\.so\.6", f) for f in files)
    assert has_libc == tag.endswith("base-debian12")


def test_distroless_base_runs_glibc_and_libssl(built):
    loader = {"x86_64": "/lib64/ld-linux-x86-64.so.2", "aarch64": "/lib/ld-linux-aarch64.so.1"}.get(
        platform.machine())
    if loader is None:
        pytest.skip(f"no loader path known for {platform.machine()}")
    files = image_files("gcr.io/distroless/base-debian12")
    libssl = next(f for f in files if re.fullmatch(r"usr/lib/[^/]+/libssl\.so\.3", f))
    p = run("gcr.io/distroless/base-debian12", f"--list /{libssl}", entrypoint=loader)
    assert "libcrypto.so.3 => /" in p.stdout and "not found" not in p.stdout


def test_go_static_binary_on_distroless_as_nonroot(built, tmp_path):
    (tmp_path / "main.go").write_text(textwrap.dedent("""\
        package main

        import (
            "fmt"
            "os"
            "time"
        )

        func main() {
            loc, err := time.LoadLocation("Europe/Paris")
            if err != nil {
                panic(err)
            }
            fmt.Println("uid", os.Getuid(), loc)
        }
        """))
    (tmp_path / "Dockerfile").write_text(textwrap.dedent("""\
        FROM golang:1.19 AS build
        WORKDIR /src
        COPY main.go .
        RUN CGO_ENABLED=0 go build -o /app main.go

        FROM gcr.io/distroless/static-debian12
        COPY --from=build /app /app
        USER nonroot
        ENTRYPOINT ["/app"]
        """))
    tag = f"dockopt-test/distroless-go:{uuid.uuid4().hex[:8]}"
    docker("build", "--force-rm", "-q", "-t", tag, str(tmp_path), timeout=600)
    try:
        p = docker("run", "--rm", tag)
        assert p.stdout.split() == ["uid", "65532", "Europe/Paris"]
    finally:
        docker("image", "rm", "-f", tag, check=False)

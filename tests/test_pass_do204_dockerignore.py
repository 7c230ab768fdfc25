"""DO204 dockerignore: what `COPY .` sends that the image does not need, and the .dockerignore fix.

The contexts are built in tmp_path: junk such as .git, node_modules, dist/ or *.log cannot be
committed as fixtures (git and this repository's .gitignore keep them out)."""
from __future__ import annotations

import pytest
from test_pass_do2_common import d, findings, fix, make_context

from dockopt.findings import Safety
from dockopt.passes.dockerignore import Dockerignore

P = [Dockerignore]
HEADER = "# Not needed in the image (dockopt DO204)\n"
NODE = d("""\
    FROM node:20
    WORKDIR /app
    COPY . .
    RUN npm ci
    """)


def junk_context(tmp_path, extra=None):
    files = {
        "package.json": '{"name": "a"}', "package-lock.json": "{}", "src/index.js": "1\n",
        ".git/HEAD": "ref: refs/heads/main\n", ".git/objects/ab/cdef": "x" * 2000,
        "node_modules/ms/index.js": "x" * 1000, "src/__pycache__/m.cpython-312.pyc": "x" * 10,
        "npm-debug.log": "x" * 300, "logs/old.log": "x" * 50, ".DS_Store": "x",
        ".env": "SECRET=1\n", ".env.example": "SECRET=\n",
    }
    files.update(extra or {})
    return make_context(tmp_path / "ctx", files)


def test_no_dockerignore_creates_one_with_the_safe_exclusions(tmp_path):
    ctx = junk_context(tmp_path)
    res = fix(NODE, P, context=ctx)
    assert res.text == NODE
    assert (ctx / ".dockerignore").read_text() == HEADER + d("""\
        **/.DS_Store
        .git
        **/node_modules
        **/*.log
        **/__pycache__
        """)


def test_the_message_says_what_is_sent_and_how_big(tmp_path):
    ctx = junk_context(tmp_path)
    safe, unsafe = findings(NODE, P, context=ctx)
    assert safe.fix.safety is Safety.SAFE
    assert ".git (2.0 KiB, 2 files)" in safe.message and "**/node_modules (1000 B, 1 file)" in safe.message
    assert "**/*.log (350 B, 2 files)" in safe.message and "no .dockerignore" in safe.message
    assert safe.line == 3
    # .env may be read by the application at run time: a separate, unsafe exclusion
    assert unsafe.fix.safety is Safety.UNSAFE and ".env" in unsafe.message and ".env.example" not in unsafe.message


def test_unsafe_exclusions_are_added_with_unsafe_fixes(tmp_path):
    ctx = junk_context(tmp_path)
    fix(NODE, P, context=ctx, unsafe=True)
    text = (ctx / ".dockerignore").read_text()
    assert text.endswith(HEADER + ".env\n")
    assert ".env.example" not in text


def test_existing_file_is_kept_and_appended_to(tmp_path):
    ctx = junk_context(tmp_path, {".dockerignore": "# mine\n.git\nnode_modules"})
    fix(NODE, P, context=ctx)
    assert (ctx / ".dockerignore").read_text() == "# mine\n.git\nnode_modules\n" + HEADER + d("""\
        **/.DS_Store
        **/*.log
        **/__pycache__
        """)


def test_crlf_dockerignore_keeps_crlf(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"a.log": "x", ".dockerignore": "tmp\r\n"})
    fix("FROM x\nCOPY . /app\n", P, context=ctx)
    assert (ctx / ".dockerignore").read_bytes() == b"tmp\r\n" + HEADER.replace("\n", "\r\n").encode() + b"**/*.log\r\n"


def test_nothing_when_everything_is_excluded_already(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"a.log": "x", ".git/HEAD": "x", ".dockerignore": "*.log\n.git\n"})
    assert findings("FROM x\nCOPY . /app\n", P, context=ctx) == []


def test_nothing_without_copy_dot(tmp_path):
    ctx = junk_context(tmp_path)
    assert findings("FROM node\nCOPY src/ /app/src/\nCOPY --from=b . /x\n", P, context=ctx) == []


def test_a_file_the_dockerfile_copies_by_name_is_never_excluded(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"app.log": "x", "other.log": "y", "a.py": "1"})
    assert findings("FROM x\nCOPY . /app\nCOPY app.log /var/log/app.log\n", P, context=ctx) == []


def test_dist_is_excluded_only_when_the_dockerfile_rebuilds_it(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"package.json": "{}", "dist/index.js": "1", "build/x.js": "2"})
    rebuilt = "FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"
    fix(rebuilt, P, context=ctx)
    assert (ctx / ".dockerignore").read_text() == HEADER + "build\ndist\n"


def test_dist_copied_from_the_context_is_kept(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"package.json": "{}", "dist/index.js": "1"})
    assert findings("FROM node\nCOPY . .\nRUN npm run build\nCOPY dist/ /usr/share/nginx/html/\n", P,
                    context=ctx) == []
    # not rebuilt: dist/ is what the image ships
    assert findings("FROM nginx\nCOPY . /usr/share/nginx/html/\n", P, context=ctx) == []


def test_target_is_rebuilt_by_cargo_and_maven(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"Cargo.toml": "", "target/debug/x": "1"})
    fix("FROM rust\nWORKDIR /s\nCOPY . .\nRUN cargo build --release\n", P, context=ctx)
    assert (ctx / ".dockerignore").read_text() == HEADER + "target\n"


GO_RUN = "FROM golang\nWORKDIR /s\nCOPY . .\nRUN go run build.go -no-upgrade build app\n"


@pytest.mark.parametrize(("dockerfile", "files", "why"), [
    # a build script the RUN runs calls git (go run build.go, whose code runs `git describe`)
    (GO_RUN, {"build.go": 'out, _ := runError("git", "describe", "--always")\n'}, "build.go"),
    # go build stamps VCS data from .git
    ("FROM golang\nWORKDIR /s\nCOPY . .\nRUN go build -o /app .\n", {"go.mod": "module x\n"}, "go build"),
    # an npm script runs git
    ("FROM node\nWORKDIR /a\nCOPY . .\nRUN npm ci && npm run build\n",
     {"package.json": '{"scripts": {"build": "npm run stamp && vite build", "stamp": "git rev-parse HEAD > v"}}'},
     "package.json"),
    # a vite config the build script runs calls git
    ("FROM node\nWORKDIR /a\nCOPY . .\nRUN npm ci && npm run build\n",
     {"package.json": '{"scripts": {"build": "vite build"}}',
      "vite.config.ts": "const sha = execSync('git rev-parse --short HEAD').toString()\n"}, "vite.config.ts"),
    # a Makefile's $(shell git describe)
    ("FROM gcc\nWORKDIR /a\nCOPY . .\nRUN make -j2\n",
     {"Makefile": "VERSION := $(shell git describe --tags)\nall:\n\tcc -DV=$(VERSION) x.c\n"}, "Makefile"),
    # setuptools-scm builds the version from .git when pip installs the project
    ("FROM python\nWORKDIR /s\nCOPY . .\nRUN pip install .\n", {"pyproject.toml": "[tool.setuptools_scm]\n"},
     "pyproject.toml"),
    # a shell script of the context run by the RUN
    ("FROM debian\nWORKDIR /s\nCOPY . .\nRUN ./scripts/build.sh\n",
     {"scripts/build.sh": "#!/bin/sh\nV=$(git log -1 --format=%h)\n"}, "scripts/build.sh"),
])
def test_git_is_kept_when_a_build_step_reads_it(tmp_path, dockerfile, files, why):
    ctx = make_context(tmp_path / "ctx", {**files, ".git/HEAD": "x", "a.log": "x"})
    fix(dockerfile, P, context=ctx, unsafe=True)
    # the log goes, .git stays: excluding it would break the build or change what it stamps
    assert (ctx / ".dockerignore").read_text() == HEADER + "**/*.log\n", why


@pytest.mark.parametrize("dockerfile", [
    # removing .git is no use of it
    "FROM debian\nWORKDIR /app\nCOPY . .\nRUN rm -rf /app/.git .gitignore\n",
    # git clones another repository; the script names git only in a comment-free echo
    "FROM debian\nCOPY . /app\nRUN git clone https://example.com/x.git /x && sh /app/run.sh\n",
    # go run of a script that never calls git
    GO_RUN,
])
def test_git_is_excluded_when_no_build_step_reads_it(tmp_path, dockerfile):
    ctx = make_context(tmp_path / "ctx", {".git/HEAD": "x", "run.sh": "echo see github.com/x/y.git\n",
                                          "build.go": "package main\nfunc main() {}\n"})
    fix(dockerfile, P, context=ctx)
    assert (ctx / ".dockerignore").read_text() == HEADER + ".git\n"


def test_git_is_reported_without_a_fix_when_a_step_cannot_be_read(tmp_path):
    ctx = make_context(tmp_path / "ctx", {".git/HEAD": "x", "tools/build": b"\x7fELF\x00\x00binary"})
    [f] = findings("FROM debian\nWORKDIR /s\nCOPY . .\nRUN ./tools/build\n", P, context=ctx)
    assert f.fix is None and "tools/build" in f.message and ".git" in f.message


def test_build_scripts_the_dockerfile_runs_are_kept(tmp_path):
    files = {"package.json": '{"scripts": {"build": "node build/build.js"}}', "build/build.js": "1",
             "build/post.js": "2", "dist/app.js": "3"}
    ctx = make_context(tmp_path / "ctx", files)
    fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n", P, context=ctx)
    # dist/ is rebuilt; build/ holds the build script itself
    assert (ctx / ".dockerignore").read_text() == HEADER + "dist\n"
    ctx2 = make_context(tmp_path / "ctx2", files)
    fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci && npx vite build && node build/post.js\n", P,
        context=ctx2)
    assert (ctx2 / ".dockerignore").read_text() == HEADER + "dist\n"


def test_logs_are_kept_when_some_are_test_data(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"npm-debug.log": "x", "cmd/x/testdata/panic.log": "y", "a.go": "1"})
    assert findings("FROM debian\nCOPY . /app\n", P, context=ctx) == []


def test_node_modules_is_unsafe_when_the_image_installs_nothing(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"node_modules/a/index.js": "1", "index.js": "1"})
    [f] = findings("FROM node\nWORKDIR /app\nCOPY . .\nCMD node index.js\n", P, context=ctx)
    assert f.fix.safety is Safety.UNSAFE and "node_modules" in f.message


def test_an_exception_of_the_existing_file_is_respected(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"node_modules/keep/x.js": "1", "node_modules/drop/y.js": "2",
                                          ".dockerignore": "node_modules\n!node_modules/keep\n"})
    assert findings(NODE, P, context=ctx) == []


def test_dockerfile_specific_ignore_file_is_the_one_written(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"a.log": "x", "app.Dockerfile": "x", "app.Dockerfile.dockerignore": "tmp\n"})
    res = fix("FROM x\nCOPY . /app\n", P, context=ctx, dockerfile=ctx / "app.Dockerfile")
    assert list(res.files) == [str(ctx / "app.Dockerfile.dockerignore")]
    assert not (ctx / ".dockerignore").exists()


def test_coverage_dir_only_when_it_holds_a_coverage_report(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"coverage/lcov.info": "x", "a.js": "1"})
    fix("FROM node\nCOPY . /app\n", P, context=ctx)
    assert (ctx / ".dockerignore").read_text() == HEADER + "coverage\n"
    ctx2 = make_context(tmp_path / "ctx2", {"coverage/__init__.py": "x"})
    assert findings("FROM python\nCOPY . /app\n", P, context=ctx2) == []


def test_invalid_existing_dockerignore_means_no_finding(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"a.log": "x", ".dockerignore": "[\n"})
    assert findings("FROM x\nCOPY . /app\n", P, context=ctx) == []


@pytest.mark.parametrize("name", ["08-python-copy-before-pip", "15-node-copy-before-install"])
def test_project_corpus_cases_that_send_junk(name):
    from pathlib import Path

    case = Path(__file__).resolve().parents[1] / "corpus" / name
    if not case.is_dir():
        pytest.skip("no corpus/")
    assert findings((case / "Dockerfile").read_text(), P, context=case)


@pytest.mark.parametrize("name", ["05-apt-single-run-clean", "12-python-pip-cache-root", "14-python-clean",
                                  "16-node-single-stage-build", "21-node-clean", "23-go-multistage-distroless",
                                  "31-generic-exec-form-clean"])
def test_project_corpus_cases_that_do_not(name):
    from pathlib import Path

    case = Path(__file__).resolve().parents[1] / "corpus" / name
    if not case.is_dir():
        pytest.skip("no corpus/")
    assert findings((case / "Dockerfile").read_text(), P, context=case) == []


def test_node_modules_is_unsafe_when_a_stage_copying_everything_installs_nothing(tmp_path):
    ctx = make_context(tmp_path / "ctx", {"node_modules/a/index.js": "1", "package.json": "{}"})
    [f] = findings(d("""\
        FROM node AS deps
        WORKDIR /app
        COPY package.json ./
        RUN npm install
        FROM node
        WORKDIR /app
        COPY . .
        CMD ["node", "index.js"]
        """), P, context=ctx)
    assert f.fix.safety is Safety.UNSAFE
    # a stage built FROM the one that installs is fine
    [f] = findings("FROM node AS deps\nRUN npm install -g x && npm install\nFROM deps\nCOPY . .\n", P, context=ctx)
    assert f.fix.safety is Safety.SAFE


def test_a_context_shared_with_other_dockerfiles_gets_a_dockerfile_own_ignore_file(tmp_path):
    files = {"a.log": "x", "app.js": "1", ".dockerignore": "# mine\ntmp\n",
             "docker/web.Dockerfile": "FROM x\n", "docker/worker.Dockerfile": "FROM x\nCOPY a.log /\n"}
    ctx = make_context(tmp_path / "ctx", files)
    res = fix("FROM x\nCOPY . /app\n", P, context=ctx, dockerfile=ctx / "docker" / "web.Dockerfile")
    own = ctx / "docker" / "web.Dockerfile.dockerignore"
    # beside the Dockerfile, the shared file's entries first; the shared file is left as it is
    assert list(res.files) == [str(own)]
    assert own.read_text() == "# mine\ntmp\n" + HEADER + "**/*.log\n"
    assert (ctx / ".dockerignore").read_text() == "# mine\ntmp\n"
    [f] = findings("FROM x\nCOPY . /app\n", P, context=make_context(tmp_path / "ctx2", files),
                   dockerfile=tmp_path / "ctx2" / "docker" / "web.Dockerfile")
    assert "docker/worker.Dockerfile may build with the same context" in f.message
    assert f.fix is not None and f.fix.title == "Exclude **/*.log in web.Dockerfile.dockerignore"


def test_a_context_no_other_dockerfile_uses_keeps_its_dockerignore(tmp_path):
    # a backup of an ignore file and notes named like a Dockerfile are no Dockerfiles
    ctx = make_context(tmp_path / "ctx", {"a.log": "x", "Dockerfile": "x", "Dockerfile.dockerignore.bak": "FROM x\n",
                                          "Dockerfile.md": "notes"})
    res = fix("FROM x\nCOPY . /app\n", P, context=ctx, dockerfile=ctx / "Dockerfile")
    assert list(res.files) == [str(ctx / ".dockerignore")]

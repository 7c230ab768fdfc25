"""DO209 bind-context-in-build-stage: a build stage's copy of the context becomes a bind mount of
the RUN that uses it, where nothing else reads the copy."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_pass_do2_common import findings, fix, fix_of, make_context

from dockopt import parse
from dockopt.config import Settings
from dockopt.facts import FileFacts
from dockopt.findings import Safety
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.bind_context import BindContext

P = [BindContext]
# `cp` and `cat` are modelled: the RUN's effects are known, the fix is safe
BUILD = "FROM debian:bookworm-slim AS build\nWORKDIR /src\n"
RUNTIME = 'FROM debian:bookworm-slim\nCOPY --from=build /out/app /usr/local/bin/app\nCMD ["app"]\n'


def steps_after_edit(text: str, path: str = "main.c") -> int:
    return FileFacts(parse(text)).rebuild.steps(path)


def test_the_copy_for_one_run_becomes_a_bind_mount_and_a_source_edit_reruns_one_step_fewer() -> None:
    text = BUILD + "COPY . .\nRUN mkdir -p /out && cp main.c /out/app\n\n" + RUNTIME
    out = fix(text, P).text
    assert out == BUILD + ("RUN --mount=type=bind,source=.,target=/src,rw mkdir -p /out && cp main.c /out/app\n\n"
                           + RUNTIME)
    assert steps_after_edit(out) == steps_after_edit(text) - 1 == 2
    [f] = findings(text, P)
    assert f.line == 3 and fix_of(f).safety is Safety.SAFE and "line 4" in f.message


def test_a_directory_copied_elsewhere_is_mounted_there(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "ctx", {"site/index.md": "# hi\n", "other.txt": "x\n"})
    text = ("FROM debian:bookworm-slim AS build\nCOPY site/ /build\nRUN mkdir -p /out && cp -r /build/. /out/\n\n"
            "FROM nginx:stable\nCOPY --from=build /out/ /usr/share/nginx/html/\n")
    out = fix(text, P, context=ctx).text
    assert "RUN --mount=type=bind,source=site,target=/build,rw mkdir -p /out" in out and "COPY site/" not in out


def test_a_manifest_copied_to_the_same_place_above_is_no_obstacle() -> None:
    text = BUILD + ("COPY go.mod go.sum ./\nRUN cat go.mod > /deps\nCOPY . .\nRUN mkdir -p /out && cp main.c /out/app\n"
                    + RUNTIME)
    out = fix(text, P).text
    assert "COPY go.mod go.sum ./" in out and "COPY . .\n" not in out
    assert "RUN --mount=type=bind,source=.,target=/src,rw mkdir -p /out" in out


@pytest.mark.parametrize("why,text", [
    ("the final stage ships its files",
     "FROM debian:bookworm-slim\nWORKDIR /src\nCOPY . .\nRUN mkdir -p /out && cp main.c /out/app\n"),
    ("a later RUN reads the copy",
     BUILD + "COPY . .\nRUN mkdir -p /out && cp main.c /out/app\nRUN cat /src/VERSION > /out/version\n" + RUNTIME),
    ("another stage copies from the copy",
     BUILD + "COPY . .\nRUN mkdir -p /out && cp main.c /out/app\n"
     "FROM debian:bookworm-slim\nCOPY --from=build /src/static /static\nCOPY --from=build /out/app /app\n"),
    ("a stage is built FROM it",
     BUILD + "COPY . .\nRUN mkdir -p /out && cp main.c /out/app\nFROM build AS test\nRUN cat /src/main.c\n"
     + RUNTIME),
    ("an earlier RUN wrote under the destination",
     BUILD + "RUN mkdir -p /src/gen && echo x > /src/gen/version.h\nCOPY . .\nRUN mkdir -p /out && cp main.c /out/app\n"
     + RUNTIME),
    ("the RUN deletes a directory above the mount",
     "FROM debian:bookworm-slim AS build\nWORKDIR /go/src/app\nCOPY . .\n"
     "RUN mkdir -p /out && cp main.c /out/app && rm -rf /go\n" + RUNTIME),
    ("a base image's directory",
     "FROM debian:bookworm-slim AS build\nCOPY . /etc/app\nRUN mkdir -p /out && cp /etc/app/main.c /out/app\n"
     + RUNTIME),
    ("the copy changes the owner",
     BUILD + "COPY --chown=1000 . .\nRUN mkdir -p /out && cp main.c /out/app\n" + RUNTIME),
    ("the next instruction is not the RUN",
     BUILD + "COPY . .\nENV CC=gcc\nRUN mkdir -p /out && cp main.c /out/app\n" + RUNTIME),
    ("a frontend without RUN --mount",
     "# syntax=docker/dockerfile:1.1\n" + BUILD + "COPY . .\nRUN mkdir -p /out && cp main.c /out/app\n" + RUNTIME),
])
def test_no_finding_where_the_mount_would_change_what_a_step_sees(why: str, text: str) -> None:
    assert findings(text, P) == [], why


def test_the_classic_builder_gets_no_finding() -> None:
    text = BUILD + "COPY . .\nRUN mkdir -p /out && cp main.c /out/app\n" + RUNTIME
    assert Linter(P).run(parse(text), settings=Settings(target="classic")) == []
    assert findings(text, P) != []


def test_a_program_dockopt_does_not_model_makes_the_fix_unsafe() -> None:
    text = BUILD + "COPY . .\nRUN make && make install PREFIX=/out\n" + RUNTIME
    [f] = findings(text, P)
    assert fix_of(f).safety is Safety.UNSAFE and "make" in f.message
    assert fix(text, P).text == text
    assert "RUN --mount=type=bind,source=.,target=/src,rw make" in fix(text, P, unsafe=True).text


def test_after_the_go_split_the_build_stage_mounts_the_sources() -> None:
    # the multi-stage split of corpus 22 and this rule together: a source edit re-runs the build
    # and the runtime's copy of the binary, no more steps than the single-stage original
    case = Path(__file__).resolve().parents[1] / "corpus" / "22-go-single-stage"
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    from dockopt.passes import ALL_PASSES
    out = fix_text(text, Linter(ALL_PASSES), unsafe=True, path=case / "Dockerfile", context_dir=case,
                   settings=Settings(force_fix=("DO301",))).text
    assert "--mount=type=bind,source=.,target=/src,rw" in out and "COPY . ." not in out
    assert FileFacts(parse(out), None, case).rebuild.steps("main.go") == \
        FileFacts(parse(text), None, case).rebuild.steps("main.go") == 2


def _source_edit_runs(side: dict) -> int:
    [edit] = [r for r in side["rebuilds"] if r["scenario"] == "source-edit"]
    return int(edit["run_steps"])


@pytest.mark.docker
@pytest.mark.timeout(900)
@pytest.mark.parametrize("build,unsafe", [
    ("FROM debian:bookworm-slim AS build\nWORKDIR /src\nCOPY . .\nRUN mkdir -p /out && cp hello.sh /out/hello\n",
     False),
    ("FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/hello .\n", True),
], ids=["cp-safe", "go-build-unsafe"])
def test_built_for_real_the_image_is_the_same_and_a_source_edit_reruns_one_step_fewer(
        tmp_path: Path, docker_engine, build: str, unsafe: bool) -> None:
    from conftest import run_cli
    ctx = make_context(tmp_path / "ctx", {
        "go.mod": "module example.com/hello\n\ngo 1.19\n",
        "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n',
        "hello.sh": "#!/bin/sh\necho hello\n",
    })
    (ctx / "hello.sh").chmod(0o755)
    runtime = ("FROM debian:bookworm-slim\nCOPY --from=build /out/hello /usr/local/bin/hello\n"
               'CMD ["hello"]\n')
    (ctx / "Dockerfile").write_text(build + "\n" + runtime)
    source = "main.go" if unsafe else "hello.sh"
    args = ["--verify", "--format", "json", "--select", "DO209", "--source-file", source, "--smoke", "hello"]
    r = run_cli(*args, *(["--unsafe-fixes"] if unsafe else []), str(ctx / "Dockerfile"))
    assert r.returncode in (0, 1), r.stdout.decode() + r.stderr.decode()
    v = json.loads(r.stdout)["files"][0]["verify"]
    assert v["verdict"] == "equivalent", v["summary"]
    smoke = v["equivalence"]["smoke"]
    assert smoke["original"]["output"] == smoke["rewritten"]["output"] == "hello\n"
    assert _source_edit_runs(v["rewritten"]) == _source_edit_runs(v["original"]) - 1

"""DO303 copy-from-whole-filesystem, DO304 build-tools-in-final-stage, DO305 unused-stage."""
from __future__ import annotations

import json
import textwrap

import pytest

from dockopt import parse
from dockopt.findings import Safety
from dockopt.fixer import apply_fixes, fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES
from dockopt.passes.stage_hygiene import (
    BuildToolsInFinalStage,
    CopyWholeFilesystem,
    UnusedStage,
)


def d(text: str) -> str:
    return textwrap.dedent(text)


def lint(cls, text: str, context=None):
    return [f for f in Linter([cls]).run(parse(d(text)), context_dir=context) if f.code == cls.code]


def test_rules_are_registered_with_their_own_docs():
    for cls in (CopyWholeFilesystem, BuildToolsInFinalStage, UnusedStage):
        assert cls in ALL_PASSES
        assert cls.docs().startswith(cls.__doc__.strip().splitlines()[0])
        assert "## Fix safety" in cls.docs()


# --------------------------------------------------------------------------- DO303

@pytest.mark.parametrize("copy", ["COPY --from=build / /", "COPY --from=build / /rootfs/", "COPY --from=0 /. /",
                                  'COPY --from=build ["/", "/"]'])
def test_whole_filesystem_copy(copy):
    [f] = lint(CopyWholeFilesystem, f"FROM golang:1.19 AS build\nRUN go build -o /app .\nFROM debian\n{copy}\n")
    assert f.line == 4 and f.fix is None and "whole filesystem" in f.message


@pytest.mark.parametrize("text", [
    "FROM golang:1.19 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n",
    # a prepared root file system in a scratch stage is meant to be copied whole
    "FROM debian AS prep\nRUN mkdir /r\nFROM scratch AS root\nCOPY --from=prep /r /\n"
    "FROM scratch\nCOPY --from=root / /\n",
    "FROM debian\nCOPY / /x\n",
])
def test_no_whole_filesystem_copy(text):
    assert lint(CopyWholeFilesystem, text) == []


# --------------------------------------------------------------------------- DO304

MULTI = "FROM golang:1.19 AS build\nRUN go build -o /app .\n"


def test_compilers_installed_in_the_final_stage():
    [f] = lint(BuildToolsInFinalStage, MULTI + "FROM debian:bookworm-slim\n"
               "RUN apt-get update && apt-get install -y gcc libpq-dev curl && rm -rf /var/lib/apt/lists/*\n")
    assert f.line == 4 and "gcc, libpq-dev" in f.message and f.fix is None


def test_final_stage_on_a_toolchain_image():
    [f] = lint(BuildToolsInFinalStage, MULTI + "FROM golang:1.19\nCOPY --from=build /app /app\n")
    assert "golang:1.19, a go toolchain image" in f.message


def test_final_stage_built_from_a_toolchain_stage():
    [f] = lint(BuildToolsInFinalStage, "FROM rust:1.63 AS base\nFROM base AS build\nRUN cargo build\nFROM base\n")
    assert "rust:1.63" in f.message


@pytest.mark.parametrize("text", [
    MULTI + "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n",
    MULTI + "FROM alpine\nRUN apk add --virtual .b gcc musl-dev && make && apk del .b\n",
    MULTI + "FROM debian\nRUN apt-get install -y gcc && make && apt-get purge -y gcc\n",
    MULTI + "FROM eclipse-temurin:17-jre\n",
    # single-stage files are DO301's
    "FROM debian\nRUN apt-get install -y gcc\n",
])
def test_no_build_tools(text):
    assert lint(BuildToolsInFinalStage, text) == []


def test_npm_dev_dependencies_in_the_final_stage(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"jest": "29"}}))
    text = "FROM node:18 AS build\nRUN npm ci && npm run build\nFROM node:18-slim\nCOPY . .\nRUN npm ci\n"
    [f] = lint(BuildToolsInFinalStage, text, tmp_path)
    assert "devDependencies" in f.message and f.fix.safety is Safety.DISPLAY
    out, _ = apply_fixes(text, [f.fix])
    assert out.endswith("RUN npm ci --omit=dev\n")
    # display only: never applied
    assert fix_text(text, Linter([BuildToolsInFinalStage]), unsafe=True, context_dir=tmp_path).text == text


@pytest.mark.parametrize("tail", ["ENV NODE_ENV=production\nRUN npm ci\n", "RUN npm ci --omit=dev\n",
                                  "RUN npm install --production\n", "RUN yarn install --production\n"])
def test_npm_production_installs_are_fine(tmp_path, tail):
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"jest": "29"}}))
    assert lint(BuildToolsInFinalStage, "FROM node:18 AS build\nFROM node:18-slim\n" + tail, tmp_path) == []


def test_npm_without_dev_dependencies_is_fine(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"ms": "2"}}))
    assert lint(BuildToolsInFinalStage, "FROM node:18 AS build\nFROM node:18-slim\nRUN npm ci\n", tmp_path) == []


# --------------------------------------------------------------------------- DO305

def test_unused_stage_with_a_display_fix():
    text = d("""\
        FROM node:18 AS assets
        RUN npm ci && npm run build

        FROM golang:1.19 AS build
        RUN go build -o /out/app .
        FROM gcr.io/distroless/static-debian12
        COPY --from=build /out/app /app
        """)
    [f] = lint(UnusedStage, text)
    assert f.line == 1 and "'assets'" in f.message and f.fix.safety is Safety.DISPLAY
    out, _ = apply_fixes(text, [f.fix])
    assert out.startswith("FROM golang:1.19 AS build\n")
    assert fix_text(text, Linter([UnusedStage]), unsafe=True).text == text


@pytest.mark.parametrize("text", [
    "FROM a AS base\nFROM base AS build\nRUN x\nFROM scratch\nCOPY --from=build /x /x\n",
    "FROM a\nRUN x\nFROM scratch\nCOPY --from=0 /x /x\n",
    "FROM a AS deps\nFROM b\nRUN --mount=type=cache,from=deps,target=/d make\n",
    "FROM a AS one\nFROM b\nARG S=one\nCOPY --from=$S /x /x\n",
    "FROM a\n",
])
def test_used_stages(text):
    assert lint(UnusedStage, text) == []


def test_unused_chain_reports_every_stage():
    got = lint(UnusedStage, "FROM a AS base\nFROM base AS test\nRUN t\nFROM c\nRUN x\n")
    assert [f.line for f in got] == [1, 2]

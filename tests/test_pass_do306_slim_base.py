"""DO306 slim-base: before/after/no-op."""
from __future__ import annotations

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.slim_base import SlimBase


def fix(text: str, unsafe: bool = True) -> str:
    out = fix_text(text, Linter([SlimBase]), unsafe=unsafe).text
    parse(out)
    oracle_view(out)
    assert fix_text(out, Linter([SlimBase]), unsafe=unsafe).text == out
    return out


@pytest.mark.parametrize("base,slim", [
    ("python:3.11", "python:3.11-slim"),
    ("python:3.11-bookworm", "python:3.11-slim-bookworm"),
    ("node:18", "node:18-slim"),
    ("node:18-bookworm", "node:18-bookworm-slim"),
    ("ruby:3.3", "ruby:3.3-slim"),
])
def test_full_image_becomes_slim(base, slim):
    before = (f"FROM {base} AS app\nCOPY requirements.txt .\n"
              "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\"]\n")
    assert fix(before) == before.replace(base, slim, 1)


def test_only_with_unsafe_fixes():
    text = "FROM python:3.11\nCMD [\"python\"]\n"
    assert fix(text, unsafe=False) == text
    [finding] = Linter([SlimBase]).run(parse(text))
    assert finding.code == "DO306" and finding.fix.safety.value == "unsafe"


@pytest.mark.parametrize("text", [
    "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc\n",        # a compiler
    "FROM python:3.11\nRUN pip install -r r.txt && git clone x\n",             # git
    "FROM node:18\nRUN npm ci && npm run build\n",                             # a build step (DO301's)
    "FROM node:18-slim\nCMD [\"node\"]\n",                                     # already slim
    "FROM python:3.11-alpine\nCMD [\"python\"]\n",                             # not Debian
    "FROM golang:1.19\nCMD [\"go\"]\n",                                        # no slim variant
    "FROM python:3.11 AS build\nRUN true\nFROM build\nCMD [\"x\"]\n",           # final stage is a stage
    "FROM --platform=linux/amd64 python:3.11\nCMD [\"python\"]\n",              # flags: leave it
    "FROM python\nCMD [\"python\"]\n",                                         # no version tag
])
def test_no_op(text):
    assert fix(text) == text


@pytest.mark.parametrize("base,slim", [
    ("debian:bookworm", "debian:bookworm-slim"),
    ("debian:12", "debian:12-slim"),
    ("debian:12.5", "debian:12.5-slim"),
    ("docker.io/library/debian:stable", "docker.io/library/debian:stable-slim"),
])
def test_debian_becomes_slim(base, slim):
    # compilers do not matter here: debian and debian-slim carry the same packages
    before = (f"FROM {base}\nRUN apt-get update && apt-get install -y --no-install-recommends gcc jq "
              "&& rm -rf /var/lib/apt/lists/*\nCMD [\"jq\", \"--version\"]\n")
    assert fix(before) == before.replace(base, slim, 1)
    [finding] = Linter([SlimBase]).run(parse(before))
    assert "documentation" in finding.message and finding.fix.safety.value == "unsafe"


@pytest.mark.parametrize("text", [
    "FROM debian:bookworm-slim\nCMD [\"true\"]\n",                                  # already slim
    "FROM debian:latest\nCMD [\"true\"]\n",                                         # no -slim of latest
    "FROM debian:bookworm-backports\nCMD [\"true\"]\n",                             # no slim variant
    "FROM debian:bookworm\nRUN apt-get update && apt-get install -y man-db\n",      # man pages wanted
    "FROM debian:bookworm\nRUN ls /usr/share/doc/jq\n",                              # reads the docs
    "FROM debian:bookworm\nRUN locale-gen de_DE.UTF-8\n",                           # locales
    "FROM debian:bookworm\nCMD [\"man\", \"jq\"]\n",                                # runs man
    "FROM debian:bookworm AS base\nRUN true\nFROM alpine:3.19\nCMD [\"true\"]\n",     # not the final stage
])
def test_debian_no_op(text):
    assert fix(text) == text

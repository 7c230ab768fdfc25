"""DO302 nonroot-user: the final image gets a non-root USER when dockopt knows how to make one."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.findings import Safety
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES
from dockopt.passes.multistage import Multistage
from dockopt.passes.nonroot_user import NonrootUser

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def d(text: str) -> str:
    return textwrap.dedent(text)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """A build context whose programs are executables, not scripts: nothing in them to read."""
    root = tmp_path_factory.mktemp("ctx")
    for name in ("app", "site/run"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"\x7fELF\x02\x01\x01")
    return root


CONTEXT: list[Path] = []


@pytest.fixture(autouse=True)
def _context(programs):
    CONTEXT[:] = [programs]


def fix(text: str, context: Path | None = None) -> str:
    text = d(text)
    context = context or CONTEXT[0]
    linter = Linter([NonrootUser])
    out = fix_text(text, linter, unsafe=True, context_dir=context).text
    parse(out)
    oracle_view(out)
    assert fix_text(out, linter, unsafe=True, context_dir=context).text == out
    assert fix_text(text, linter, context_dir=context).text == text          # unsafe: not applied by default
    return out


def findings(text: str, context: Path | None = None):
    return Linter([NonrootUser]).run(parse(d(text)), context_dir=context or CONTEXT[0])


def test_the_user_goes_above_a_source_copy_that_is_also_the_last_copy():
    # The last instruction that copies files is the only COPY from the context: the useradd still
    # goes above it, so a source edit re-runs no more steps than before (it used to follow it).
    from dockopt.facts import FileFacts

    text = d("""\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends bc && rm -rf /var/lib/apt/lists/*
        COPY power.sh /usr/local/bin/power
        CMD ["power", "2", "10"]
        """)
    out = fix(text)
    assert out == d("""\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends bc && rm -rf /var/lib/apt/lists/*
        RUN useradd --system --uid 10001 app
        COPY power.sh /usr/local/bin/power
        USER 10001
        CMD ["power", "2", "10"]
        """)
    before = FileFacts(parse(text)).rebuild.steps("power.sh")
    assert FileFacts(parse(out)).rebuild.steps("power.sh") == before == 1


def test_debian_based_image_creates_the_user_before_the_sources_and_switches_after_the_last_install():
    # The useradd RUN goes above the first COPY from the context so a source edit keeps it cached.
    assert fix("""\
        FROM python:3.11-slim
        WORKDIR /app
        # manifests first
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        COPY app.py .
        EXPOSE 8000
        CMD ["python", "app.py"]
        """) == d("""\
        FROM python:3.11-slim
        WORKDIR /app
        RUN useradd --system --uid 10001 app
        # manifests first
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        COPY app.py .
        USER 10001
        EXPOSE 8000
        CMD ["python", "app.py"]
        """)


@pytest.mark.parametrize("base,lines", [
    ("gcr.io/distroless/static-debian12", "USER 65532:65532"),
    ("gcr.io/distroless/base-debian12:latest", "USER 65532:65532"),
    ("scratch", "USER 65532:65532"),
    ("busybox:latest", "USER 65534:65534"),
    ("node:18-slim", "USER 1000"),
    ("node:20-alpine", "USER 1000"),
    ("alpine:3.19", "RUN adduser -S -D -H -u 10001 app\nUSER 10001"),
    ("debian:bookworm-slim", "RUN useradd --system --uid 10001 app\nUSER 10001"),
    ("ubuntu:22.04", "RUN useradd --system --uid 10001 app\nUSER 10001"),
    ("eclipse-temurin:17-jre", "RUN useradd --system --uid 10001 app\nUSER 10001"),
    ("fedora:40", "RUN useradd --system --uid 10001 app\nUSER 10001"),
])
def test_user_per_base_image(base, lines):
    # a RUN creating the user goes above the COPY from the context (a source edit keeps it cached)
    *create, user = lines.split("\n")
    after = "".join(f"{x}\n" for x in (f"FROM {base}", *create, "COPY app /app", user, 'CMD ["/app"]'))
    assert fix(f"FROM {base}\nCOPY app /app\nCMD [\"/app\"]\n") == after


def test_explicit_user_root_is_reported_without_a_fix():
    # the file asks for root: switching away from it is not a guess dockopt makes
    [f] = findings("FROM debian:bookworm\nUSER root\nRUN apt-get update\nCMD [\"bash\"]\n")
    assert f.fix is None and "line 2 asks for root explicitly" in f.message


def test_a_user_the_dockerfile_creates_is_used():
    assert fix("""\
        FROM debian:bookworm-slim
        RUN groupadd -r web && useradd -r -g web -d /srv web
        COPY site /srv
        CMD ["/srv/run"]
        """).endswith("COPY site /srv\nUSER web\nCMD [\"/srv/run\"]\n")


def test_only_the_final_stage_counts():
    out = fix("""\
        FROM golang:1.19 AS build
        RUN go build -o /app .
        FROM gcr.io/distroless/static-debian12
        COPY --from=build /app /app
        ENTRYPOINT ["/app"]
        """)
    assert out.endswith("COPY --from=build /app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n")


def test_user_inherited_from_a_parent_stage():
    assert findings("FROM node:18 AS base\nUSER node\nFROM base\nCMD [\"node\", \"x.js\"]\n") == []


def test_file_ending_in_a_continuation_gets_no_fix():
    [f] = findings("FROM debian:bookworm\nCMD [\"bash\"]\nENV A=1 \\\n    B=2 \\\n")
    assert f.fix is None


@pytest.mark.parametrize("text", [
    "FROM python:3.11-slim\nUSER nobody\nCMD [\"python\"]\n",
    "FROM node:18\nUSER node\n",
    "FROM debian:bookworm\nUSER 1000:1000\n",
    "FROM debian:bookworm\nARG U\nUSER $U\n",
    # images that drop privileges themselves
    "FROM nginx:stable\nCOPY site /usr/share/nginx/html\n",
    "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n",
    "FROM debian:bookworm\nCMD [\"gosu\", \"app\", \"server\"]\n",
    # a base dockopt does not know may already run as someone else
    "FROM myorg/base:1\nCOPY app /app\n",
    "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n",
    "FROM bitnami/redis:7\n",
])
def test_no_finding(text):
    assert findings(text) == []


@pytest.mark.parametrize("name,fires", [
    ("12-python-pip-cache-root", True),
    ("05-apt-single-run-clean", False), ("14-python-clean", False), ("20-node-copy-chown", False),
    ("21-node-clean", False), ("23-go-multistage-distroless", False), ("31-generic-exec-form-clean", False),
])
def test_corpus_expectations(name, fires):
    text = (CORPUS / name / "Dockerfile").read_text(encoding="utf-8")
    got = [f for f in Linter([NonrootUser]).run(parse(text)) if f.code == "DO302"]
    assert bool(got) == fires


def test_after_the_multistage_split_the_runtime_stage_gets_the_user():
    case = CORPUS / "22-go-single-stage"
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    out = fix_text(text, Linter([Multistage, NonrootUser]), unsafe=True, path=case / "Dockerfile",
                   context_dir=case).text
    assert out.endswith("COPY --from=build /usr/local/bin/healthsrv /usr/local/bin/healthsrv\n"
                        "USER 65532:65532\nEXPOSE 8080\nCMD [\"healthsrv\"]\n")


def test_fix_is_unsafe_and_registered():
    assert NonrootUser in ALL_PASSES
    [f] = findings("FROM debian:bookworm\nCMD [\"bash\"]\n")
    assert f.code == "DO302" and f.fix.safety is Safety.UNSAFE


def test_user_is_created_at_the_end_when_no_context_copy_comes_first():
    # COPY --from is not a source copy: nothing to keep cached above it.
    assert fix("""\
        FROM debian:bookworm-slim AS build
        RUN echo hi > /hi
        FROM debian:bookworm-slim
        COPY --from=build /hi /hi
        RUN cat /hi
        CMD ["cat", "/hi"]
        """) == d("""\
        FROM debian:bookworm-slim AS build
        RUN echo hi > /hi
        FROM debian:bookworm-slim
        COPY --from=build /hi /hi
        RUN cat /hi
        RUN useradd --system --uid 10001 app
        USER 10001
        CMD ["cat", "/hi"]
        """)


@pytest.mark.parametrize("take", [
    "COPY --from=build /out /app",
    "RUN --mount=type=bind,from=build,source=/out,target=/mnt/out cp /mnt/out /app",
])
def test_the_user_goes_above_what_takes_the_output_of_a_stage_built_from_the_sources(take):
    # The runtime stage of a split takes the build stage's output: a source edit changes it, so
    # the useradd goes above that step and stays cached (below it, it re-ran after every edit).
    from dockopt.facts import FileFacts

    head = "FROM debian:bookworm-slim AS build\nWORKDIR /src\nCOPY . .\nRUN cat app > /out\nFROM debian:bookworm-slim\n"
    text = f"{head}{take}\nCMD [\"/app\"]\n"
    out = fix(text)
    assert out == f"{head}RUN useradd --system --uid 10001 app\n{take}\nUSER 10001\nCMD [\"/app\"]\n"
    before = FileFacts(parse(text)).rebuild.steps("app")
    assert FileFacts(parse(out)).rebuild.steps("app") == before == 3


@pytest.mark.parametrize("create,user", [
    ("useradd --create-home --uid 1001 web", "USER 1001"),       # the file fixes the uid: numeric
    ("adduser -D -u 2000 web", "USER 2000"),
    ("useradd --uid=1500 web", "USER 1500"),
    ("useradd --create-home web", "USER web"),                  # uid unknown: keep the name
    ("adduser --uid=$APP_UID --disabled-password web", "USER $APP_UID"),   # set by the ENV
    ("useradd -u $OTHER web", "USER web"),                      # nothing sets $OTHER
])
def test_a_user_the_file_creates_is_used_by_uid_when_known(create, user):
    out = fix(f"FROM debian:bookworm-slim\nENV APP_UID=1654\nRUN {create}\nCOPY app /app\nCMD [\"/app\"]\n")
    assert out == f"FROM debian:bookworm-slim\nENV APP_UID=1654\nRUN {create}\nCOPY app /app\n{user}\nCMD [\"/app\"]\n"


def test_a_blank_line_follows_a_heredoc():
    # BuildKit reads an instruction right after a heredoc terminator; hadolint's parser needs a
    # blank line there, and it costs nothing.
    out = fix(d("""\
        # syntax=docker/dockerfile:1
        FROM debian:bookworm-slim
        RUN <<EOT
        echo one > /one
        EOT
        COPY app /app
        RUN <<EOT
        chmod +x /app
        EOT
        CMD ["/app"]
        """))
    assert out == d("""\
        # syntax=docker/dockerfile:1
        FROM debian:bookworm-slim
        RUN <<EOT
        echo one > /one
        EOT

        RUN useradd --system --uid 10001 app
        COPY app /app
        RUN <<EOT
        chmod +x /app
        EOT

        USER 10001
        CMD ["/app"]
        """)

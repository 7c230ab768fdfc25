"""Instructions BuildKit refuses for their arguments are errors (path:line:column, exit 2), worded
as BuildKit words them; the docker test checks that BuildKit refuses each file the same way."""
from __future__ import annotations

import subprocess

import pytest
from conftest import run_cli

# (the file, the line BuildKit names, its message: Docker 26.1 / buildx 0.13 as measured)
REFUSED = [
    ("FROM\n", 1, "FROM requires either one or three arguments"),
    ("FROM debian AS\n", 1, "FROM requires either one or three arguments"),
    ("FROM debian slim\n", 1, "FROM requires either one or three arguments"),
    # a comment after an instruction is words of it, not a comment
    ("FROM node:20 AS build # 20-alpine\nRUN a\nRUN b\n", 1, "FROM requires either one or three arguments"),
    ("FROM debian AS 1st\n", 1,
     'invalid name for build stage: "1st", name can\'t start with a number or contain symbols'),
    ("ARG S=a\nFROM debian AS ${S}\n", 2,
     'invalid name for build stage: "${S}", name can\'t start with a number or contain symbols'),
    ("FROM debian\nCOPY app\n", 2,
     "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("FROM debian\nADD --chown=1 app\n", 2,
     "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("FROM debian\nCOPY <<EOF\nhi\nEOF\n", 2,
     "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("FROM debian\nONBUILD\n", 2, "ONBUILD requires at least one argument"),
    ("FROM debian\nONBUILD ONBUILD RUN x\n", 2, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("FROM debian\nONBUILD from x\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
    ("FROM debian\nUSER\n", 2, "USER requires exactly one argument"),
    ("FROM debian\nWORKDIR\n", 2, "WORKDIR requires exactly one argument"),
    ("FROM debian\nSTOPSIGNAL\n", 2, "STOPSIGNAL requires exactly one argument"),
    ("FROM debian\nMAINTAINER\n", 2, "MAINTAINER requires exactly one argument"),
    ("FROM debian\nENV\n", 2, "ENV requires at least one argument"),
    ("FROM debian\nLABEL\n", 2, "LABEL requires at least one argument"),
    ("FROM debian\nARG\n", 2, "ARG requires at least one argument"),
    ("FROM debian\nARG =x\n", 2, "ARG names can not be blank"),
    ("FROM debian\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
    ("FROM debian\nVOLUME []\n", 2, "VOLUME requires at least one argument"),
    ('FROM debian\nVOLUME ["/a", ""]\n', 2, "VOLUME specified can not be an empty string"),
    ("FROM debian\nSHELL\n", 2, "SHELL requires at least one argument"),
    ("FROM debian\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form"),
    ("FROM debian\nHEALTHCHECK --interval=5s\n", 2, "HEALTHCHECK requires at least one argument"),
    ("FROM debian\nHEALTHCHECK cmd\n", 2, "Missing command after HEALTHCHECK CMD"),
    ("FROM debian\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
    # the type is the first word, as BuildKit splits it
    ('FROM debian\nHEALTHCHECK ["curl", "x"]\n', 2, 'Unknown type "[\\"CURL\\"," in HEALTHCHECK (try CMD)'),
    # flags no BuildKit takes there (dockopt then names the nearest one), or given twice
    ("FROM debian\nCOPY --chwon=1 a /a\n", 2, "unknown flag: chwon"),
    ("FROM debian\nRUN --mout=type=cache,target=/a true\n", 2, "unknown flag: mout"),
    ("FROM --platfrom=linux/amd64 debian\n", 1, "unknown flag: platfrom"),
    ("FROM debian\nWORKDIR --x /a\n", 2, "unknown flag: x"),
    ("FROM debian\nHEALTHCHECK --intervl=5s CMD true\n", 2, "unknown flag: intervl"),
    ("FROM debian\nCOPY --chown=1 --chown=2 a /a\n", 2, "duplicate flag specified: chown"),
]
IDS = [text.splitlines()[line - 1][:30] for text, line, _ in REFUSED]

# what BuildKit accepts at these places (it fails later, resolving the image, or not at all)
ACCEPTED = ("FROM --platform=linux/amd64 scratch AS a.b-c_D\nRUN\nCMD\nENTRYPOINT\nUSER a b\nWORKDIR a b\n"
            "ARG a b=1\nHEALTHCHECK none\nONBUILD RUN x\nVOLUME /a /b\nCOPY --from=busybox a b\n"
            "COPY --link --chmod=644 --chown=1 a b\nADD --keep-git-dir=true --link a b\n"
            "RUN --network=none --mount=type=tmpfs,target=/t --mount=type=cache,target=/c true\n"
            "HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --start-interval=1s --retries=2 CMD true\n"
            "ARG --x A\nSTOPSIGNAL --x 9\nONBUILD COPY --chwon=1 a b\n")   # a trigger's flags: read in a child


@pytest.mark.parametrize(("text", "line", "message"), REFUSED, ids=IDS)
def test_refused_arguments_are_errors_located_in_the_file(tmp_path, text, line, message):
    p = tmp_path / "Dockerfile"
    p.write_text(text)
    for mode in ([], ["--check"], ["--write"]):
        r = run_cli(*mode, str(p))
        assert r.returncode == 2, (mode, r.stdout, r.stderr)
        # BuildKit's words, then perhaps dockopt's hint: "unknown flag: chwon (did you mean --chown?)"
        assert r.stderr.decode().splitlines()[0].startswith(f"{p}:{line}:1: {message}")
        assert b"Traceback" not in r.stderr
    assert p.read_text() == text  # --write wrote nothing


def test_what_buildkit_accepts_is_not_refused(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_text(ACCEPTED)
    r = run_cli("--format", "json", str(p))
    assert r.returncode != 2, r.stderr


@pytest.mark.docker
def test_buildkit_refuses_each_file_with_that_message(tmp_path, docker_engine):
    """The messages above are BuildKit's: each file fails to parse at that line (before any image
    is resolved, so nothing is pulled or built), and the accepted file gets past parsing."""
    def build(text: str) -> str:
        (tmp_path / "Dockerfile").write_text(text)
        r = subprocess.run(["docker", "buildx", "build", "--progress=plain", str(tmp_path)],
                           capture_output=True, text=True, timeout=300, check=False)
        assert r.returncode != 0
        return r.stderr

    for text, line, message in REFUSED:
        assert f"dockerfile parse error on line {line}: {message}" in build(text), text
    assert "dockerfile parse error" not in build(ACCEPTED)


def test_flags_of_newer_or_labs_frontends_are_not_refused(tmp_path):
    """Docker 26's own frontend refuses these, but `# syntax=docker/dockerfile:1` (a newer one) or
    the labs channel takes them: the project may build with it."""
    p = tmp_path / "Dockerfile"
    p.write_text("# syntax=docker/dockerfile:1-labs\nFROM debian\nCOPY --parents --exclude=*.md a /a\n"
                 "ADD --checksum=sha256:0 --unpack=true --exclude=x a /a\nRUN --security=insecure --device=d true\n")
    r = run_cli("--format", "json", str(p))
    assert r.returncode != 2, r.stderr


def test_the_fixer_works_on_a_file_buildkit_refuses_without_blaming_its_fixes():
    """A library caller (the benches) may fix a file BuildKit refuses: the input's own refusal
    is not a fix's doing, so the fixes still apply (the CLI refuses such a file up front)."""
    from dockopt.fixer import fix_text
    from dockopt.lint import Linter

    text = "ARG S=a\nFROM debian AS ${S}\nRUN echo a > /a\nRUN echo b > /b\n"
    res = fix_text(text, Linter())
    assert "RUN echo a > /a && \\\n    echo b > /b\n" in res.text

"""DO207 copy-link: `COPY --from` gets `--link` where the layer it writes is the same either way."""
from __future__ import annotations

import pytest
from test_pass_do2_common import d, findings, fix, fix_of

from dockopt import parse
from dockopt.config import Settings
from dockopt.findings import Safety
from dockopt.lint import Linter
from dockopt.passes.copy_link import CopyLink

P = [CopyLink]
BUILD = "FROM golang:1.22 AS build\nRUN go build -o /out/server .\n"


def test_copy_into_a_system_directory_gets_link() -> None:
    out = fix(BUILD + "FROM debian:bookworm-slim\nCOPY --from=build /out/server /usr/local/bin/server\n"
              'CMD ["server"]\n', P).text
    assert out == BUILD + ("FROM debian:bookworm-slim\nCOPY --link --from=build /out/server /usr/local/bin/server\n"
                           'CMD ["server"]\n')


def test_package_installs_before_do_not_make_it_unsafe() -> None:
    text = BUILD + ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y ca-certificates\n"
                    "COPY --from=build /out/server /usr/local/bin/\n")
    [f] = findings(text, P)
    assert fix_of(f).safety is Safety.SAFE


def test_scratch_stage_with_only_copies_is_safe() -> None:
    text = BUILD + ("FROM scratch\nCOPY --from=build /etc/ssl/certs /etc/ssl/certs\n"
                    "COPY --from=build /out/server /app/server\n")
    out = fix(text, P).text
    assert out.count("COPY --link --from=build") == 2


@pytest.mark.parametrize(("dest", "why"), [
    ("/app/server", "--link writes /app as a root-owned 0755 directory"),
    ("/home/app/bin/server", "/home"),
    ("/bin/server", "/bin"),            # a symlink into /usr on merged-/usr systems
    ("/tmp/server", "/tmp"),            # 1777
])
def test_directories_dockopt_cannot_vouch_for_make_it_unsafe(dest: str, why: str) -> None:
    text = BUILD + f"FROM debian:bookworm-slim\nCOPY --from=build /out/server {dest}\n"
    [f] = findings(text, P)
    assert fix_of(f).safety is Safety.UNSAFE and why in f.message
    assert fix(text, P).text == text
    assert "COPY --link --from=build" in fix(text, P, unsafe=True).text


def test_relative_destination_resolves_against_the_workdir() -> None:
    [f] = findings(BUILD + "FROM debian\nWORKDIR /opt\nCOPY --from=build /out/server server\n", P)
    assert fix_of(f).safety is Safety.SAFE
    [f] = findings(BUILD + "FROM node:20\nWORKDIR /srv/app\nCOPY --from=build /out/server .\n", P)
    assert fix_of(f).safety is Safety.UNSAFE and "/srv/app" in f.message
    [f] = findings(BUILD + "FROM mycorp/base\nCOPY --from=build /out/server server\n", P)
    assert fix_of(f).safety is Safety.UNSAFE and "working directory" in f.message


def test_an_earlier_step_that_changes_the_directory_makes_it_unsafe() -> None:
    text = BUILD + "FROM debian\nRUN chmod 0775 /opt\nCOPY --from=build /out/server /opt/server\n"
    [f] = findings(text, P)
    assert fix_of(f).safety is Safety.UNSAFE and "line 4 may change /opt" in f.message


def test_chown_is_unsafe() -> None:
    [f] = findings(BUILD + "FROM debian\nCOPY --from=build --chown=1000:1000 /out/server /usr/local/bin/server\n", P)
    assert fix_of(f).safety is Safety.UNSAFE and "--chown" in f.message


@pytest.mark.parametrize("copy", [
    "COPY --link --from=build /out/server /usr/local/bin/server",
    "COPY --link=false --from=build /out/server /usr/local/bin/server",
    "COPY server /usr/local/bin/server",                        # from the context: not this rule
    "COPY --parents --from=build /out/server /usr/local/bin/",  # a flag dockopt does not reason about
])
def test_left_alone(copy: str) -> None:
    assert findings(BUILD + f"FROM debian\n{copy}\n", P) == []


def test_needs_buildkit_and_a_frontend_with_link() -> None:
    text = BUILD + "FROM debian\nCOPY --from=build /out/server /usr/local/bin/server\n"
    assert Linter(P).run(parse(text), settings=Settings(target="classic")) == []
    assert findings("# syntax=docker/dockerfile:1.3\n" + text, P) == []
    assert len(findings("# syntax=docker/dockerfile:1.4\n" + text, P)) == 1
    assert len(findings("# syntax=docker/dockerfile:1\n" + text, P)) == 1
    [f] = Linter(P).run(parse("# syntax=docker/dockerfile:1\n" + text), settings=Settings(target="classic"))
    assert fix_of(f).safety is Safety.SAFE


def test_keeps_the_file_style() -> None:
    text = d("""\
        FROM golang AS build
        RUN go build -o /out/server .
        FROM debian
        copy   --from=build \\
            /out/server /usr/local/bin/server
        """)
    assert fix(text, P).text == text.replace("copy   --from", "copy --link   --from")


def test_scratch_stage_where_an_earlier_copy_made_the_directory_is_unsafe() -> None:
    """`COPY --from=build /out/app /app` copies a directory with its owner and mode: --link on a
    later copy into /app would write /app afresh."""
    text = BUILD + "FROM scratch\nCOPY --from=build /out/app /app\nCOPY --from=build /out/server /app/server\n"
    first, second = findings(text, P)
    assert fix_of(first).safety is Safety.SAFE
    assert fix_of(second).safety is Safety.UNSAFE and "line 4 may change /app" in second.message

"""DO205 wasted-space: files one layer adds and a later layer deletes (report, with sizes from the
build context; suggestions only, never applied)."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_pass_do2_common import FIXTURES, d, findings, fix, fix_of, make_context

from dockopt.findings import Finding, Safety
from dockopt.passes.wasted_space import WastedSpace

P = [WastedSpace]


def only(text: str, context: Path | None = None) -> Finding:
    out = findings(text, P, context=context)
    assert len(out) == 1, out
    return out[0]


def test_copied_tarball_extracted_then_deleted(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"words.tar.gz": b"\x1f\x8b" + b"x" * 2046})
    text = d("""\
        FROM debian:bookworm-slim
        COPY words.tar.gz /tmp/words.tar.gz
        RUN mkdir -p /opt/words && tar -xzf /tmp/words.tar.gz -C /opt/words
        RUN rm /tmp/words.tar.gz
        """)
    f = only(text, ctx)
    assert f.line == 4 and fix_of(f).safety is Safety.DISPLAY and f.extra["bytes"] == 2048
    assert "/tmp/words.tar.gz (2.0 KiB, added by COPY words.tar.gz at line 2)" in f.message
    assert "build stage" in fix_of(f).title and "# syntax=docker/dockerfile:1" in fix_of(f).title
    assert fix(text, P, context=ctx).text == text  # never applied


def test_with_buildkit_syntax_the_suggestion_is_a_bind_mount(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"x.tgz": "x"})
    f = only("# syntax=docker/dockerfile:1\nFROM x\nCOPY x.tgz /tmp/\nRUN tar -xzf /tmp/x.tgz -C /opt\nENV A=1\n"
             "RUN rm -f /tmp/x.tgz\n", ctx)
    assert "RUN --mount=type=bind,source=x.tgz,target=/tmp/x.tgz" in fix_of(f).title


def test_without_a_context_the_size_is_unknown() -> None:
    f = only("FROM x\nCOPY big.bin /tmp/big.bin\nRUN rm /tmp/big.bin\n")
    assert f.extra["bytes"] is None and "(added by COPY big.bin" in f.message


def test_run_then_run_with_something_between_is_reported() -> None:
    f = only(d("""\
        FROM debian
        RUN curl -fsSLo /tmp/tool.tgz https://example.com/tool.tgz
        COPY conf /etc/tool/
        RUN tar -xzf /tmp/tool.tgz -C /opt && rm /tmp/tool.tgz
        """))
    assert "Create and delete it in the same RUN" in fix_of(f).title and "line 2" in fix_of(f).title


def test_consecutive_runs_are_left_to_do101() -> None:
    assert findings("FROM x\nRUN seq 1 100 > /tmp/n.txt\nRUN awk 1 /tmp/n.txt\nRUN rm -f /tmp/n.txt\n", P) == []


def test_create_and_delete_in_one_run_is_fine() -> None:
    assert findings("FROM x\nRUN wget -O /tmp/a https://e.com/a && sh /tmp/a && rm /tmp/a\nCOPY b /b\n"
                    "RUN rm -rf /var/cache/x\n", P) == []


def test_add_of_a_url_then_rm() -> None:
    f = only("FROM x\nADD https://example.com/get.sh /tmp/\nENV X=1\nRUN sh /tmp/get.sh && rm /tmp/get.sh\n")
    assert "Download it in the RUN that uses it" in fix_of(f).title and "/tmp/get.sh" in f.message


def test_apt_lists_removed_in_a_later_layer() -> None:
    f = only(d("""\
        FROM debian
        RUN apt-get update && apt-get install -y curl
        COPY a /a
        RUN rm -rf /var/lib/apt/lists/*
        """))
    assert "/var/lib/apt/lists" in f.message and "apt-get update" in fix_of(f).title


def test_glob_rm_covers_the_file() -> None:
    f = only("FROM x\nCOPY a.deb /tmp/\nRUN dpkg -i /tmp/a.deb\nENV A=1\nRUN rm -rf /tmp/*\n")
    assert "/tmp/a.deb" in f.message


def test_part_of_a_copied_directory_with_its_size(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"src/app.py": "1\n", "tests/test_a.py": "x" * 1000, "tests/data.bin": "y" * 24})
    f = only("FROM python\nCOPY . /app\nRUN rm -rf /app/tests\n", ctx)
    assert f.extra["bytes"] == 1024 and "/app/tests (1.0 KiB" in f.message


def test_relative_paths_follow_workdir_and_cd() -> None:
    f = only("FROM x\nWORKDIR /build\nRUN git clone https://github.com/a/b.git\nUSER 1\nRUN cd /build && rm -rf b\n")
    assert "/build/b" in f.message and "git clone" in f.message


def test_builder_stage_used_only_by_copy_from_is_not_reported() -> None:
    assert findings(d("""\
        FROM golang AS build
        COPY src.tgz /tmp/
        RUN tar -xzf /tmp/src.tgz -C /src
        ENV A=1
        RUN rm /tmp/src.tgz
        FROM scratch
        COPY --from=build /src/app /app
        """), P) == []


def test_final_stage_built_from_a_stage_reports_the_base_stage_too() -> None:
    out = findings(d("""\
        FROM debian AS base
        COPY big.iso /tmp/
        FROM base
        RUN rm /tmp/big.iso
        """), P)
    # the deletion happens in another stage: the pass follows one stage at a time
    assert out == []
    f = only("FROM debian AS base\nCOPY big.iso /tmp/\nENV A=1\nRUN rm /tmp/big.iso\nFROM base\nRUN true\n")
    assert f.line == 4


def test_redirect_created_file() -> None:
    f = only("FROM x\nRUN env > /tmp/env.txt\nLABEL a=b\nRUN rm /tmp/env.txt\n")
    assert "/tmp/env.txt" in f.message


@pytest.mark.parametrize("run", ["RUN rm -rf /", "RUN rm -rf $DIR", "RUN echo rm /tmp/x"])
def test_no_false_positive(run: str) -> None:
    assert findings(f"FROM x\nCOPY x /tmp/x\nENV A=1\n{run}\n", P) == []


def test_project_corpus_case_29() -> None:
    from pathlib import Path

    case = Path(__file__).resolve().parents[1] / "corpus" / "29-generic-files-deleted-later"
    if not case.is_dir():
        pytest.skip("no corpus/")
    [f] = findings((case / "Dockerfile").read_text(), P, context=case)
    assert "words.tar.gz" in f.message and f.extra["bytes"] == (case / "words.tar.gz").stat().st_size


@pytest.mark.parametrize("case", sorted((FIXTURES / "DO205").iterdir()), ids=lambda p: p.name)
def test_fixture_findings_give_the_size_of_what_is_deleted(case: Path) -> None:
    # the findings and the unchanged file are in the case's snapshot (tests/test_fixtures.py)
    out = findings((case / "Dockerfile").read_text(), P, context=case / "context")
    assert out and all(fix_of(f).safety is Safety.DISPLAY for f in out)
    assert all(f.extra["bytes"] for f in out if f.extra["path"].endswith(".tar.gz"))

"""DO202 copy-chown: RUN chown/chmod right after a COPY becomes COPY --chown/--chmod."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_pass_do2_common import d, findings, fix, fix_of, make_context

from dockopt import parse
from dockopt.config import Settings
from dockopt.findings import Safety
from dockopt.lint import Linter
from dockopt.passes.copy_chown import CopyChown

P = [CopyChown]


def test_chown_of_the_one_copied_file_is_safe(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"app.jar": "x"})
    out = fix("""\
        FROM eclipse-temurin:21
        COPY app.jar /opt/app/app.jar
        RUN chown -R app:app /opt/app/app.jar
        CMD ["java", "-jar", "/opt/app/app.jar"]
        """, P, context=ctx).text
    assert out == d("""\
        FROM eclipse-temurin:21
        COPY --chown=app:app app.jar /opt/app/app.jar
        CMD ["java", "-jar", "/opt/app/app.jar"]
        """)


def test_file_copied_into_a_directory_and_chowned_by_its_path(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"app.jar": "x"})
    out = fix("FROM x\nWORKDIR /opt/app\nCOPY app.jar .\nENV A=1\nRUN chown 1000:1000 app.jar\n", P, context=ctx).text
    assert out == "FROM x\nWORKDIR /opt/app\nCOPY --chown=1000:1000 app.jar .\nENV A=1\n"


def test_directory_copy_is_unsafe(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"src/a.py": "1\n"})
    text = "FROM python\nCOPY src/ /app/\nRUN chown -R app:app /app\n"
    [f] = findings(text, P, context=ctx)
    assert fix_of(f).safety is Safety.UNSAFE and "directory" in f.message
    assert fix(text, P, context=ctx).text == text
    assert fix(text, P, context=ctx, unsafe=True).text == "FROM python\nCOPY --chown=app:app src/ /app/\n"


def test_several_copies_under_the_chowned_directory_are_unsafe_and_all_get_the_flag(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"greet.sh": "echo\n", "messages/en.txt": "hi\n"})
    out = fix("""\
        FROM debian:bookworm-slim
        RUN useradd app
        ADD greet.sh /opt/app/greet.sh
        COPY messages/ /opt/app/messages/
        RUN chown -R app:app /opt/app
        USER app
        """, P, context=ctx, unsafe=True).text
    assert out == d("""\
        FROM debian:bookworm-slim
        RUN useradd app
        ADD --chown=app:app greet.sh /opt/app/greet.sh
        COPY --chown=app:app messages/ /opt/app/messages/
        USER app
        """)


def test_an_existing_chown_flag_is_replaced(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.sh": "x"})
    out = fix("FROM x\nCOPY --chown=root:root --chmod=755 a.sh /a.sh\nRUN chown u:g /a.sh\n", P, context=ctx).text
    assert out == "FROM x\nCOPY --chown=u:g --chmod=755 a.sh /a.sh\n"


def test_comment_attached_to_the_removed_run_goes_with_it(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.sh": "x"})
    out = fix("FROM x\nCOPY a.sh /a.sh\n\n# fix the owner\nRUN chown u:g /a.sh\nCMD a\n", P, context=ctx).text
    assert out == "FROM x\nCOPY --chown=u:g a.sh /a.sh\n\nCMD a\n"


@pytest.mark.parametrize("run", [
    "RUN chown app /a.sh",                      # no group: --chown=app would set the group too
    "RUN chown :app /a.sh",
    "RUN chown app.app /a.sh",                  # old syntax
    "RUN echo start && chown app:app /a.sh",    # something runs before it
    "RUN chown app:app /a.sh || true",
    "RUN chown app:app /a.sh | cat",
    "RUN chown -R $USER:$USER /a.sh",
    "RUN chown -R --from=root app:app /a.sh",
    "RUN chown -R app:app /a.sh /b.sh",
    "RUN chown -R app:app /other",
    "RUN sudo chown app:app /a.sh",
    "RUN --network=none chown app:app /a.sh",
    'RUN ["chown", "app:app", "/a.sh"]',
])
def test_not_rewritten(tmp_path: Path, run: str) -> None:
    ctx = make_context(tmp_path, {"a.sh": "x", "b.sh": "y"})
    assert findings(f"FROM x\nCOPY a.sh /a.sh\n{run}\n", P, context=ctx) == []


def test_a_run_between_stops_the_search(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.sh": "x"})
    assert findings("FROM x\nCOPY a.sh /a.sh\nRUN echo hi\nRUN chown u:g /a.sh\n", P, context=ctx) == []


def test_chmod_needs_a_buildkit_target(tmp_path: Path) -> None:
    """COPY --chmod needs BuildKit: the default target rewrites it, `target = "classic"` does not,
    unless the file opts into BuildKit with a `# syntax=` directive."""
    ctx = make_context(tmp_path, {"run.sh": "x"})
    text = "FROM x\nCOPY run.sh /usr/local/bin/run\nRUN chmod 755 /usr/local/bin/run\n"
    classic = Settings(target="classic")
    assert Linter(P).run(parse(text), context_dir=ctx, settings=classic) == []
    assert fix(text, P, context=ctx).text == "FROM x\nCOPY --chmod=755 run.sh /usr/local/bin/run\n"
    directive = "# syntax=docker/dockerfile:1\n" + text
    [f] = Linter(P).run(parse(directive), context_dir=ctx, settings=classic)
    assert fix_of(f).safety is Safety.SAFE


def test_chmod_is_left_alone_for_a_frontend_without_it(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"run.sh": "x"})
    for syntax in ("docker/dockerfile:1.1", "example.com/other/frontend:1"):
        text = f"# syntax={syntax}\nFROM x\nCOPY run.sh /run.sh\nRUN chmod 755 /run.sh\n"
        assert findings(text, P, context=ctx) == [], syntax


@pytest.mark.parametrize(("mode", "flag"), [
    ("+x", "a+x"), ("u+x", "u+x"), ("a=rx", "a=rx"), ("-x", "a-x"), ("+rw", "a+r,u+w"),
    ("go-w,u+x", "go-w,u+x"), ("a+rX", "a+rX"),
])
def test_symbolic_chmod_with_a_frontend_that_reads_it(tmp_path: Path, mode: str, flag: str) -> None:
    """Symbolic --chmod came in dockerfile 1.14: `# syntax=docker/dockerfile:1` reads it. A mode
    without who (`+x`) keeps the umask's bits (022 in a RUN): the flag says which bits it sets."""
    ctx = make_context(tmp_path, {"run.sh": "x"})
    text = f"# syntax=docker/dockerfile:1\nFROM x\nCOPY run.sh /run.sh\nRUN chmod {mode} /run.sh\n"
    out = fix(text, P, context=ctx).text
    assert out == f"# syntax=docker/dockerfile:1\nFROM x\nCOPY --chmod={flag} run.sh /run.sh\n"


@pytest.mark.parametrize("syntax", ["", "# syntax=docker/dockerfile:1.7\n", "# syntax=docker/dockerfile:1.9-labs\n"])
def test_symbolic_chmod_is_left_alone_before_dockerfile_1_14(tmp_path: Path, syntax: str) -> None:
    ctx = make_context(tmp_path, {"run.sh": "x"})
    assert findings(f"{syntax}FROM x\nCOPY run.sh /run.sh\nRUN chmod +x /run.sh\n", P, context=ctx) == []
    labs = "# syntax=docker/dockerfile:1.10-labs\nFROM x\nCOPY run.sh /run.sh\nRUN chmod +x /run.sh\n"
    assert len(findings(labs, P, context=ctx)) == 1


@pytest.mark.parametrize("mode", ["=x", "o=u", "+s", "u+t", "+"])
def test_symbolic_chmod_copy_cannot_say_is_left_alone(tmp_path: Path, mode: str) -> None:
    ctx = make_context(tmp_path, {"run.sh": "x"})
    assert findings(f"# syntax=docker/dockerfile:1\nFROM x\nCOPY run.sh /run.sh\nRUN chmod {mode} /run.sh\n", P,
                    context=ctx) == []


def test_chmod_first_in_a_chain_is_taken_out_of_it(tmp_path: Path) -> None:
    """Nothing in the RUN ran before the chmod: the mode moves into the COPY and the rest stays."""
    ctx = make_context(tmp_path, {"build.sh": "echo\n"})
    out = fix("""\
        FROM debian
        COPY build.sh /usr/local/bin/build.sh
        RUN chmod 0755 /usr/local/bin/build.sh \\
            && /usr/local/bin/build.sh \\
            && rm -rf /tmp/*
        """, P, context=ctx).text
    assert out == d("""\
        FROM debian
        COPY --chmod=0755 build.sh /usr/local/bin/build.sh
        RUN /usr/local/bin/build.sh \\
            && rm -rf /tmp/*
        """)
    ctx2 = make_context(tmp_path / "2", {"a.sh": "x"})
    out = fix("FROM x\nCOPY a.sh /a.sh\nRUN chown u:g /a.sh; ./a.sh\n", P, context=ctx2).text
    assert out == "FROM x\nCOPY --chown=u:g a.sh /a.sh\nRUN ./a.sh\n"


def test_chmod_later_in_a_chain_is_left_alone(tmp_path: Path) -> None:
    """`cp /a.sh /b && chmod 755 /a.sh`: the cp saw the old mode; --chmod would give /b the new one."""
    ctx = make_context(tmp_path, {"a.sh": "x"})
    assert findings("FROM x\nCOPY a.sh /a.sh\nRUN cp /a.sh /b && chmod 755 /a.sh\n", P, context=ctx) == []


def test_chmod_of_a_copy_from_a_stage_is_unsafe() -> None:
    text = d("""\
        FROM golang:1.22 AS builder
        RUN go build -o /out/app .
        FROM debian:bookworm-slim
        COPY --from=builder /out/app /usr/local/bin/app
        RUN chmod 0755 /usr/local/bin/app
        """)
    [f] = findings(text, P)
    assert fix_of(f).safety is Safety.UNSAFE and "of stage builder is a file" in f.message
    assert fix(text, P).text == text
    out = fix(text, P, unsafe=True).text
    assert out.endswith("COPY --chmod=0755 --from=builder /out/app /usr/local/bin/app\n")


def test_chmod_without_r_on_a_directory_is_left_alone(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"bin/a": "x"})
    assert findings("# syntax=docker/dockerfile:1\nFROM x\nCOPY bin/ /opt/bin/\nRUN chmod 755 /opt/bin\n", P,
                    context=ctx) == []


def test_without_a_context_a_file_copy_is_unsafe() -> None:
    [f] = findings("FROM x\nCOPY app.jar /app.jar\nRUN chown u:g /app.jar\n", P)
    assert fix_of(f).safety is Safety.UNSAFE and "no build context" in f.message


def test_copy_from_another_stage_is_unsafe() -> None:
    [f] = findings("FROM x AS b\nRUN make\nFROM y\nCOPY --from=b /out/app /usr/bin/app\n"
                   "RUN chown u:g /usr/bin/app\n", P)
    assert fix_of(f).safety is Safety.UNSAFE
    out = fix("FROM x AS b\nRUN make\nFROM y\nCOPY --from=b /out/app /usr/bin/app\nRUN chown u:g /usr/bin/app\n",
              P, unsafe=True).text
    assert out == "FROM x AS b\nRUN make\nFROM y\nCOPY --chown=u:g --from=b /out/app /usr/bin/app\n"


def test_add_of_a_url_or_an_archive_is_left_alone(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.tar.gz": "x"})
    assert findings("FROM x\nADD a.tar.gz /opt/\nRUN chown -R u:g /opt\n", P, context=ctx) == []
    assert findings("FROM x\nADD https://e.com/a.sh /a.sh\nRUN chown u:g /a.sh\n", P, context=ctx) == []


def test_project_corpus_case_28(tmp_path: Path) -> None:
    from pathlib import Path

    case = Path(__file__).resolve().parents[1] / "corpus" / "28-generic-add-and-chown"
    if not case.is_dir():
        pytest.skip("no corpus/")
    [f] = findings((case / "Dockerfile").read_text(), P, context=case)
    assert fix_of(f).safety is Safety.UNSAFE
    case20 = case.parent / "20-node-copy-chown"
    assert findings((case20 / "Dockerfile").read_text(), P, context=case20) == []

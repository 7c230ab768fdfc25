"""DO202 copy-chown: RUN chown/chmod right after a COPY becomes COPY --chown/--chmod."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_pass_do2_common import d, findings, fix, fix_of, make_context

from dockopt.findings import Safety
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
    "RUN chown -R app:app /a.sh && chmod +x /a.sh",
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


def test_chmod_needs_the_syntax_directive(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"run.sh": "x"})
    text = "FROM x\nCOPY run.sh /usr/local/bin/run\nRUN chmod 755 /usr/local/bin/run\n"
    assert findings(text, P, context=ctx) == []
    out = fix("# syntax=docker/dockerfile:1\n" + text, P, context=ctx).text
    assert out == "# syntax=docker/dockerfile:1\nFROM x\nCOPY --chmod=755 run.sh /usr/local/bin/run\n"


@pytest.mark.parametrize("mode", ["+x", "u+x", "a=rx", "-x"])
def test_symbolic_chmod_is_left_alone(tmp_path: Path, mode: str) -> None:
    ctx = make_context(tmp_path, {"run.sh": "x"})
    assert findings(f"# syntax=docker/dockerfile:1\nFROM x\nCOPY run.sh /run.sh\nRUN chmod {mode} /run.sh\n", P,
                    context=ctx) == []


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

"""The syntax tree: what a pass reads from it, the errors it raises, and edits applied to it."""
from __future__ import annotations

import dataclasses

import pytest
from oracle import dockopt_view, oracle_view

import dockopt
from dockopt import ParseError, parse
from dockopt.findings import Edit, Fix, Safety
from dockopt.fixer import apply_fixes
from dockopt.syntax import Dockerfile


def agrees(text: str) -> Dockerfile:
    tree = parse(text)
    assert tree.to_source() == text
    assert dockopt_view(tree) == oracle_view(text)
    return tree


def test_keywords_lines_and_stages() -> None:
    tree = agrees("FROM golang:1.19 AS build\nworkdir /src\nRUN go build \\\n  -o /app .\n\n"
                  "from scratch\nCOPY --from=build /app /app\n")
    assert [i.keyword for i in tree.instructions] == ["FROM", "WORKDIR", "RUN", "FROM", "COPY"]
    run = tree.instructions[2]
    assert (run.start_line, run.end_line) == (3, 4)
    assert run.command == "go build   -o /app ."
    assert [s.name for s in tree.stages] == ["build", None]
    assert tree.stages[1].base == "scratch"
    from_flag = tree.instructions[4].flag("from")
    assert from_flag is not None and from_flag.value == "build"


def test_directives_and_backtick_escape() -> None:
    tree = agrees("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n    b\nRUN dir C:\\\n")
    assert tree.escape == "`"
    assert tree.syntax == "docker/dockerfile:1"
    assert [d.name for d in tree.directives] == ["syntax", "escape"]
    assert tree.instructions[1].command == "a     b"
    # a backslash at the end is not a continuation under the backtick escape
    assert tree.instructions[2].command == "dir C:\\"


def test_check_directive_is_a_directive() -> None:
    tree = parse("# check=skip=all\n# escape=`\nFROM x\nRUN a `\n b\n")
    assert tree.escape == "`"
    assert [i.keyword for i in tree.instructions] == ["FROM", "RUN"]


def test_directive_after_a_comment_is_only_a_comment() -> None:
    tree = agrees("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n")
    assert tree.escape == "\\"
    assert tree.directives == ()
    assert tree.instructions[0].comments == ("hello", "escape=`")


def test_comments_and_blank_lines_inside_continuations() -> None:
    text = "FROM x\nRUN apt-get update \\\n    # install curl\n\n    && apt-get install -y curl\nCMD y\n"
    tree = agrees(text)
    run = tree.instructions[1]
    assert run.command == "apt-get update     && apt-get install -y curl"
    assert run.comments == ("install curl",)
    assert [ln.kind for ln in run.lines] == ["INSTR_OPEN", "CONT_COMMENT", "CONT_BLANK", "CONT_LAST"]


def test_whitespace_after_the_escape_char_still_continues() -> None:
    tree = agrees("FROM x\nRUN echo a \\   \n  b\n")
    assert tree.instructions[1].command == "echo a   b"


def test_continuation_at_end_of_file() -> None:
    tree = agrees("FROM x\nRUN echo \\")
    assert tree.instructions[1].command == "echo"
    assert tree.to_source().endswith("\\")


def test_heredocs_several_quoted_and_chomped() -> None:
    text = "FROM x\nCOPY <<one <<'two' /dst/\nfirst\none\n$NOT_EXPANDED\ntwo\nRUN <<-EOT sh\n\techo hi\n\tEOT\n"
    tree = agrees(text)
    copy, run = tree.instructions[1], tree.instructions[2]
    assert [(h.name, h.expand) for h in copy.heredocs] == [("one", True), ("two", False)]
    assert copy.heredocs[1].body == "$NOT_EXPANDED\n"
    assert run.heredocs[0].chomp and run.heredocs[0].content == "echo hi\n"
    assert run.end_line == 9


def test_heredoc_after_a_continuation() -> None:
    tree = agrees("FROM x\nRUN --mount=type=cache,target=/c \\\n  cat <<EOF > /f\nhello\nEOF\nCMD y\n")
    run = tree.instructions[1]
    assert run.heredocs[0].body == "hello\n"
    assert run.flags[0].name == "mount"
    assert tree.instructions[2].start_line == 6


def test_unterminated_heredoc_is_an_error_with_its_line() -> None:
    with pytest.raises(ParseError) as exc:
        parse("FROM x\n\nRUN <<EOF\necho\n")
    assert exc.value.line == 3
    assert "unterminated heredoc" in exc.value.message


def test_exec_form_and_invalid_json_falls_back_to_shell_form() -> None:
    tree = agrees('FROM x\nCMD ["a", "b c"]\nCMD [\'single\']\nENTRYPOINT ["unterminated"\nRUN ["a",]\n')
    cmd, single, ep, run = tree.instructions[1:]
    assert cmd.is_json and cmd.values == ("a", "b c")
    assert not single.is_json and single.command == "['single']"
    assert not ep.is_json
    assert not run.is_json


def test_json_array_of_non_strings_is_rejected() -> None:
    with pytest.raises(ParseError) as exc:
        parse('FROM x\n\nCMD ["a", 1]\n')
    assert exc.value.line == 3


def test_flags_known_and_unknown_are_kept() -> None:
    text = ('FROM --platform=$BUILDPLATFORM x\n'
            'RUN --mount=type=cache,target=/root/.cache --network=none --security=insecure echo\n'
            'COPY --chown=app:app --chmod=0644 --link --parents --exclude=*.md --future=1 a b\n')
    tree = agrees(text)
    assert [f.name for f in tree.instructions[1].flags] == ["mount", "network", "security"]
    copy = tree.instructions[2]
    assert [str(f) for f in copy.flags] == ["--chown=app:app", "--chmod=0644", "--link", "--parents",
                                           "--exclude=*.md", "--future=1"]
    link = copy.flag("link")
    assert link is not None and link.value is None
    assert copy.values == ("a", "b")


def test_any_keyword_case_onbuild_healthcheck_shell_maintainer() -> None:
    text = ('from x\nOnBuild Run echo hi\nHEALTHCHECK --interval=5s CMD curl -f http://x/ || exit 1\n'
            'HEALTHCHECK NONE\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nMAINTAINER me <me@x>\n'
            'STOPSIGNAL SIGTERM\nEXPOSE 80 443/udp\nVOLUME ["/data"]\nUSER 1000:1000\n')
    tree = agrees(text)
    onbuild = tree.instructions[1]
    assert onbuild.keyword == "ONBUILD" and onbuild.onbuild is not None and onbuild.onbuild.keyword == "Run"
    assert tree.instructions[2].values == ("CMD", "curl -f http://x/ || exit 1")
    assert tree.instructions[3].values == ("NONE",)
    assert tree.instructions[4].values == ("/bin/bash", "-o", "pipefail", "-c")


def test_arg_env_label_in_both_forms() -> None:
    tree = agrees('FROM x\nARG A\nARG B=1 C\nENV legacy value with spaces\nENV K=v "Q=a b"\nLABEL a=b "c d"=e\n')
    assert tree.instructions[3].values == ("legacy", "value with spaces")
    assert tree.instructions[3].parsed.separators == ("",)
    assert tree.instructions[4].values == ("K", "v", '"Q', 'a b"')


def test_env_errors_are_located() -> None:
    with pytest.raises(ParseError) as exc:
        parse("FROM x\nENV a=b c\n")
    assert exc.value.line == 2 and "can't find =" in exc.value.message
    with pytest.raises(ParseError):
        parse("FROM x\nENV PATH\n")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "\ufeff# x\n", "# syntax=x\n"])
def test_files_without_instructions_are_rejected(text: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse(text)
    assert exc.value.message == "file with no instructions"


def test_directive_errors() -> None:
    with pytest.raises(ParseError, match="only one escape parser directive"):
        parse("# escape=`\n# escape=\\\nFROM x\n")
    with pytest.raises(ParseError, match="invalid escape token"):
        parse("# escape=x\nFROM x\n")


@pytest.mark.parametrize("text", [
    "FROM x\r\nRUN a \\\r\n  b\r\n",            # CRLF
    "\ufeffFROM x\nRUN a\n",                     # BOM
    "FROM x\n\tRUN  a\t \n",                     # tabs, trailing whitespace
    "FROM x\nRUN a",                             # no final newline
    "FROM x\r\nRUN <<EOF\r\nhi\r\nEOF\r\n",      # heredoc with CRLF
    "FROM x\rRUN y\n",                           # a lone CR is not a line break
    "   \n  # indented comment\n  FROM x  \n",
])
def test_line_endings_and_whitespace_round_trip(text: str) -> None:
    agrees(text)


def test_bom_is_kept_and_offsets_count_it() -> None:
    text = "\ufeffFROM x\nRUN a\n"
    tree = parse(text)
    assert tree.bom == "\ufeff"
    run = tree.instructions[1]
    assert text[run.start:run.end] == "RUN a\n"


def test_logical_offsets_map_back_to_source_spans() -> None:
    text = "FROM x\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    tree = parse(text)
    run = tree.instructions[1]
    i = run.logical.index("install")
    start, end = run.logical_span(i, i + len("install"))
    assert text[start:end] == "install"
    # a span across the continuation covers the escape char and newline in the file
    j = run.logical.index("&&")
    a, b = run.logical_span(j, run.logical.index("apt-get", j) + 7)
    assert text[a:b] == "&& \\\n    apt-get"


def test_instructions_own_their_leading_trivia() -> None:
    tree = parse("FROM x\n\n# about run\nRUN a\n# trailing\n")
    run = tree.instructions[1]
    assert [ln.text for ln in run.leading] == ["\n", "# about run\n"]
    assert [ln.text for ln in tree.footer] == ["# trailing\n"]


def test_nodes_are_immutable() -> None:
    tree = parse("FROM x\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.instructions[0].lines = ()  # type: ignore[misc]  # what the test shows


def _edited(tree: Dockerfile, start: int, end: int, text: str) -> Dockerfile:
    """The tree after a fix's edit of one file span (what the fixer does: edit the text, parse again)."""
    out, _used = apply_fixes(tree.source, [Fix("edit", Safety.SAFE, (Edit(start, end, text),))])
    return parse(out)


def test_edits_reprint_only_what_changed() -> None:
    text = "FROM x\r\n# keep me\r\nRUN  a   \\\r\n   b\r\nCMD [\"y\"]\r\n"
    tree = parse(text)
    run = tree.instructions[1]
    new = _edited(tree, run.start, run.end, "RUN a b\r\n")
    assert new.to_source() == "FROM x\r\n# keep me\r\nRUN a b\r\nCMD [\"y\"]\r\n"
    inserted = _edited(tree, run.leading_start, run.leading_start, "ENV A=1\r\n")
    assert inserted.to_source() == "FROM x\r\nENV A=1\r\n# keep me\r\nRUN  a   \\\r\n   b\r\nCMD [\"y\"]\r\n"
    assert [i.keyword for i in inserted.instructions] == ["FROM", "ENV", "RUN", "CMD"]
    removed = _edited(tree, run.leading_start, run.end, "")
    assert removed.to_source() == "FROM x\r\nCMD [\"y\"]\r\n"
    at_eof = parse("FROM x")
    after = _edited(at_eof, at_eof.instructions[0].end, at_eof.instructions[0].end, "\nRUN y")
    assert after.to_source() == "FROM x\nRUN y" and after.instructions[1].keyword == "RUN"
    spanned = _edited(tree, run.start, run.start + 3, "run")
    assert spanned.to_source() == text.replace("RUN  a", "run  a")
    # the lines no edit touched keep their bytes, and the original tree is untouched
    assert [ln.text for ln in spanned.instructions[2].lines] == [ln.text for ln in tree.instructions[2].lines]
    assert tree.to_source() == text


def test_package_exports_parse_and_version() -> None:
    assert dockopt.parse is parse
    assert dockopt.__version__

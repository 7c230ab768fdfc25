"""DO101 merge-runs: before/after/no-op fixtures, including the traps."""
from __future__ import annotations

import textwrap

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.merge_runs import MergeRuns


def fix(text: str, unsafe: bool = True) -> str:
    """The merged text (with the merges only offered as unsafe: the text is what they share)."""
    text = textwrap.dedent(text)
    out = fix_text(text, Linter([MergeRuns]), unsafe=unsafe).text
    parse(out)
    oracle_view(out)  # BuildKit's parser accepts it
    assert fix_text(out, Linter([MergeRuns]), unsafe=unsafe).text == out  # idempotent
    return out


def d(text: str) -> str:
    return textwrap.dedent(text)


def test_five_apt_runs_become_one():
    before = """\
        FROM debian:bookworm
        RUN apt-get update
        RUN apt-get install -y curl
        RUN apt-get install -y git
        RUN rm -rf /var/lib/apt/lists/*
        CMD ["bash"]
        """
    assert fix(before, unsafe=False) == d("""\
        FROM debian:bookworm
        RUN apt-get update && \\
            apt-get install -y curl && \\
            apt-get install -y git && \\
            rm -rf /var/lib/apt/lists/*
        CMD ["bash"]
        """)


def test_cd_in_its_own_run_is_isolated_in_a_subshell():
    out = fix("FROM x\nRUN cd sub\nRUN touch marker\n")
    assert out == "FROM x\nRUN ( cd sub ) && \\\n    touch marker\n"


@pytest.mark.parametrize("leaky", ["export A=1", "A=1", "set -e", "umask 077", ". /etc/profile", "source x",
                                   "alias ll=ls", "f() { echo; }", "trap 'x' EXIT", "exec bash", "exit 0", "pushd /x"])
def test_state_that_would_leak_is_isolated(leaky):
    out = fix(f"FROM x\nRUN {leaky}\nRUN echo next\n")
    assert out == f"FROM x\nRUN ( {leaky} ) && \\\n    echo next\n"


def test_prefix_assignment_does_not_leak():
    assert fix("FROM x\nRUN A=b make\nRUN echo next\n") == "FROM x\nRUN A=b make && \\\n    echo next\n"


def test_or_and_semicolon_chains_keep_their_meaning():
    out = fix("FROM x\nRUN a || b\nRUN c; d\nRUN e || f\n")
    # a failure of an earlier RUN must still stop the build: later lists are grouped
    assert out == "FROM x\nRUN a || b && \\\n    { c; d; } && \\\n    { e || f; }\n"


def test_a_trailing_semicolon_is_dropped_not_doubled():
    out = fix("FROM x\nRUN apk add git;\nRUN a; b;\nRUN find . -exec rm {} \\;\n")
    assert out == "FROM x\nRUN apk add git && \\\n    { a; b; } && \\\n    find . -exec rm {} \\;\n"


def test_each_comment_stays_above_its_command():
    out = fix("FROM x\n# first\nRUN a\n# second\n  # and more\nRUN b\n")
    assert out == "FROM x\n# first\nRUN a && \\\n    # second\n    # and more\n    b\n"


def test_bookkeeping_kept_apart_by_a_blank_line_is_not_merged_by_default():
    text = "FROM x\nRUN mkdir /a\n\n# second\nRUN ln -s /a /b\n"
    [finding] = Linter([MergeRuns]).run(parse(text))
    assert finding.fix.safety.value == "unsafe"
    assert fix(text, unsafe=False) == text
    assert fix(text) == "FROM x\nRUN mkdir /a && \\\n    # second\n    ln -s /a /b\n"


def test_leading_and_files_get_leading_and():
    text = d("""\
        FROM debian:bookworm
        RUN apt-get update \\
            && apt-get install -y curl
        RUN mkdir /a
        # link it
        RUN ln -s /a /b
        RUN chmod 700 /a
        """)
    assert fix(text, unsafe=False) == d("""\
        FROM debian:bookworm
        RUN apt-get update \\
            && apt-get install -y curl \\
            && mkdir /a \\
            # link it
            && ln -s /a /b \\
            && chmod 700 /a
        """)


@pytest.mark.parametrize("text,why", [
    # make is not modelled: it only may have written there
    ("FROM x\nRUN make build\nRUN rm -rf /src/build/tmp\n",
     "line 3 deletes /src/build/tmp, which line 2 may have written"),
    # an installer's files may go anywhere under /root: it only may have written the pip cache
    ("FROM debian\nRUN apt-get update && apt-get install -y a\nRUN rm -rf /root/.cache/pip\n",
     "line 3 deletes /root/.cache/pip, which line 2 may have written"),
    ("FROM x\nRUN curl -o /usr/local/bin/t https://x/t\nRUN chmod +x /usr/local/bin/t\n",
     "line 3 rewrites /usr/local/bin/t, which line 2 wrote"),
    ("FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n",
     "the install on line 3 reads the apt lists line 2 fetched"),
    ("FROM x\nRUN mkdir /data\nRUN useradd app\nRUN ln -s /data /srv\n", "3 layers of small bookkeeping"),
])
def test_the_merge_is_the_default_fix_when_it_saves_something(text, why):
    [finding] = Linter([MergeRuns]).run(parse(text))
    assert finding.fix.safety.value == "safe" and why in finding.message


@pytest.mark.parametrize("text", [
    # each RUN cleans up after itself: merging saves no bytes, and an edit to pip would re-run apt
    "FROM python:3.11\nRUN apt-get update && apt-get install -y libpq5 && rm -rf /var/lib/apt/lists/*\n"
    "RUN pip install --no-cache-dir psycopg==3.1.18\n",
    "FROM x\nRUN mkdir /a\nRUN pip install flask==3.0.0\n",   # one step is no bookkeeping
    "FROM x\nRUN make -C /src\nRUN make -C /other\n",    # nothing known to be undone
])
def test_a_merge_that_saves_nothing_is_offered_only_as_unsafe(text):
    [finding] = Linter([MergeRuns]).run(parse(text))
    assert finding.fix.safety.value == "unsafe" and "merging saves nothing" in finding.message
    assert fix(text, unsafe=False) == text


def test_multi_line_runs_keep_their_lines_and_the_file_indent():
    out = fix("FROM x\nRUN a \\\n  --flag\nRUN b\n")
    assert out == "FROM x\nRUN a \\\n  --flag && \\\n  b\n"


def test_backtick_escape_files_continue_with_a_backtick():
    out = fix("# escape=`\nFROM x\nRUN apt-get update\nRUN apt-get install -y jq\n")
    assert out == "# escape=`\nFROM x\nRUN apt-get update && `\n    apt-get install -y jq\n"


def test_crlf_is_kept():
    assert fix("FROM x\r\nRUN a\r\nRUN b\r\n") == "FROM x\r\nRUN a && \\\r\n    b\r\n"


def test_same_mount_flags_merge_differing_do_not():
    same = "FROM x\nRUN --mount=type=cache,target=/c a\nRUN --mount=type=cache,target=/c b\n"
    assert fix(same) == "FROM x\nRUN --mount=type=cache,target=/c a && \\\n    b\n"
    differ = "FROM x\nRUN --mount=type=cache,target=/c a\nRUN --network=none b\n"
    assert fix(differ) == differ


@pytest.mark.parametrize("text", [
    'FROM x\nRUN ["a"]\nRUN ["b"]\n',                                  # exec form
    "FROM x\nRUN <<EOF\na\nEOF\nRUN b\n",                              # heredoc
    "FROM x\nRUN a # a comment would swallow the rest\nRUN b\n",       # shell comment
    "FROM x\nRUN a\nCOPY . .\nRUN b\n",                                # not consecutive
    "FROM x\nRUN a\nFROM y\nRUN b\n",                                  # different stages
    "FROM x\nONBUILD RUN a\nONBUILD RUN b\n",                          # ONBUILD triggers
    "FROM x\nRUN if then\nRUN b\n",                                    # does not parse
    "# escape=`\nFROM mcr.microsoft.com/windows\nSHELL [\"powershell\", \"-Command\"]\n"
    "RUN Write-Host a\nRUN Write-Host b\n",
    "FROM x\nRUN a\n# dockopt: ignore=DO101\nRUN b\n",
])
def test_no_op(text):
    assert fix(text) == text


def test_finding_names_the_lines():
    tree = parse("FROM x\nRUN a\nRUN b\n")
    [finding] = Linter([MergeRuns]).run(tree)
    assert (finding.code, finding.line, finding.end_line) == ("DO101", 2, 3)
    assert "lines 2, 3" in finding.message

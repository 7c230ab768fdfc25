"""The shell model over every RUN of the real-world corpus, and over random text.

Properties a pass relies on: nothing raises, every span slices back to its
source text, commands come in source order, chain links tile the top level.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REALWORLD, need_shared
from hypothesis import given, settings
from hypothesis import strategies as st

from dockopt.shell import (
    leaks_state,
    parse_chmod,
    parse_chown,
    parse_rm,
    parse_script,
    parse_tool,
)

_RUN = re.compile(r"^\s*RUN\s+(.*)$", re.IGNORECASE)


def corpus_runs(root: Path) -> list[str]:
    """Shell-form RUN commands, continuation lines joined (roughly, as BuildKit does)."""
    runs = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == "manifest.tsv":
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        index = 0
        while index < len(lines):
            match = _RUN.match(lines[index])
            index += 1
            if not match:
                continue
            parts = [match.group(1)]
            while parts[-1].rstrip().endswith("\\") and index < len(lines):
                parts[-1] = parts[-1].rstrip()[:-1]
                line = lines[index]
                index += 1
                parts.append("" if line.lstrip().startswith("#") else line)
            command = re.sub(r"^(--\S+\s+)+", "", " ".join(parts).strip())
            if command and not command.startswith("["):
                runs.append(command)
    return runs


@pytest.fixture(scope="module")
def runs() -> list[str]:
    need_shared(REALWORLD)
    found = corpus_runs(REALWORLD)
    assert len(found) > 5000
    return found


def check_command_spans(text: str, command) -> None:
    """A command's words, assignments and redirects lie inside it and inside `text`."""
    n = len(text)
    assert 0 <= command.start <= command.append_at <= command.end <= n
    for word in command.argv:
        assert text[word.start:word.end] == word.raw
        assert command.start <= word.start
    for assignment in command.assignments:
        assert text[assignment.start:assignment.end] == assignment.raw
    for redirect in command.redirects:
        assert 0 <= redirect.start <= redirect.end <= n
        if redirect.target is not None:
            assert text[redirect.target.start:redirect.target.end] == redirect.target.raw
        if redirect.heredoc is not None:
            heredoc = redirect.heredoc
            assert redirect.end <= heredoc.body_start <= heredoc.body_end <= heredoc.end <= n


def check_invariants(text: str) -> None:
    script = parse_script(text)
    n = len(text)
    for span in script.error_spans:
        assert 0 <= span.start <= span.end <= n
    commands = script.commands
    assert [c.start for c in commands] == sorted(c.start for c in commands)
    for command in commands:
        check_command_spans(text, command)
        assert 0 <= command.link < len(script.chain)
        assert command in script.chain[command.link].commands
        if command.name_index is not None:
            assert command.name_word is command.argv[command.name_index]
    previous_end = 0
    for link in script.chain:
        assert previous_end <= link.start <= link.append_at <= link.end <= n
        previous_end = link.append_at
    assert sum(len(link.commands) for link in script.chain) == len(commands)
    for leak in leaks_state(script):
        assert 0 <= leak.start <= leak.end <= n
    for command in commands:
        parse_tool(command)
        parse_rm(command)
        parse_chown(command)
        parse_chmod(command)
    script.errexit, script.is_and_chain, script.comments   # noqa: B018


def test_every_corpus_run_keeps_the_invariants(runs):
    for text in runs:
        check_invariants(text)


def test_most_corpus_runs_parse_cleanly(runs):
    # the rough extraction keeps `RUN <<EOF` heredoc heads and Windows RUNs, which do fail
    clean = sum(not parse_script(text).has_error for text in runs)
    assert clean / len(runs) > 0.88


def test_corpus_runs_find_the_usual_tools(runs):
    programs: dict[str, int] = {}
    for text in runs[:3000]:
        for command in parse_script(text).commands:
            tool = parse_tool(command)
            if tool is not None:
                programs[tool.manager] = programs.get(tool.manager, 0) + 1
    for manager in ("apt-get", "apk", "pip", "npm", "go", "yum", "dnf"):
        assert programs.get(manager, 0) > 0, programs


_SHELLISH = st.lists(
    st.sampled_from([
        *"ab cd=$'\"\\`(){}[]<>|&;#*?~!-\n\té",
        "<<EOF", "<<-'EOF'", "\nEOF\n", "EOF", "if ", " then ", " fi", "$(", "&&", "||", "cd ",
        "apt-get install -y ", "export ", "set -e", "f() ", "case ", " in ", " esac", ";;",
        "$'", "\\U7fffffff", "\\c", "\\x", "\\u", "\\08", "${", ">&", "2>", "<<<", "`"]),
    max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_SHELLISH)
def test_random_shellish_text_never_breaks_the_model(text):
    check_invariants(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_random_unicode_never_breaks_the_model(text):
    check_invariants(text)

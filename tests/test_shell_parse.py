"""parse_script: commands, words, spans, operators, scopes, the top-level chain."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.shell import (
    AND,
    NEWLINE,
    OR,
    PIPE,
    SEMICOLON,
    Construct,
    Scope,
    SimpleCommand,
    Word,
    parse_script,
)

APT = ("apt-get update && apt-get install -y --no-install-recommends curl ca-certificates"
       " && rm -rf /var/lib/apt/lists/*")


def names(text: str) -> list[str | None]:
    return [c.name for c in parse_script(text).commands]


def only(text: str) -> SimpleCommand:
    commands = parse_script(text).commands
    assert len(commands) == 1, commands
    return commands[0]


def src(script, item) -> str:
    return script.text[item.start:item.end]


# --- the apt chain every Dockerfile has ---------------------------------------

def test_apt_chain_commands_and_spans():
    script = parse_script(APT)
    assert not script.has_error and script.error_spans == ()
    assert [src(script, c) for c in script.commands] == [
        "apt-get update",
        "apt-get install -y --no-install-recommends curl ca-certificates",
        "rm -rf /var/lib/apt/lists/*",
    ]
    install = script.commands[1]
    assert install.name == "apt-get" and install.program == "apt-get"
    assert install.arg_texts == ("install", "-y", "--no-install-recommends", "curl", "ca-certificates")
    for word in install.argv:
        assert script.text[word.start:word.end] == word.raw
    assert [c.next_operator for c in script.commands] == [AND, AND, None]
    assert [c.prev_operator for c in script.commands] == [None, AND, AND]
    assert all(c.at_top_level for c in script.commands)


def test_apt_chain_is_pure_and_chain_with_three_links():
    script = parse_script(APT)
    assert script.is_and_chain
    assert [link.operator for link in script.chain] == [AND, AND, None]
    assert [link.kind for link in script.chain] == [Construct.COMMAND] * 3
    assert [c.link for c in script.commands] == [0, 1, 2]
    assert script.chain[1].commands == (script.commands[1],)


def test_append_at_end_of_chain_gives_valid_extension():
    script = parse_script("apt-get update && apt-get install -y curl")
    at = script.append_at
    extended = script.text[:at] + " && rm -rf /var/lib/apt/lists/*" + script.text[at:]
    assert parse_script(extended).is_and_chain
    assert names(extended)[-1] == "rm"


def test_glob_is_kept_literally_in_text():
    rm = parse_script(APT).commands[2]
    assert rm.args[-1].text == "/var/lib/apt/lists/*"
    quoted = only("rm -rf '/var/lib/apt/lists/*'")
    assert quoted.args[-1].text == "/var/lib/apt/lists/*"
    assert quoted.args[-1].raw == "'/var/lib/apt/lists/*'"


# --- words --------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "text"), [
    ("plain", "plain"),
    ("'single quoted'", "single quoted"),
    ('"double quoted"', "double quoted"),
    ('"a\\"b\\$c\\\\d\\x"', 'a"b$c\\d\\x'),
    ("foo\\ bar", "foo bar"),
    ("\\$HOME", "$HOME"),
    ("--opt=\"a b\"", "--opt=a b"),
    ("'x'\"y\"z", "xyz"),
    ("$'a\\tb\\n'", "a\tb\n"),
    ("$'\\x41\\101'", "AA"),
    ("$'\\cA\\e'", "\x01\x1b"),
    ("$'\\U7fffffff'", "\\U7fffffff"),     # no such character: kept as written
    ("$'\\c'", "\\c"),
    ("$'\\x'", "\\x"),
    ("$'\\8'", "\\8"),
    ("~/x", "~/x"),
    ("*.whl", "*.whl"),
    ("123", "123"),
    ("a=b", "a=b"),
])
def test_static_word_values(raw, text):
    command = only(f"echo {raw}")
    word = command.args[0]
    assert word.raw == raw
    assert word.text == text


@pytest.mark.parametrize("raw", [
    "$HOME", "${VAR:-x}", '"$HOME/x"', "$(date)", "`date`", "$((1+2))", "pre$X", '"a$(b)c"',
])
def test_dynamic_words_have_no_text(raw):
    word = only(f"echo {raw}").args[0] if "$(" not in raw and "`" not in raw else \
        parse_script(f"echo {raw}").commands[0].args[0]
    assert word.text is None
    assert word.raw == raw


def test_word_is_an_immutable_dataclass():
    word = only("echo hi").args[0]
    assert dataclasses.is_dataclass(word)
    with pytest.raises(dataclasses.FrozenInstanceError):
        word.text = "x"  # type: ignore[misc]
    assert word == Word("hi", "hi", 5, 7)
    assert dataclasses.replace(word, text="ho").text == "ho"


def test_non_ascii_offsets_are_string_offsets():
    script = parse_script("echo 'héllo wörld' && grüß 日本 && ls")
    assert [src(script, c) for c in script.commands] == ["echo 'héllo wörld'", "grüß 日本", "ls"]
    assert script.commands[0].args[0].text == "héllo wörld"
    for command in script.commands:
        for word in command.argv:
            assert script.text[word.start:word.end] == word.raw


# --- assignments, redirects, wrappers -----------------------------------------

def test_prefix_assignments_are_not_argv():
    command = only("DEBIAN_FRONTEND=noninteractive A= B=\"x y\" apt-get install -y tzdata")
    assert [a.name for a in command.assignments] == ["DEBIAN_FRONTEND", "A", "B"]
    assert [a.value_text for a in command.assignments] == ["noninteractive", "", "x y"]
    assert command.name == "apt-get"
    assert command.argv[0].raw == "apt-get"
    assert command.assignments[0].raw == "DEBIAN_FRONTEND=noninteractive"


def test_assignment_only_command():
    command = only("PATH=/opt/bin:$PATH")
    assert command.name is None and command.argv == () and command.name_index is None
    assert command.assignments[0].name == "PATH"
    assert command.assignments[0].value_text is None     # depends on $PATH


def test_redirects():
    script = parse_script("make >build.log 2>&1 && cat < in.txt >> out.txt && tr a b <<< 'abc'")
    make, cat, tr = script.commands
    assert [(r.operator, r.fd, r.target.text) for r in make.redirects] == [(">", None, "build.log"),
                                                                          (">&", 2, "1")]
    assert src(script, make) == "make >build.log 2>&1"
    assert make.argv[-1].text == "make"
    assert [(r.operator, r.target.text) for r in cat.redirects] == [("<", "in.txt"), (">>", "out.txt")]
    assert [(r.operator, r.target.text) for r in tr.redirects] == [("<<<", "abc")]


def test_words_after_a_redirect_stay_arguments():
    command = only("echo a >out b")
    assert command.arg_texts == ("a", "b")
    assert [r.target.text for r in command.redirects] == ["out"]


def test_redirect_before_command_word():
    command = only("2>/dev/null command -v curl")
    assert command.name == "command"           # `command -v` is a query, not a wrapper
    assert command.redirects[0].target.text == "/dev/null"


@pytest.mark.parametrize(("text", "name", "wrappers"), [
    ("sudo apt-get install -y x", "apt-get", ["sudo"]),
    ("sudo -E -u root apt-get install -y x", "apt-get", ["sudo"]),
    ("sudo --user=root DEBIAN_FRONTEND=noninteractive apt-get install", "apt-get", ["sudo"]),
    ("env DEBIAN_FRONTEND=noninteractive apt-get install -y x", "apt-get", ["env"]),
    ("env -i PATH=/bin sh -c 'x'", "sh", ["env"]),
    ("command cd /x", "cd", ["command"]),
    ("nohup nice -n 10 make", "make", ["nohup", "nice"]),
    ("env", "env", []),
    ("sudo -i", "sudo", []),
    ("command -v curl", "command", []),
    ("/usr/bin/env python3 -m pip install x", "python3", ["/usr/bin/env"]),
])
def test_wrappers_are_skipped_for_name(text, name, wrappers):
    command = only(text)
    assert command.name == name
    assert [w.text for w in command.wrappers] == wrappers
    assert command.argv[0].raw == text.split()[0]


def test_program_is_basename_of_name():
    command = only("/usr/local/bin/pip3 install x")
    assert command.name == "/usr/local/bin/pip3" and command.program == "pip3"


def test_declarations_and_tests_are_commands():
    script = parse_script('export A=b C; unset X; [ -f x ] && [[ "$a" == b* ]]; local y=1')
    export, unset, test1, test2, local = script.commands
    assert export.name == "export" and export.arg_texts == ("A=b", "C")
    assert unset.name == "unset" and unset.arg_texts == ("X",)
    assert test1.name == "[" and [w.text for w in test1.argv] == ["[", "-f", "x", "]"]
    assert test2.name == "[[" and test2.argv[-1].text == "]]"
    assert local.arg_texts == ("y=1",)


def test_export_with_dynamic_value():
    export = only("export PATH=$HOME/bin:$PATH")
    assert export.args[0].text is None
    assert export.args[0].raw == "PATH=$HOME/bin:$PATH"


# --- lists, operators and scopes ----------------------------------------------

def test_set_eux_with_semicolons():
    script = parse_script("set -eux; apt-get update; apt-get install -y curl; rm -rf /var/lib/apt/lists/*")
    assert names(script.text) == ["set", "apt-get", "apt-get", "rm"]
    assert script.errexit and not script.pipefail
    assert not script.is_and_chain
    assert [link.operator for link in script.chain] == [SEMICOLON] * 3 + [None]


@pytest.mark.parametrize(("text", "errexit", "pipefail"), [
    ("set -e; x", True, False),
    ("set -o errexit && x", True, False),
    ("set -euo pipefail; x", True, True),
    ("set -o pipefail -o errexit; x", True, True),
    ("set -ex; set +e; x", False, False),
    ("set -x; x", False, False),
    ("(set -e); x", False, False),
    ("if y; then set -e; fi; x", False, False),
    ("echo set -e", False, False),
    ("x", False, False),
])
def test_errexit_and_pipefail(text, errexit, pipefail):
    script = parse_script(text)
    assert (script.errexit, script.pipefail) == (errexit, pipefail)


def test_newline_separated_commands():
    script = parse_script("apt-get update\napt-get install -y curl\n")
    assert names(script.text) == ["apt-get", "apt-get"]
    assert script.commands[0].next_operator == NEWLINE
    assert [link.operator for link in script.chain] == [NEWLINE, None]
    assert not script.is_and_chain


def test_trailing_semicolon_still_pure_and_chain():
    assert parse_script("a && b;").is_and_chain
    assert parse_script("a").is_and_chain
    assert not parse_script("a || b").is_and_chain
    assert not parse_script("a && b &").is_and_chain
    assert not parse_script("").is_and_chain


def test_cd_then_make():
    script = parse_script("cd /src && make")
    cd, make = script.commands
    assert cd.name == "cd" and cd.arg_texts == ("/src",) and cd.next_operator == AND
    assert make.prev_operator == AND and not make.scopes


def test_subshell_then_touch():
    script = parse_script("(cd x && make) && touch y")
    cd, make, touch = script.commands
    assert cd.scopes == (Scope.SUBSHELL,) and cd.in_subshell and cd.runs_in_subshell
    assert make.scopes == (Scope.SUBSHELL,) and make.prev_operator == AND
    assert make.next_operator is None        # last command inside ( )
    assert touch.at_top_level and touch.prev_operator == AND
    assert [link.kind for link in script.chain] == [Construct.SUBSHELL, Construct.COMMAND]
    assert src(script, script.chain[0]) == "(cd x && make)"
    assert script.chain[0].commands == (cd, make)
    assert script.is_and_chain


def test_wrapping_a_link_in_a_subshell_keeps_the_chain():
    script = parse_script("cd /src && make && make install")
    link = script.chain[0]
    wrapped = script.text[:link.start] + "( " + script.text[link.start:link.end] + " )" + script.text[link.end:]
    assert parse_script(wrapped).commands[0].in_subshell


def test_brace_group_and_background():
    script = parse_script("{ cd /x; make; } > log 2>&1 & wait")
    cd, make, wait = script.commands
    assert cd.scopes == make.scopes == (Scope.BACKGROUND, Scope.BRACE_GROUP)
    assert cd.in_brace_group and cd.in_background and cd.runs_in_subshell
    assert wait.at_top_level
    assert script.chain[0].kind is Construct.BRACE_GROUP
    assert script.chain[0].operator == "&"


def test_if_statement():
    script = parse_script("if [ -f x ]; then apt-get install -y y; elif true; then :; else z; fi")
    test, install, elif_test, colon, z = script.commands
    assert test.scopes == (Scope.IF, Scope.CONDITION) and test.name == "["
    assert install.scopes == (Scope.IF,) and install.in_conditional
    assert install.arg_texts == ("install", "-y", "y")
    assert elif_test.scopes == (Scope.IF, Scope.CONDITION)
    assert colon.scopes == (Scope.IF,) and z.scopes == (Scope.IF,)
    assert script.chain[0].kind is Construct.IF
    assert len(script.chain) == 1 and script.chain[0].commands == script.commands


def test_loops_and_case():
    script = parse_script(
        "for p in $(cat pkgs); do pip install $p; done; while read l; do echo $l; done < f; "
        "until false; do break; done; case $x in a|b) echo ab ;; *) exit 1 ;; esac")
    by_name = {c.name: c for c in script.commands}
    assert by_name["cat"].scopes == (Scope.LOOP, Scope.COMMAND_SUBSTITUTION)
    assert by_name["pip"].scopes == (Scope.LOOP,)
    assert by_name["read"].scopes == (Scope.LOOP, Scope.CONDITION)
    assert by_name["false"].scopes == (Scope.LOOP, Scope.CONDITION)
    assert by_name["exit"].scopes == (Scope.CASE,) and by_name["exit"].next_operator == ";;"
    assert [link.kind for link in script.chain] == [Construct.LOOP] * 3 + [Construct.CASE]
    assert src(script, script.chain[1]) == "while read l; do echo $l; done < f"


def test_loop_bodies_and_headers():
    script = parse_script("while { read -r x; }; do echo $x; done; for ((i=$(a); i<3; i++)) { b; }")
    read, echo, a, b = script.commands
    assert read.scopes == (Scope.LOOP, Scope.CONDITION, Scope.BRACE_GROUP)
    assert echo.scopes == (Scope.LOOP,)
    assert a.scopes == (Scope.LOOP, Scope.COMMAND_SUBSTITUTION)
    assert b.scopes == (Scope.LOOP,)


def test_arithmetic_command_and_for_loop_records():
    script = parse_script("((jobs = $(nproc) + 1)) && for f in a b; do echo $f; done")
    (arithmetic,) = script.arithmetic_commands
    assert script.text[arithmetic.start:arithmetic.end] == "((jobs = $(nproc) + 1))"
    assert arithmetic.assigns and arithmetic.scopes == ()
    assert [link.kind for link in script.chain] == [Construct.ARITHMETIC, Construct.LOOP]
    assert script.commands[0].name == "nproc" and script.commands[0].in_substitution
    (loop,) = script.for_loops
    assert loop.variable == "f" and loop.assigns
    assert not parse_script("(( a < b ))").arithmetic_commands[0].assigns


def test_function_definition():
    script = parse_script("f() { cd /; make; }; function g { :; }; f")
    assert [f.name for f in script.functions] == ["f", "g"]
    assert script.commands[0].in_function and script.commands[0].scopes == (Scope.FUNCTION, Scope.BRACE_GROUP)
    assert script.commands[-1].name == "f" and script.commands[-1].at_top_level
    assert [link.kind for link in script.chain] == [Construct.FUNCTION, Construct.FUNCTION, Construct.COMMAND]


def test_pipeline():
    script = parse_script("curl -fsSL https://x | sh -s -- -y && echo done | tee log")
    curl, sh, echo, tee = script.commands
    assert curl.scopes == (Scope.PIPELINE,) and curl.next_operator == PIPE
    assert sh.prev_operator == PIPE and sh.next_operator == AND and sh.in_pipeline
    assert echo.prev_operator == AND and echo.next_operator == PIPE
    assert tee.prev_operator == PIPE and tee.next_operator is None
    assert [link.kind for link in script.chain] == [Construct.PIPELINE, Construct.PIPELINE]
    assert src(script, script.chain[0]) == "curl -fsSL https://x | sh -s -- -y"
    assert script.is_and_chain


def test_negation_and_or():
    script = parse_script("! grep -q x f || echo missing")
    grep, echo = script.commands
    assert grep.scopes == (Scope.NEGATION,) and grep.next_operator == OR
    assert echo.at_top_level and echo.prev_operator == OR
    assert script.chain[0].kind is Construct.NEGATION


def test_command_substitution_commands_are_listed_in_source_order():
    script = parse_script('make -j"$(nproc)" && VERSION=$(cat VERSION | tr -d v) ./build')
    assert [c.name for c in script.commands] == ["make", "nproc", "./build", "cat", "tr"]
    nproc = script.commands[1]
    assert nproc.in_substitution and nproc.scopes == (Scope.COMMAND_SUBSTITUTION,)
    cat = script.commands[3]
    assert cat.scopes == (Scope.COMMAND_SUBSTITUTION, Scope.PIPELINE)
    assert script.commands[0].args[0].text is None
    assert script.commands[2].assignments[0].value_text is None
    assert [c.link for c in script.commands] == [0, 0, 1, 1, 1]


def test_substitutions_everywhere():
    script = parse_script('echo "${X:-$(a)}" `b` <(c) >(d) > "$(e)"; case $(f) in $(g)) ;; esac')
    assert sorted(c.name for c in script.commands if c.in_substitution) == list("abcdefg")
    assert next(c for c in script.commands if c.name == "c").scopes == (Scope.PROCESS_SUBSTITUTION,)


# --- heredocs ---------------------------------------------------------------------

def test_heredoc_in_run_text():
    text = "cat > /etc/app.conf <<'EOF'\nkey = $value\n[section]\nEOF\nchmod 600 /etc/app.conf"
    script = parse_script(text)
    assert not script.has_error
    cat, chmod = script.commands
    assert cat.name == "cat" and chmod.name == "chmod"
    assert src(script, cat) == "cat > /etc/app.conf <<'EOF'\nkey = $value\n[section]\nEOF"
    assert script.text[:cat.append_at].endswith("<<'EOF'")
    heredoc_redirect = next(r for r in cat.redirects if r.heredoc)
    heredoc = heredoc_redirect.heredoc
    assert heredoc.delimiter == "EOF" and heredoc.quoted and not heredoc.strip_tabs
    assert text[heredoc.body_start:heredoc.body_end] == "key = $value\n[section]\n"
    assert text[heredoc.end - 3:heredoc.end] == "EOF"
    assert [r.target.text for r in cat.redirects if r.target] == ["/etc/app.conf"]
    assert text[heredoc_redirect.start:heredoc_redirect.end] == "<<'EOF'"
    assert chmod.prev_operator == NEWLINE


def test_appending_after_a_heredoc_goes_on_the_command_line():
    text = "cat <<EOF > /x\nhello\nEOF"
    script = parse_script(text)
    at = script.append_at
    extended = text[:at] + " && chmod 600 /x" + text[at:]
    assert extended == "cat <<EOF > /x && chmod 600 /x\nhello\nEOF"
    assert [c.name for c in parse_script(extended).commands] == ["cat", "chmod"]


def test_heredoc_followed_by_and_on_the_same_line():
    text = "cat <<EOF | sh && echo ok\napt-get update\nEOF\nls"
    script = parse_script(text)
    assert [c.name for c in script.commands] == ["cat", "sh", "echo", "ls"]
    cat, sh, echo, ls = script.commands
    assert cat.next_operator == PIPE and sh.next_operator == AND and echo.next_operator == NEWLINE
    assert ls.prev_operator == NEWLINE
    assert src(script, cat) == "cat <<EOF"
    assert [link.kind for link in script.chain] == [Construct.PIPELINE, Construct.COMMAND, Construct.COMMAND]
    assert [link.operator for link in script.chain] == [AND, NEWLINE, None]
    heredoc = cat.redirects[0].heredoc
    assert text[heredoc.body_start:heredoc.body_end] == "apt-get update\n"
    assert not heredoc.quoted


def test_unquoted_heredoc_body_substitutions_are_commands():
    script = parse_script("cat <<EOF > /v\nbuilt $(date)\nEOF")
    assert [c.name for c in script.commands] == ["cat", "date"]


def test_tab_stripping_heredoc():
    text = "cat <<-END >x\n\tline\n\tEND\necho"
    script = parse_script(text)
    heredoc = script.commands[0].redirects[0].heredoc
    assert heredoc.strip_tabs and heredoc.delimiter == "END"
    assert text[heredoc.body_start:heredoc.body_end] == "\tline\n"
    assert script.commands[1].name == "echo"


# --- comments, errors ----------------------------------------------------------

def test_comments():
    script = parse_script("apt-get update # refresh\napt-get install -y x")
    assert [script.text[s:e] for s, e in script.comments] == ["# refresh"]
    assert names(script.text) == ["apt-get", "apt-get"]
    assert parse_script("echo '#not a comment'").comments == ()


BROKEN = ["if x; then", "echo (", "a &&", "cat <<EOF", "echo 'unterminated", "case x in", "((",
          "$(", "for", "a | | b", "\x00\x01", "a && || b", "echo $(("]


@pytest.mark.parametrize("text", BROKEN)
def test_broken_input_is_flagged(text):
    script = parse_script(text)
    assert script.has_error
    assert script.error_spans


@pytest.mark.parametrize("text", [*BROKEN, "}", "fi", "\\", "", "   ", "\n\n", ";", "&&", "<<", "`", "'"])
def test_odd_input_never_raises(text):
    script = parse_script(text)
    for span in script.error_spans:
        assert 0 <= span.start <= span.end <= len(text)
    script.commands, script.chain, script.functions, script.errexit   # noqa: B018


def test_missing_token_is_reported():
    script = parse_script("if true; then")
    assert script.has_error
    assert [span.missing for span in script.error_spans] == ["fi"]


def test_commands_are_still_found_in_broken_input():
    script = parse_script("if true; then echo x")
    assert script.has_error
    assert [c.name for c in script.commands] == ["true", "echo"]


POWERSHELL = [
    ("$ErrorActionPreference = 'Stop'; [Net.ServicePointManager]::SecurityProtocol = "
     "[Net.SecurityProtocolType]::Tls12; Invoke-WebRequest -Uri $url -OutFile C:\\x.zip"),
    "if (-not (Test-Path C:\\app)) { New-Item -ItemType Directory -Path C:\\app }",
    "Get-ChildItem -Path C:\\ | ForEach-Object { Write-Host $_.Name } ; `\n  Remove-Item x",
    "powershell -Command \" `\n  $ErrorActionPreference = 'Stop'; `\n",
]


@pytest.mark.parametrize("text", POWERSHELL)
def test_powershell_is_flagged_or_at_least_survives(text):
    script = parse_script(text)
    assert script.has_error
    assert script.error_spans
    script.commands, script.chain   # noqa: B018


CRASHERS = ["{\U000d4b4bA}", "x{\U000d4b4b", "\x8f{\U000d4b4bA", "{\U00031860", "echo {a,\U0001F600}"]


def test_brace_then_astral_character_does_not_crash_the_process():
    # tree-sitter-bash#337: `{` then a 4-byte UTF-8 character makes the parser read
    # out of bounds and, depending on memory layout, kill the process; run in a child
    code = ("from dockopt.shell import parse_script\n"
            f"for text in {CRASHERS!r}:\n"
            "    for _ in range(300):\n"
            "        parse_script(text).commands\n")
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env,
                                capture_output=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr.decode(errors="replace")


def test_astral_characters_keep_their_values_and_offsets():
    script = parse_script("echo {a,😀} '\U0001d518' && touch 😀.txt")   # U+1D518 is an astral letter
    echo, touch = script.commands
    assert [w.text for w in echo.args] == ["{a,😀}", "\U0001d518"]
    assert touch.args[0].text == "😀.txt"
    assert script.text[touch.start:touch.end] == "touch 😀.txt"


def test_script_is_frozen():
    script = parse_script("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        script.text = "b"  # type: ignore[misc]


def test_commands_named():
    script = parse_script(APT)
    assert [c.arg_texts[0] for c in script.commands_named("apt-get")] == ["update", "install"]
    assert script.commands_named("pip") == ()


def test_parser_is_reused():
    from dockopt.shell.parse import _parser
    assert _parser() is _parser()


def test_for_loop_keeps_its_word_list_and_globs_name_the_directory_they_list() -> None:
    from dockopt.shell import parse_script
    from dockopt.shell.words import glob_base

    [loop] = parse_script('for f in conf/*.conf "lit*" /etc/[ab]* $X/*; do echo "$f"; done').for_loops
    assert [w.raw for w in loop.words] == ["conf/*.conf", '"lit*"', "/etc/[ab]*", "$X/*"]
    assert [glob_base(w) for w in loop.words] == [(True, "conf"), (False, None), (True, "/etc"), (True, None)]
    [echo] = parse_script("echo * 'a*' \\*").commands
    assert [glob_base(w) for w in echo.args] == [(True, ""), (False, None), (False, None)]


@pytest.mark.parametrize(("word", "prefix"), [
    ('"$GNUPGHOME"', ""),
    ("selenium-${V}.jar", "selenium-"),
    ("/var/lib/apt/$X", "/var/lib/apt/"),
    ("'/a b'/c*", "/a b/c"),
    ('/x/"y"$(echo z)', "/x/y"),
    ("\"a'b\"$X", "a'b"),
    ("'a\"b'$X", 'a"b'),
    (r'"a\$b\x"$X', r"a$b\x"),
    (r"a\ b$X", "a b"),
    ("/etc/plain", "/etc/plain"),
])
def test_literal_prefix_is_what_the_value_starts_with_for_sure(word: str, prefix: str) -> None:
    from dockopt.shell.words import literal_prefix

    rm = next(c for c in parse_script(f"rm {word}").commands if c.program == "rm")
    assert [literal_prefix(w) for w in rm.args] == [prefix]

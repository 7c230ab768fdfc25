"""leaks_state: which commands would change the shell of a RUN joined after this one."""
from __future__ import annotations

import pytest

from dockopt.shell import LeakKind, leaks_state, parse_script


def leaks(text: str) -> list[tuple[LeakKind, str]]:
    script = parse_script(text)
    return [(leak.kind, script.text[leak.start:leak.end]) for leak in leaks_state(script)]


@pytest.mark.parametrize(("text", "kind", "source"), [
    ("cd /src && make", LeakKind.DIRECTORY, "cd /src"),
    ("export PATH=/opt/bin:$PATH", LeakKind.VARIABLE, "export PATH=/opt/bin:$PATH"),
    ("A=b", LeakKind.VARIABLE, "A=b"),
    ("A=1 B=2", LeakKind.VARIABLE, "A=1 B=2"),
    ("VERSION=$(cat VERSION)", LeakKind.VARIABLE, "VERSION=$(cat VERSION)"),
    ("unset HTTP_PROXY", LeakKind.VARIABLE, "unset HTTP_PROXY"),
    ("readonly X=1", LeakKind.VARIABLE, "readonly X=1"),
    ("declare -x Y=2", LeakKind.VARIABLE, "declare -x Y=2"),
    ("read -r line < /etc/hostname", LeakKind.VARIABLE, "read -r line < /etc/hostname"),
    ("printf -v now '%s' x", LeakKind.VARIABLE, "printf -v now '%s' x"),
    ("set -eux; apt-get update", LeakKind.OPTION, "set -eux"),
    ("set -o pipefail", LeakKind.OPTION, "set -o pipefail"),
    ("set -- a b", LeakKind.VARIABLE, "set -- a b"),
    ("shopt -s globstar", LeakKind.OPTION, "shopt -s globstar"),
    ("umask 0002", LeakKind.UMASK, "umask 0002"),
    ("ulimit -n 4096", LeakKind.ULIMIT, "ulimit -n 4096"),
    ("source /etc/profile", LeakKind.SOURCE, "source /etc/profile"),
    (". /opt/venv/bin/activate", LeakKind.SOURCE, ". /opt/venv/bin/activate"),
    ("eval \"$(ssh-agent -s)\"", LeakKind.EVAL, "eval \"$(ssh-agent -s)\""),
    ("exec >/var/log/build.log 2>&1", LeakKind.EXEC, "exec >/var/log/build.log 2>&1"),
    ("exec nginx -g 'daemon off;'", LeakKind.EXEC, "exec nginx -g 'daemon off;'"),
    ("exit 0", LeakKind.EXIT, "exit 0"),
    ("trap 'rm -rf /tmp/x' EXIT", LeakKind.TRAP, "trap 'rm -rf /tmp/x' EXIT"),
    ("alias ll='ls -l'", LeakKind.ALIAS, "alias ll='ls -l'"),
    ("unalias ls", LeakKind.ALIAS, "unalias ls"),
    ("f() { echo hi; }", LeakKind.FUNCTION, "f() { echo hi; }"),
    ("dockerd & sleep 5", LeakKind.BACKGROUND_JOB, "dockerd"),
    ("command cd /x", LeakKind.DIRECTORY, "command cd /x"),
    ("A=b :", LeakKind.VARIABLE, "A=b :"),
])
def test_leaking_commands(text, kind, source):
    assert leaks(text) == [(kind, source)]


@pytest.mark.parametrize("text", [
    "A=b make",                               # prefix assignment: only for make
    "DEBIAN_FRONTEND=noninteractive apt-get install -y tzdata",
    "(cd x && make) && touch y",              # subshell
    "x=1 sh -c 'cd /; export A=b'",           # another shell
    "echo $(cd /tmp && pwd)",                 # command substitution
    "cd /x | cat",                            # pipeline element: a subshell in bash and dash
    "sudo cd /x",                             # a separate program
    "env A=b make",
    "set", "set -o", "ulimit -a", "umask", "shopt globstar", "alias", "trap -p",
    "sleep 1 & wait",                         # the job ends before the RUN does
    "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
    "echo cd /x",
    "f() ( cd /x ); true",                    # the definition leaks, not the cd inside it
])
def test_non_leaking(text):
    found = leaks(text)
    if text.startswith("f()"):
        assert [kind for kind, _ in found] == [LeakKind.FUNCTION]
    else:
        assert found == []


def test_pushd_and_popd_both_change_the_directory():
    assert leaks("pushd /src && make && popd") == [(LeakKind.DIRECTORY, "pushd /src"),
                                                   (LeakKind.DIRECTORY, "popd")]


def test_commands_in_function_bodies_are_not_reported_but_the_definition_is():
    assert leaks("f() { cd /; export A=1; }") == [(LeakKind.FUNCTION, "f() { cd /; export A=1; }")]


def test_conditional_commands_leak():
    assert leaks("if [ -d /src ]; then cd /src; fi") == [(LeakKind.DIRECTORY, "cd /src")]
    assert leaks("test -d /src && cd /src || true") == [(LeakKind.DIRECTORY, "cd /src")]
    assert leaks("{ cd /src; make; }") == [(LeakKind.DIRECTORY, "cd /src")]
    assert leaks("for d in a b; do cd $d; done") == [(LeakKind.VARIABLE, "for d in a b; do cd $d; done"),
                                                     (LeakKind.DIRECTORY, "cd $d")]


def test_for_loops_and_arithmetic_leave_variables_set():
    script = parse_script("for whl in /tmp/*.whl; do pip install $whl; done")
    (loop,) = leaks_state(script)
    assert loop.kind is LeakKind.VARIABLE and "$whl" in loop.reason and loop.command is None
    assert leaks("for ((i = 0; i < 3; i++)); do :; done")[0][0] is LeakKind.VARIABLE
    assert leaks("for ((;;)); do break; done") == []
    assert leaks("((n = $(nproc) * 2))") == [(LeakKind.VARIABLE, "((n = $(nproc) * 2))")]
    assert leaks("(( $(nproc) > 2 )) && make -j") == []
    assert leaks("(for x in a; do :; done)") == []


def test_several_leaks_in_source_order_with_reasons():
    script = parse_script("set -e; cd /app; export A=1; make; umask 022")
    found = leaks_state(script)
    assert [leak.kind for leak in found] == [LeakKind.OPTION, LeakKind.DIRECTORY, LeakKind.VARIABLE,
                                            LeakKind.UMASK]
    assert all(leak.reason for leak in found)
    assert found[1].command is not None and found[1].command.name == "cd"
    assert "working directory" in found[1].reason


def test_background_job_spans_its_whole_and_or_list():
    assert leaks("cd /srv && ./server & sleep 1") == [(LeakKind.BACKGROUND_JOB, "cd /srv && ./server")]


def test_nested_background_job_and_job_in_a_function():
    assert leaks("{ sleep 100 & } ; true") == [(LeakKind.BACKGROUND_JOB, "sleep 100")]
    assert leaks("start() { dockerd & }") == [(LeakKind.FUNCTION, "start() { dockerd & }")]


def test_function_defined_in_a_subshell_does_not_leak():
    assert leaks("( f() { :; }; f )") == []


def test_broken_script_does_not_raise():
    leaks_state(parse_script("if cd /x; then"))
    leaks_state(parse_script("Write-Host 'a' ; `"))

"""Shell state a script leaves behind: what would change if the next RUN were joined to it.

Each RUN starts a fresh shell. Once two RUNs are joined (``a && b``), whatever
the first one changes in its shell (directory, variables, options, traps,
functions, open descriptors, background jobs) is still in force for the
second; :func:`leaks_state` lists the commands that do that.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from .model import SUBSHELL_SCOPES, Scope, SimpleCommand
from .parse import Script

__all__ = ["Leak", "LeakKind", "leaks_state"]


class LeakKind(enum.Enum):
    DIRECTORY = "directory"        # cd, pushd, popd
    VARIABLE = "variable"          # A=b, export, unset, readonly, declare, read, ...
    OPTION = "option"              # set, shopt
    UMASK = "umask"
    ULIMIT = "ulimit"
    SOURCE = "source"              # source / . run a file in this shell
    EVAL = "eval"                  # eval runs a string in this shell
    EXEC = "exec"                  # exec replaces the shell or rewires its descriptors
    EXIT = "exit"                  # exit / return / logout end the shell early
    TRAP = "trap"
    ALIAS = "alias"                # alias, unalias
    FUNCTION = "function"          # a function definition
    BACKGROUND_JOB = "background_job"  # cmd & keeps running while the next command runs


@dataclass(frozen=True, slots=True)
class Leak:
    kind: LeakKind
    reason: str
    start: int
    end: int
    command: SimpleCommand | None    # None for a function definition, a for loop, (( )), a whole job


_DIRECTORY = frozenset({"cd", "pushd", "popd"})
_VARIABLE_BUILTINS = {
    "export": "export changes the environment of later commands",
    "unset": "unset removes variables or functions",
    "readonly": "readonly sets read-only variables",
    "declare": "declare sets variables",
    "typeset": "typeset sets variables",
    "read": "read assigns variables",
    "mapfile": "mapfile assigns an array",
    "readarray": "readarray assigns an array",
    "let": "let assigns variables",
    "getopts": "getopts assigns variables",
    "shift": "shift changes the positional parameters",
}
_JOB_REASON = "a background job started here would still run during the next command"
_EXIT = frozenset({"exit", "return", "logout"})
# POSIX special built-ins: a prefix assignment before one of them stays set in
# the shell (dash, the usual /bin/sh, does this; bash only in POSIX mode)
_SPECIAL_BUILTINS = frozenset({
    ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly",
    "return", "set", "shift", "times", "trap", "unset",
})
# wrappers that keep a builtin in the current shell (`command cd x` still changes directory);
# sudo, env, nohup, nice run a separate program instead
_SHELL_KEEPING_WRAPPERS = frozenset({"command", "builtin", "time"})


def leaks_state(script: Script) -> list[Leak]:
    """The commands whose effect on the shell would outlive their RUN if it were joined to the next.

    Commands inside ``( )``, ``$( )``, ``<( )``, a pipeline or an ``&`` job run
    in a child shell and do not leak (the job itself does: it keeps running);
    commands inside a function body only run when it is called, so the
    definition is reported instead.  Commands in if/case/loop bodies are
    reported: they leak whenever they run.
    """
    leaks = _command_leaks(script) + _construct_leaks(script)
    leaks.sort(key=lambda leak: (leak.start, leak.end))
    return leaks


def _command_leaks(script: Script) -> list[Leak]:
    leaks: list[Leak] = []
    commands = script.commands
    # a top-level `wait` after a job waits for it, so the job ends within the RUN
    last_wait = max((c.start for c in commands if c.name == "wait" and not c.args
                     and not c.runs_in_subshell), default=-1)
    reported_jobs: set[int] = set()
    for command in commands:
        if command.in_function:
            continue           # runs only if the function is called: the definition is reported
        if command.in_background and command.start > last_wait:
            leaks += _job_leak(script, command, reported_jobs)
        if command.runs_in_subshell:
            continue
        leak = _command_leak(command)
        if leak is not None:
            leaks.append(leak)
    return leaks


def _job_leak(script: Script, command: SimpleCommand, reported_jobs: set[int]) -> list[Leak]:
    if command.scopes[0] is not Scope.BACKGROUND:
        return [Leak(LeakKind.BACKGROUND_JOB, _JOB_REASON, command.start, command.end, command)]
    # `a && b &` at the top level is one job over several links: report it once
    first, last = _job_links(script, command.link)
    if last in reported_jobs:
        return []
    reported_jobs.add(last)
    return [Leak(LeakKind.BACKGROUND_JOB, _JOB_REASON, script.chain[first].start, script.chain[last].end, None)]


def _in_main_shell(scopes: tuple[Scope, ...]) -> bool:
    return not any(s in SUBSHELL_SCOPES or s is Scope.FUNCTION for s in scopes)


def _construct_leaks(script: Script) -> list[Leak]:
    leaks = [Leak(LeakKind.VARIABLE, "(( )) assigns variables", a.start, a.end, None)
             for a in script.arithmetic_commands if a.assigns and _in_main_shell(a.scopes)]
    for loop in script.for_loops:
        if loop.assigns and _in_main_shell(loop.scopes):
            what = f"${loop.variable}" if loop.variable else "its variables"
            leaks.append(Leak(LeakKind.VARIABLE, f"the for loop leaves {what} set", loop.start, loop.end, None))
    # a definition inside a function only happens when that function is called
    leaks += [Leak(LeakKind.FUNCTION, f"defines function {f.name}", f.start, f.end, None)
              for f in script.functions if _in_main_shell(f.scopes)]
    return leaks


def _job_links(script: Script, link: int) -> tuple[int, int]:
    """First and last chain link of the and-or list that `&` sends to the background."""
    chain = script.chain
    last = link
    while last < len(chain) - 1 and chain[last].operator in ("&&", "||"):
        last += 1
    first = link
    while first > 0 and chain[first - 1].operator in ("&&", "||"):
        first -= 1
    return first, last


_Verdict = tuple[LeakKind, str] | None
_Args = list[str | None]


def _set(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if not args or args in (["-o"], ["+o"]):
        return None        # only lists variables or options
    if args[0] == "--" or (args[0] is not None and args[0][:1] not in "-+"):
        return LeakKind.VARIABLE, "set changes the positional parameters"
    return LeakKind.OPTION, "set changes shell options"


def _shopt(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if any(a in ("-s", "-u") or (a and a.startswith("-") and ("s" in a or "u" in a)) for a in args):
        return LeakKind.OPTION, "shopt changes shell options"
    return None


def _umask(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if (args and args[0] is not None and args[0] not in ("-S", "-p")) or len(args) > 1:
        return LeakKind.UMASK, "umask changes the file mode mask of later commands"
    return None


def _ulimit(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    # `ulimit` / `ulimit -a` / `ulimit -n` only print
    if any(a is None or not a.startswith("-") for a in args):
        return LeakKind.ULIMIT, "ulimit changes resource limits of later commands"
    return None


def _exec(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if args:
        return LeakKind.EXEC, "exec replaces the shell: nothing after it runs"
    if command.redirects:
        return LeakKind.EXEC, "exec redirects the shell's own file descriptors"
    return None


def _trap(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if args and args[0] not in ("-l", "-p"):
        return LeakKind.TRAP, "trap sets a handler that fires later (at EXIT: after the next command)"
    return None


def _alias(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if name == "unalias" or any(a is None or "=" in a for a in args):
        return LeakKind.ALIAS, f"{name} changes aliases"
    return None


def _printf(name: str, args: _Args, command: SimpleCommand) -> _Verdict:
    if args and args[0] is not None and args[0].startswith("-v"):
        return LeakKind.VARIABLE, "printf -v assigns a variable"
    return None


def _always(kind: LeakKind, reason: str) -> Callable[[str, _Args, SimpleCommand], _Verdict]:
    return lambda name, args, command: (kind, reason.format(name=name))


# what each builtin leaks, by name
_BUILTINS: dict[str, Callable[[str, _Args, SimpleCommand], _Verdict]] = {
    **{name: _always(LeakKind.DIRECTORY, "{name} changes the working directory") for name in _DIRECTORY},
    **{name: _always(LeakKind.VARIABLE, reason) for name, reason in _VARIABLE_BUILTINS.items()},
    **{name: _always(LeakKind.EXIT, "{name} ends the shell: nothing after it runs") for name in _EXIT},
    "printf": _printf, "set": _set, "shopt": _shopt, "umask": _umask, "ulimit": _ulimit,
    "source": _always(LeakKind.SOURCE, "{name} runs a file in the current shell"),
    ".": _always(LeakKind.SOURCE, "{name} runs a file in the current shell"),
    "eval": _always(LeakKind.EVAL, "eval runs code in the current shell"),
    "exec": _exec, "trap": _trap, "alias": _alias, "unalias": _alias,
}


def _command_leak(command: SimpleCommand) -> Leak | None:
    names = ", ".join(a.name for a in command.assignments)
    verdict: _Verdict = None
    if command.name_index is None:
        if command.assignments:
            verdict = LeakKind.VARIABLE, f"assignment to {names} stays set in the shell"
    elif all(w.text in _SHELL_KEEPING_WRAPPERS for w in command.wrappers):
        name = command.name or ""
        if name in _SPECIAL_BUILTINS and command.assignments:
            verdict = (LeakKind.VARIABLE,
                       f"assignment to {names} before the special built-in {name} stays set in POSIX sh")
        elif name in _BUILTINS:
            verdict = _BUILTINS[name](name, [w.text for w in command.args], command)
    if verdict is None:
        return None
    kind, reason = verdict
    return Leak(kind, reason, command.start, command.end, command)

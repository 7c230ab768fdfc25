"""Shell state a script leaves behind: what would change if the next RUN were joined to it.

Each RUN starts a fresh shell. Once two RUNs are joined (``a && b``), whatever
the first one changes in its shell (directory, variables, options, traps,
functions, open descriptors, background jobs) is still in force for the
second; :func:`leaks_state` lists the commands that do that.
"""
from __future__ import annotations

import enum
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
            if command.scopes[0] is Scope.BACKGROUND:
                # `a && b &` at the top level is one job over several links: report it once
                first, last = _job_links(script, command.link)
                if last not in reported_jobs:
                    reported_jobs.add(last)
                    leaks.append(Leak(LeakKind.BACKGROUND_JOB, _JOB_REASON,
                                      script.chain[first].start, script.chain[last].end, None))
            else:
                leaks.append(Leak(LeakKind.BACKGROUND_JOB, _JOB_REASON, command.start, command.end,
                                  command))
        if command.runs_in_subshell:
            continue
        leak = _command_leak(command)
        if leak is not None:
            leaks.append(leak)
    for arithmetic in script.arithmetic_commands:
        if arithmetic.assigns and not any(s in SUBSHELL_SCOPES or s is Scope.FUNCTION
                                          for s in arithmetic.scopes):
            leaks.append(Leak(LeakKind.VARIABLE, "(( )) assigns variables",
                              arithmetic.start, arithmetic.end, None))
    for loop in script.for_loops:
        if loop.assigns and not any(s in SUBSHELL_SCOPES or s is Scope.FUNCTION for s in loop.scopes):
            what = f"${loop.variable}" if loop.variable else "its variables"
            leaks.append(Leak(LeakKind.VARIABLE, f"the for loop leaves {what} set",
                              loop.start, loop.end, None))
    for function in script.functions:
        # a definition inside a function only happens when that function is called
        if not any(s in SUBSHELL_SCOPES or s is Scope.FUNCTION for s in function.scopes):
            leaks.append(Leak(LeakKind.FUNCTION, f"defines function {function.name}",
                              function.start, function.end, None))
    leaks.sort(key=lambda leak: (leak.start, leak.end))
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


def _command_leak(command: SimpleCommand) -> Leak | None:
    def leak(kind: LeakKind, reason: str) -> Leak:
        return Leak(kind, reason, command.start, command.end, command)

    if command.name_index is None:
        if command.assignments:
            names = ", ".join(a.name for a in command.assignments)
            return leak(LeakKind.VARIABLE, f"assignment to {names} stays set in the shell")
        return None
    if any(w.text not in _SHELL_KEEPING_WRAPPERS for w in command.wrappers):
        return None
    name = command.name
    args = [w.text for w in command.args]
    if name in _SPECIAL_BUILTINS and command.assignments:
        names = ", ".join(a.name for a in command.assignments)
        return leak(LeakKind.VARIABLE,
                    f"assignment to {names} before the special built-in {name} stays set in POSIX sh")
    if name in _DIRECTORY:
        return leak(LeakKind.DIRECTORY, f"{name} changes the working directory")
    if name in _VARIABLE_BUILTINS:
        return leak(LeakKind.VARIABLE, _VARIABLE_BUILTINS[name])
    if name == "printf" and args and args[0] is not None and args[0].startswith("-v"):
        return leak(LeakKind.VARIABLE, "printf -v assigns a variable")
    if name == "set":
        if not args or args in (["-o"], ["+o"]):
            return None        # only lists variables or options
        if args[0] == "--" or (args[0] is not None and args[0][:1] not in "-+"):
            return leak(LeakKind.VARIABLE, "set changes the positional parameters")
        return leak(LeakKind.OPTION, "set changes shell options")
    if name == "shopt":
        if any(a in ("-s", "-u") or (a and a.startswith("-") and ("s" in a or "u" in a)) for a in args):
            return leak(LeakKind.OPTION, "shopt changes shell options")
        return None
    if name == "umask":
        if args and args[0] is not None and args[0] not in ("-S", "-p"):
            return leak(LeakKind.UMASK, "umask changes the file mode mask of later commands")
        if len(args) > 1:
            return leak(LeakKind.UMASK, "umask changes the file mode mask of later commands")
        return None
    if name == "ulimit":
        # `ulimit` / `ulimit -a` / `ulimit -n` only print
        if any(a is None or not a.startswith("-") for a in args):
            return leak(LeakKind.ULIMIT, "ulimit changes resource limits of later commands")
        return None
    if name in ("source", "."):
        return leak(LeakKind.SOURCE, f"{name} runs a file in the current shell")
    if name == "eval":
        return leak(LeakKind.EVAL, "eval runs code in the current shell")
    if name == "exec":
        if args:
            return leak(LeakKind.EXEC, "exec replaces the shell: nothing after it runs")
        if command.redirects:
            return leak(LeakKind.EXEC, "exec redirects the shell's own file descriptors")
        return None
    if name in _EXIT:
        return leak(LeakKind.EXIT, f"{name} ends the shell: nothing after it runs")
    if name == "trap":
        if args and args[0] not in ("-l", "-p"):
            return leak(LeakKind.TRAP, "trap sets a handler that fires later (at EXIT: after the next command)")
        return None
    if name in ("alias", "unalias"):
        if name == "unalias" or any(a is None or "=" in a for a in args):
            return leak(LeakKind.ALIAS, f"{name} changes aliases")
        return None
    return None

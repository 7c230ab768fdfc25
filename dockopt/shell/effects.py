"""What one simple command reads, writes and deletes, as far as the model knows it.

Paths are as the command names them (relative to the directory it runs in unless absolute; an
`rm` keeps its globs). A command the model does not know is *not modelled*: it may read or
write anything, and whoever asks must treat it that way. Package managers write the system
directories (`SYSTEM_DIRS`), never a project's; the dependency installers of the languages
(`npm ci`, `pip install -r`) are left to the layer that knows each ecosystem.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .fileops import (
    ChownCommand,
    compiler_output,
    extracted_archive,
    parse_chmod,
    parse_chown,
    parse_copy,
    parse_rm,
    written_files,
)
from .model import SimpleCommand
from .options import SPECS, parse_arguments
from .pkg import ToolCommand, parse_tool

__all__ = ["SYSTEM_DIRS", "SYSTEM_MANAGERS", "CommandEffects", "PathUse", "command_effects"]

# where package managers, user management and system configuration write
SYSTEM_DIRS = ("/usr", "/etc", "/var", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/run",
               "/tmp", "/home", "/root")
SYSTEM_MANAGERS = frozenset({"apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "tdnf", "dnf5",
                             "zypper"})
# commands that touch no file (beyond their redirections)
_NO_FILES = frozenset({
    "echo", "printf", "true", "false", ":", "sleep", "exit", "return", "set", "export",
    "unset", "shift", "cd", "pwd", "type", "which", "id", "whoami", "uname", "date", "nproc", "wait",
    "trap", "umask", "ulimit", "alias", "unalias", "hash", "read", "local", "readonly", "declare",
    "typeset", "getent", "arch", "hostname", "env", "printenv", "logger", "seq", "yes", "basename",
    "dirname", "realpath", "readlink",
})
# commands that only read the files they name
_READERS = frozenset({"cat", "head", "tail", "wc", "ls", "stat", "file", "md5sum", "sha1sum",
                      "sha256sum", "sha512sum", "cmp", "diff", "du"})
# system configuration: writes under /etc (and the home directories for user management)
_SYSTEM_PROGRAMS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod",
                              "userdel", "groupdel", "deluser", "delgroup", "chpasswd", "passwd",
                              "ldconfig", "update-ca-certificates", "locale-gen", "localedef", "apt-key",
                              "update-alternatives", "dpkg-reconfigure", "update-locale"})


@dataclass(frozen=True, slots=True)
class PathUse:
    """A path a command uses."""

    path: str               # as named: relative to the command's directory unless absolute
    via: str                # the program (`curl`), `redirect`, or the manager (`apt-get update`)
    what: str = ""          # for messages: `curl -o x`
    tree: bool = False      # the directory and everything in it


@dataclass(frozen=True, slots=True)
class CommandEffects:
    command: SimpleCommand
    reads: tuple[PathUse, ...] = ()
    writes: tuple[PathUse, ...] = ()
    deletes: tuple[PathUse, ...] = ()
    tool: ToolCommand | None = None
    modelled: bool = True
    reason: str = ""        # why it is not modelled


def command_effects(command: SimpleCommand) -> CommandEffects:
    """The files `command` reads, writes and deletes (its redirections included)."""
    reads, writes = _redirections(command)
    program = command.program
    if program is None:
        if command.name_index is None:      # assignments or redirections alone
            return CommandEffects(command, reads, writes)
        return CommandEffects(command, reads, writes, modelled=False,
                              reason="the command's name is only known at run time")
    tool = parse_tool(command)
    if tool is not None:
        return _tool_effects(command, tool, reads, writes)
    effects = _program_effects(command, program)
    if effects is None:
        return CommandEffects(command, reads, writes, modelled=False, reason=f"`{program}` is not modelled")
    more_reads, more_writes, deletes = effects
    return CommandEffects(command, reads + more_reads, writes + more_writes, deletes)


def _redirections(command: SimpleCommand) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]]:
    reads: list[PathUse] = []
    writes: list[PathUse] = []
    for r in command.redirects:
        if r.heredoc is not None or r.target is None:
            continue
        target = r.target.text
        if target is None or target.startswith(("/dev/", "/proc/", "&")) or r.operator in (">&", "<&"):
            continue
        if r.operator in (">", ">>", "&>", "&>>", ">|") and r.fd in (None, 1, 2):
            writes.append(PathUse(target, "redirect", f"`{command.program or 'a command'} > {target}`"))
        elif r.operator == "<":
            reads.append(PathUse(target, "redirect"))
    return tuple(reads), tuple(writes)


def _tool_effects(command: SimpleCommand, tool: ToolCommand, reads: tuple[PathUse, ...],
                  writes: tuple[PathUse, ...]) -> CommandEffects:
    if tool.manager not in SYSTEM_MANAGERS:
        return CommandEffects(command, reads, writes, tool=tool, modelled=False,
                              reason=f"what `{tool.manager}` installs is the ecosystem's to say")
    via = f"{tool.manager} {tool.subcommand or ''}".strip()
    system = tuple(PathUse(d, via, tree=True) for d in SYSTEM_DIRS)
    files = tuple(PathUse(f.path, via) for f in tool.files)
    if tool.manager in ("apt-get", "apt") and tool.subcommand == "update":
        system = (PathUse("/var/lib/apt/lists", "apt-get update", "`apt-get update`", tree=True), *system)
    return CommandEffects(command, reads + files, writes + system, tool=tool)


_Uses = tuple[tuple[PathUse, ...], tuple[PathUse, ...], tuple[PathUse, ...]]


def _program_effects(command: SimpleCommand, program: str) -> _Uses | None:
    """(reads, writes, deletes) of a program the model knows; None for any other."""
    if program == "cd":
        # it fails when the directory is missing: what it changes to is read
        targets = [w.text for w in command.args if w.text and w.text != "-" and not w.text.startswith("-")]
        return tuple(PathUse(t, "cd", f"`cd {t}`", tree=False) for t in targets[:1]), (), ()
    if program in _NO_FILES:
        return (), (), ()
    if program in ("test", "["):
        return _test_reads(command), (), ()
    if program in _SYSTEM_PROGRAMS:
        return (), tuple(PathUse(d, program, tree=True) for d in ("/etc", "/home", "/var", "/usr")), ()
    if any(w.text is None for w in command.args):
        return None
    if program in _READERS:
        # `ls` and `du` alone list the directory they run in
        operands = _operands(command) or ((".",) if program in ("ls", "du") else ())
        return tuple(PathUse(p, program, tree=p == ".") for p in operands), (), ()
    reader = _PROGRAMS.get(program)
    if reader is not None:
        return reader(command, program)
    return _download_or_compile(command, program)


# `test` operators that look at a file (unary: the next word; binary: both sides)
_TEST_FILE_OPS = frozenset({"-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-b", "-c", "-p", "-S", "-g",
                            "-u", "-k", "-O", "-G", "-N"})
_TEST_FILE_PAIRS = frozenset({"-nt", "-ot", "-ef"})


def _test_reads(command: SimpleCommand) -> tuple[PathUse, ...]:
    """The files a `test` / `[` looks at (its result depends on them)."""
    words = [w.text for w in command.args]
    paths = []
    for i, word in enumerate(words):
        if word in _TEST_FILE_OPS and i + 1 < len(words):
            paths.append(words[i + 1])
        elif word in _TEST_FILE_PAIRS and 0 < i < len(words) - 1:
            paths += [words[i - 1], words[i + 1]]
    return tuple(PathUse(p, command.program or "test") for p in paths if p)


def _operands(command: SimpleCommand) -> tuple[str, ...]:
    return tuple(w.text for w in command.args if w.text is not None and not w.text.startswith("-"))


def _rm_effects(command: SimpleCommand, program: str) -> _Uses | None:
    rm = parse_rm(command)
    assert rm is not None
    return (), (), tuple(PathUse(w.text or "", "rm", tree=rm.recursive) for w in rm.paths)


def _create_effects(command: SimpleCommand, program: str) -> _Uses | None:
    parsed = parse_arguments(command.args, SPECS[program])
    return (), tuple(PathUse(w.text or "", program) for w in parsed.operands), ()


def _mode_effects(command: SimpleCommand, program: str) -> _Uses | None:
    changed = parse_chmod(command) if program == "chmod" else parse_chown(command)
    assert changed is not None
    writes = tuple(PathUse(w.text or "", program, tree=changed.recursive) for w in changed.targets)
    return _owner_lookups(changed) if isinstance(changed, ChownCommand) else (), writes, ()


def _owner_lookups(changed: ChownCommand) -> tuple[PathUse, ...]:
    """A chown/chgrp to a user or group name looks it up in /etc/passwd and /etc/group."""
    names = [n for n in (changed.owner, changed.group) if n]
    if changed.reference is not None:
        return (PathUse(changed.reference, changed.command.program or "chown"),)
    if not names or all(n.isdigit() for n in names):
        return ()
    return tuple(PathUse(p, changed.command.program or "chown") for p in ("/etc/passwd", "/etc/group"))


def _download_or_compile(command: SimpleCommand, program: str) -> _Uses | None:
    written = written_files(command)
    if written or program in ("curl", "wget"):
        archive = extracted_archive(command)
        reads = (PathUse(archive, program, f"`{program}` extracting {archive}"),) if archive else ()
        return reads, tuple(PathUse(w.path, program, w.what, w.tree) for w in written), ()
    output = compiler_output(command)
    if output is not None and output != "$":
        sources = tuple(PathUse(p, program) for p in _operands(command))
        return sources, (PathUse(output, program),), ()
    return None


def _copy_effects(command: SimpleCommand, program: str) -> _Uses | None:
    copy = parse_copy(command)
    if copy is None:
        return None
    recursive = program != "ln" and any(f.name in ("-r", "-R", "-a", "--recursive", "--archive")
                                        for f in copy.flags)
    reads = tuple(PathUse(s, program, tree=recursive) for s, _ in copy.pairs) if program != "ln" else ()
    writes = tuple(PathUse(d, program, tree=recursive) for _, d in copy.pairs)
    deletes = tuple(PathUse(s, program, tree=True) for s, _ in copy.pairs) if program == "mv" else ()
    return reads, writes, deletes


_PROGRAMS: dict[str, Callable[[SimpleCommand, str], _Uses | None]] = {
    "rm": _rm_effects,
    "mkdir": _create_effects, "touch": _create_effects,
    "chown": _mode_effects, "chgrp": _mode_effects, "chmod": _mode_effects,
    "cp": _copy_effects, "mv": _copy_effects, "install": _copy_effects, "ln": _copy_effects,
}

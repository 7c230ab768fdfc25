"""The shell model: every shell-form RUN parsed once with tree-sitter-bash.

Offsets are ``str`` indices into the parsed text, so spans slice back to the
source and fixes can edit only what they must.

* :func:`parse_script` → :class:`Script` (commands, top-level chain, errors, set -e,
  comments, functions, for loops, ``(( ))`` commands)
* :func:`leaks_state` → what would leak into a RUN joined after this one
* :func:`parse_tool` / :func:`tool_commands` → package managers and dependency installers
* :func:`parse_rm`, :func:`parse_chown`, :func:`parse_chmod`, :func:`parse_copy`,
  :func:`written_files`, :func:`compiler_output` → file commands, downloads, unpacking
* :func:`command_effects` → what one command reads, writes and deletes (or that it is not modelled)
* :func:`is_posix_shell` / :func:`classify_shell` → whether a ``SHELL`` can be modelled at all
"""
from .effects import SYSTEM_DIRS, SYSTEM_MANAGERS, CommandEffects, PathUse, command_effects
from .fileops import (
    ChmodCommand,
    ChownCommand,
    CopyCommand,
    RemoveCommand,
    Written,
    compiler_output,
    parse_chmod,
    parse_chown,
    parse_copy,
    parse_rm,
    url_name,
    written_files,
)
from .leaks import Leak, LeakKind, leaks_state
from .model import (
    AND,
    BACKGROUND,
    NEWLINE,
    OR,
    PIPE,
    PIPE_STDERR,
    SEMICOLON,
    ArithmeticCommand,
    Assignment,
    ChainLink,
    Construct,
    ForLoop,
    FunctionDefinition,
    Heredoc,
    Redirect,
    Scope,
    SimpleCommand,
    Word,
)
from .options import SPECS, Flag, OptionSpec, parse_arguments
from .parse import ErrorSpan, Script, parse_script, set_option_changes
from .pkg import FileArgument, Package, ToolCommand, parse_tool, tool_commands
from .shells import ShellKind, classify_shell, is_posix_shell

__all__ = [
    "AND", "BACKGROUND", "NEWLINE", "OR", "PIPE", "PIPE_STDERR", "SEMICOLON", "SPECS", "SYSTEM_DIRS",
    "SYSTEM_MANAGERS", "ArithmeticCommand", "Assignment", "ChainLink", "ChmodCommand", "ChownCommand",
    "CommandEffects", "Construct", "CopyCommand", "ErrorSpan", "FileArgument", "Flag", "ForLoop",
    "FunctionDefinition", "Heredoc", "Leak", "LeakKind", "OptionSpec", "Package", "PathUse", "Redirect",
    "RemoveCommand", "Scope", "Script", "ShellKind", "SimpleCommand", "ToolCommand", "Word", "Written",
    "classify_shell", "command_effects", "compiler_output", "is_posix_shell", "leaks_state",
    "parse_arguments", "parse_chmod", "parse_chown", "parse_copy", "parse_rm", "parse_script", "parse_tool",
    "set_option_changes", "tool_commands", "url_name", "written_files",
]

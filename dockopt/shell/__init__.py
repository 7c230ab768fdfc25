"""The shell model: every shell-form RUN parsed once with tree-sitter-bash.

Offsets are ``str`` indices into the parsed text, so spans slice back to the
source and fixes can edit only what they must.

* :func:`parse_script` → :class:`Script` (commands, top-level chain, errors, set -e,
  comments, functions, for loops, ``(( ))`` commands)
* :func:`leaks_state` → what would leak into a RUN joined after this one
* :func:`parse_tool` / :func:`tool_commands` → package managers and dependency installers
* :func:`parse_rm`, :func:`parse_chown`, :func:`parse_chmod` → file commands
* :func:`is_posix_shell` / :func:`classify_shell` → whether a ``SHELL`` can be modelled at all
"""
from .fileops import (
    ChmodCommand,
    ChownCommand,
    RemoveCommand,
    parse_chmod,
    parse_chown,
    parse_rm,
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
from .options import Flag, OptionSpec, parse_arguments
from .parse import ErrorSpan, Script, parse_script, set_option_changes
from .pkg import FileArgument, Package, ToolCommand, parse_tool, tool_commands
from .shells import ShellKind, classify_shell, is_posix_shell

__all__ = [
    "AND", "BACKGROUND", "NEWLINE", "OR", "PIPE", "PIPE_STDERR", "SEMICOLON",
    "ArithmeticCommand", "Assignment", "ChainLink", "ChmodCommand", "ChownCommand", "Construct", "ErrorSpan",
    "FileArgument", "Flag", "ForLoop", "FunctionDefinition", "Heredoc", "Leak", "LeakKind", "OptionSpec",
    "Package", "Redirect", "RemoveCommand", "Scope", "Script", "ShellKind", "SimpleCommand",
    "ToolCommand", "Word", "classify_shell", "is_posix_shell", "leaks_state", "parse_arguments",
    "parse_chmod", "parse_chown", "parse_rm", "parse_script", "parse_tool", "set_option_changes",
    "tool_commands",
]

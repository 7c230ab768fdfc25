"""A parsed shell script: its commands, top-level chain, errors, comments and shell options."""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .model import AND, SEMICOLON, ArithmeticCommand, ChainLink, ForLoop, FunctionDefinition, SimpleCommand
from .walk import Builder

if TYPE_CHECKING:  # the grammar is loaded on the first parse: a file without RUN never needs it
    import tree_sitter

__all__ = ["ErrorSpan", "Script", "set_option_changes"]


@dataclass(frozen=True, slots=True)
class ErrorSpan:
    """Text tree-sitter could not parse (an ERROR node), or a token it had to assume (MISSING)."""

    start: int
    end: int
    missing: str | None    # the assumed token (e.g. 'fi', ')') for a MISSING node


@dataclass(frozen=True, eq=False)
class Script:
    """A parsed shell script. Offsets everywhere are ``str`` indices into :attr:`text`."""

    text: str
    has_error: bool
    _tree: tree_sitter.Tree = field(repr=False)
    _byte_to_char: list[int] | None = field(repr=False)

    @cached_property
    def error_spans(self) -> tuple[ErrorSpan, ...]:
        if not self.has_error:
            return ()
        spans: list[ErrorSpan] = []
        convert = self._byte_to_char
        stack = [self._tree.root_node]
        while stack:
            node = stack.pop()
            if node.is_missing or node.type == "ERROR":
                start, end = node.start_byte, node.end_byte
                if convert is not None:
                    start, end = convert[start], convert[end]
                spans.append(ErrorSpan(start, end, node.type if node.is_missing else None))
                if node.is_missing:
                    continue
            # only subtrees that contain an error are worth descending into
            stack.extend(child for child in node.children if child.has_error or child.is_missing)
        spans.sort(key=lambda s: (s.start, s.end))
        return tuple(spans)

    @cached_property
    def comments(self) -> tuple[tuple[int, int], ...]:
        """Spans of the ``# ...`` comments (a comment would swallow text joined after it)."""
        if "#" not in self.text:
            return ()
        spans = []
        convert = self._byte_to_char
        stack = [self._tree.root_node]
        while stack:
            node = stack.pop()
            if node.type == "comment":
                start, end = node.start_byte, node.end_byte
                spans.append((start, end) if convert is None else (convert[start], convert[end]))
            elif node.child_count:
                stack.extend(node.children)
        spans.sort()
        return tuple(spans)

    @cached_property
    def _model(self) -> Builder:
        builder = Builder(self.text, self._byte_to_char)
        # The walk allocates many small objects and no cycles; pausing the cyclic
        # collector meanwhile saves the collections they would trigger (~25%).
        collecting = gc.isenabled()
        gc.disable()
        try:
            builder.program(self._tree.root_node)
        finally:
            if collecting:
                gc.enable()
        return builder

    @property
    def commands(self) -> tuple[SimpleCommand, ...]:
        """Every simple command, nested ones included, in source order (by start offset)."""
        return self._model.result_commands

    @property
    def chain(self) -> tuple[ChainLink, ...]:
        """The top-level list: ``link op link op ...`` (see :class:`ChainLink`)."""
        return self._model.result_chain

    @property
    def arithmetic_commands(self) -> tuple[ArithmeticCommand, ...]:
        """``(( ... ))`` commands, nested ones included, in source order."""
        return self._model.result_arithmetic

    @property
    def for_loops(self) -> tuple[ForLoop, ...]:
        """``for`` loops (their variable outlives them), nested ones included, in source order."""
        return self._model.result_for_loops

    @property
    def functions(self) -> tuple[FunctionDefinition, ...]:
        """Function definitions, nested ones included, in source order."""
        return self._model.result_functions

    def commands_named(self, *programs: str) -> tuple[SimpleCommand, ...]:
        """The commands whose effective program (basename, wrappers skipped) is one of ``programs``."""
        wanted = set(programs)
        return tuple(c for c in self.commands if c.program in wanted)

    @property
    def append_at(self) -> int:
        """Where `` && more`` continues the whole script (before any trailing heredoc body)."""
        chain = self.chain
        return chain[-1].append_at if chain else len(self.text.rstrip())

    @property
    def is_and_chain(self) -> bool:
        """True when the top level is ``a && b && c`` (a lone command counts; a trailing ``;`` is allowed)."""
        chain = self.chain
        if not chain:
            return False
        return (all(link.operator == AND for link in chain[:-1])
                and chain[-1].operator in (None, SEMICOLON))

    @cached_property
    def _shell_options(self) -> dict[str, bool]:
        # Only `set` commands that run unconditionally in the main shell change
        # the options of the commands after them.
        options: dict[str, bool] = {}
        for command in self.commands:
            if (command.program == "set" and not command.runs_in_subshell
                    and not command.in_function and not command.in_conditional):
                for option, enabled in set_option_changes(command):
                    options[option] = enabled
        return options

    @property
    def errexit(self) -> bool:
        """``set -e`` / ``set -o errexit`` is in force at the end of the script."""
        return self._shell_options.get("errexit", False)

    @property
    def pipefail(self) -> bool:
        return self._shell_options.get("pipefail", False)


_SET_SHORT_OPTIONS = {
    "e": "errexit", "u": "nounset", "x": "xtrace", "v": "verbose", "f": "noglob",
    "a": "allexport", "n": "noexec", "C": "noclobber", "h": "hashall", "b": "notify",
    "m": "monitor", "E": "errtrace", "T": "functrace", "B": "braceexpand", "H": "histexpand",
    "P": "physical", "k": "keyword", "t": "onecmd",
}


def set_option_changes(command: SimpleCommand) -> list[tuple[str, bool]]:
    """What a ``set`` command turns on or off: ``set -euo pipefail`` gives errexit, nounset, pipefail."""
    changes: list[tuple[str, bool]] = []
    args = [w.text for w in command.args]
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg is None or arg in ("-", "--") or len(arg) < 2 or arg[0] not in "-+":
            break            # the rest are positional parameters
        enabled = arg[0] == "-"
        for letter in arg[1:]:
            if letter == "o":
                option = args[index] if index < len(args) else None
                if option is not None:
                    changes.append((option, enabled))
                    index += 1
            elif letter in _SET_SHORT_OPTIONS:
                changes.append((_SET_SHORT_OPTIONS[letter], enabled))
    return changes

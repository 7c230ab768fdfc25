"""Parse a RUN's shell command with tree-sitter-bash into the model of :mod:`dockopt.shell.model`.

Parsing is eager and cheap (it happens in C); the flat command list, the
top-level chain and the function definitions are built together on first use
by one walk that only visits statements and the words of commands.
"""
from __future__ import annotations

import gc
import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

from .model import (
    AND,
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
    fast_constructor,
)

if TYPE_CHECKING:  # the grammar is loaded on the first parse: a file without RUN never needs it
    import tree_sitter

__all__ = ["ErrorSpan", "Script", "parse_script"]


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    # Building the Language and the Parser costs far more than parsing one RUN;
    # one pair serves every call (the parser is not shared across threads).
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def parse_script(text: str) -> Script:
    """Parse one shell command string (a RUN's command, continuations already joined).

    Never raises on bad input: syntax errors show up as :attr:`Script.has_error`
    and :attr:`Script.error_spans`, and the rest of the text is still modelled.
    """
    if text.isascii():
        data = text.encode("ascii")
        byte_to_char = None
    else:
        data = _parser_input(text)
        byte_to_char = _byte_to_char_table(text)
    tree = _parser().parse(data)
    return Script(text=text, has_error=tree.root_node.has_error, _tree=tree,
                  _byte_to_char=byte_to_char)


# tree-sitter-bash 0.25 can read past its buffer, and crash the process, on a
# `{` followed by a 4-byte UTF-8 character (tree-sitter/tree-sitter-bash#337).
# Characters outside the BMP (and lone surrogates) are only ever word
# characters in a script, so the parser is given same-length ASCII in their
# place: every byte offset stays valid for the real text, and values are
# always sliced from the real text.
_UNSAFE_CHARS = re.compile("[\U00010000-\U0010FFFF\ud800-\udfff]")


def _parser_input(text: str) -> bytes:
    if max(text) >= "\ud800":      # cheap test before the substitution
        text = _UNSAFE_CHARS.sub(lambda m: "." * len(m.group().encode("utf-8", "surrogatepass")), text)
    return text.encode("utf-8", "surrogatepass")


def _byte_to_char_table(text: str) -> list[int]:
    """table[byte offset] = str offset, for text that is not pure ASCII."""
    table: list[int] = []
    for index, char in enumerate(text):
        table.extend([index] * len(char.encode("utf-8", "surrogatepass")))
    table.append(len(text))
    return table


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
    def _model(self) -> _Builder:
        builder = _Builder(self.text, self._byte_to_char)
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
                if index < len(args) and args[index] is not None:
                    changes.append((args[index], enabled))
                    index += 1
            elif letter in _SET_SHORT_OPTIONS:
                changes.append((_SET_SHORT_OPTIONS[letter], enabled))
    return changes


# --- the walk ---------------------------------------------------------------

_SIMPLE_TYPES = frozenset({
    "command", "declaration_command", "unset_command", "test_command",
    "variable_assignment", "variable_assignments",
})
_REDIRECT_TYPES = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_STATEMENT_TYPES = _SIMPLE_TYPES | {
    "redirected_statement", "list", "pipeline", "subshell", "compound_statement",
    "if_statement", "while_statement", "for_statement", "c_style_for_statement",
    "case_statement", "function_definition", "negated_command", "ERROR",
}
_SEPARATORS = frozenset({";", "&", ";;", ";&", ";;&"})
_AND_OR_OPERATORS = frozenset({"&&", "||", "|", "|&"})
_PIPES = frozenset({PIPE, PIPE_STDERR})
_SUBSTITUTIONS = {
    "command_substitution": Scope.COMMAND_SUBSTITUTION,
    "process_substitution": Scope.PROCESS_SUBSTITUTION,
}
_LITERAL_TYPES = frozenset({"number", "variable_name", "test_operator", "extglob_pattern", "regex",
                            "special_variable_name"})
_CONSTRUCTS = {
    "subshell": Construct.SUBSHELL, "compound_statement": Construct.BRACE_GROUP,
    "if_statement": Construct.IF, "while_statement": Construct.LOOP,
    "for_statement": Construct.LOOP, "c_style_for_statement": Construct.LOOP,
    "case_statement": Construct.CASE, "function_definition": Construct.FUNCTION,
    "negated_command": Construct.NEGATION, "ERROR": Construct.ERROR,
    "pipeline": Construct.PIPELINE,
}

_UNQUOTED_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = re.compile(r"\\([$`\"\\\n])")
_ANSI_C_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL)
_ANSI_C_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
                  "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_ASSIGNMENT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _unescape_unquoted(raw: str) -> str:
    # outside quotes a backslash quotes the next character; backslash-newline vanishes
    return _UNQUOTED_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), raw)


def _unescape_double_quoted(content: str) -> str:
    return _DOUBLE_QUOTED_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), content)


def _decode_ansi_c(content: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        head = code[:1]
        if head in ("x", "u", "U") and len(code) > 1:
            value = int(code[1:], 16)
        elif head and head in "01234567":
            value = int(code, 8)
        elif head == "c" and len(code) == 2:
            value = ord(code[1]) & 0x1F
        else:
            return _ANSI_C_SIMPLE.get(code, "\\" + code)
        # bash keeps an escape whose value is no character as written
        return chr(value) if value <= 0x10FFFF else match.group(0)
    return _ANSI_C_ESCAPE.sub(one, content)


# A flattened and-or list is a list of parts, each
# ``[statement node, heredoc_head, operator after, extra redirect nodes]``
# (plain lists: one is built per statement and a class costs more).
# ``heredoc_head`` marks a statement whose `<<EOF` line goes on with `&& next` or
# `| next`, which tree-sitter-bash nests inside the heredoc redirection; it is
# modelled without that tail.  ``extra redirect nodes`` undo another quirk of
# the grammar: it reads `a && b >f` as `(a && b) >f`, while the shell applies
# the redirection to `b` alone.
_NODE, _HEREDOC_HEAD, _OPERATOR, _EXTRA = 0, 1, 2, 3
_NO_NODES: tuple[tree_sitter.Node, ...] = ()

# the builder creates these by the hundred thousand (see fast_constructor)
_new_word = fast_constructor(Word)
_new_command = fast_constructor(SimpleCommand)
_new_link = fast_constructor(ChainLink)


class _Builder:
    """One walk over a tree that fills the command list, the chain and the functions."""

    def __init__(self, text: str, byte_to_char: list[int] | None) -> None:
        self.text = text
        self.convert = byte_to_char
        self.commands: list[SimpleCommand] = []
        self.functions: list[FunctionDefinition] = []
        self.arithmetic: list[ArithmeticCommand] = []
        self.for_loops: list[ForLoop] = []
        self.link = 0
        self.substitutions = False    # whether any $(...) was met: then emission order needs sorting
        self.result_commands: tuple[SimpleCommand, ...] = ()
        self.result_chain: tuple[ChainLink, ...] = ()
        self.result_functions: tuple[FunctionDefinition, ...] = ()
        self.result_arithmetic: tuple[ArithmeticCommand, ...] = ()
        self.result_for_loops: tuple[ForLoop, ...] = ()

    # offsets
    def span(self, node: tree_sitter.Node) -> tuple[int, int]:
        convert = self.convert
        if convert is None:
            return node.start_byte, node.end_byte
        return convert[node.start_byte], convert[node.end_byte]

    def offset(self, byte: int) -> int:
        return byte if self.convert is None else self.convert[byte]

    # program and sequences
    def program(self, root: tree_sitter.Node) -> None:
        links: list[ChainLink] = []
        commands = self.commands
        prev_operator: str | None = None
        for statement, operator, stray in self.sequence(root.children):
            if stray:
                # commands in $(...) of text that is no statement get a link of their own
                self.link = len(links)
                first = len(commands)
                self.scan(statement, ())
                if len(commands) > first:
                    start, end = self.span(statement)
                    links.append(_new_link(Construct.ERROR, start, end, end, None,
                                           tuple(commands[first:])))
                continue
            scopes = (Scope.BACKGROUND,) if operator == "&" else ()
            if statement.type in _SIMPLE_TYPES:
                # fast path for the common `cmd ;` statement: one part, one link
                self.link = len(links)
                first = len(commands)
                start, end = self.span(statement)
                self.simple(statement, _NO_NODES, scopes, prev_operator, operator, (start, end, end))
                links.append(_new_link(Construct.COMMAND, start, end, end, operator,
                                       tuple(commands[first:])))
                prev_operator = operator
                continue
            parts = self.and_or(statement)
            if parts[-1][_OPERATOR] is None:
                parts[-1][_OPERATOR] = operator
            # a pipeline is one link; &&, || and the statement separators end links
            group_start = 0
            for index, part in enumerate(parts):
                if part[_OPERATOR] in _PIPES and index < len(parts) - 1:
                    continue
                group = parts[group_start:index + 1]
                group_start = index + 1
                self.link = len(links)
                first = len(commands)
                self.emit_parts(group, scopes, prev_operator, part[_OPERATOR])
                start = self.part_span(group[0])[0]
                _, end, append_at = self.part_span(part)
                kind = Construct.PIPELINE if len(group) > 1 else self.construct(part)
                links.append(_new_link(kind, start, end, append_at, part[_OPERATOR],
                                       tuple(commands[first:])))
                prev_operator = part[_OPERATOR]
        if self.substitutions:
            # A command is emitted after the $(...) in its words, so emission order
            # is not source order there; sort (cheap: nearly sorted, a few items).
            commands.sort(key=_start_of)
            links = [
                link if _is_sorted(link.commands) else
                _new_link(link.kind, link.start, link.end, link.append_at, link.operator,
                          tuple(sorted(link.commands, key=_start_of)))
                for link in links]
        self.result_commands = tuple(commands)
        self.result_chain = tuple(links)
        self.result_functions = tuple(sorted(self.functions, key=_start_of))
        self.result_arithmetic = tuple(sorted(self.arithmetic, key=_start_of))
        self.result_for_loops = tuple(sorted(self.for_loops, key=_start_of))

    def construct(self, part: list) -> Construct:
        node = part[_NODE]
        if node.type == "redirected_statement":
            body = self.body_of(node)
            if body is None:
                return Construct.COMMAND
            node = body
        if node.type == "compound_statement" and node.child_count and node.children[0].type == "((":
            return Construct.ARITHMETIC
        return _CONSTRUCTS.get(node.type, Construct.COMMAND)

    @staticmethod
    def sequence(children: list[tree_sitter.Node]) -> list[list]:
        """Pair each statement of a statement list with the separator after it.

        Items are ``[node, separator, stray]``: ``stray`` marks a node that is no
        statement (words left over by error recovery...), kept only so that the
        commands of a ``$(...)`` in it are not lost.
        """
        items: list[list] = []
        last: list | None = None          # the last statement item
        for child in children:
            kind = child.type
            if kind in _SEPARATORS:
                if last is not None and last[1] is None:
                    last[1] = kind
            elif kind in _STATEMENT_TYPES:
                if last is not None and last[1] is None:
                    last[1] = "\n"      # no token between two statements: a newline
                last = [child, None, False]
                items.append(last)
            elif child.child_count and kind != "comment":
                items.append([child, None, True])
        return items

    def emit_sequence(self, children: list[tree_sitter.Node], scopes: tuple[Scope, ...]) -> None:
        prev = None
        for statement, operator, stray in self.sequence(children):
            if stray:
                self.scan(statement, scopes)
                continue
            inner = scopes + (Scope.BACKGROUND,) if operator == "&" else scopes
            self.emit_and_or(statement, inner, prev, operator)
            prev = operator

    def and_or(self, node: tree_sitter.Node) -> list[list]:
        parts: list[list] = []
        self.flatten(node, parts)
        return parts

    def flatten(self, node: tree_sitter.Node, parts: list[list]) -> None:
        kind = node.type
        if kind == "list" or kind == "pipeline":
            self.flatten_children(node.children, parts)
            return
        self.flatten_statement(node, parts)

    def flatten_statement(self, node: tree_sitter.Node, parts: list[list]) -> None:
        kind = node.type
        if kind != "redirected_statement":
            parts.append([node, False, None, _NO_NODES])
            return
        children = node.children
        body = self.body_of(node)
        if body is not None and (body.type == "list" or body.type == "pipeline"):
            self.flatten(body, parts)
            target = parts[-1]
            target[_EXTRA] = (*target[_EXTRA],
                              *(c for c in children if c.type in _REDIRECT_TYPES))
        else:
            target = [node, False, None, _NO_NODES]
            parts.append(target)
        if children[-1].type == "heredoc_redirect":
            tail = self.heredoc_tail(children[-1])
            if tail is not None:
                target[_HEREDOC_HEAD] = True
                target[_OPERATOR] = tail[0]
                self.flatten_children(tail[1], parts)

    def flatten_children(self, children: list[tree_sitter.Node], parts: list[list]) -> None:
        # tree-sitter nests `a && b && c` as list(list(a, b), c): walk with a stack, not recursion,
        # so that a chain of hundreds of commands stays within Python's recursion limit
        todo: list[tree_sitter.Node | str] = list(reversed(children))
        while todo:
            item = todo.pop()
            if isinstance(item, str):
                if parts:
                    parts[-1][_OPERATOR] = item
                continue
            kind = item.type
            if kind in _AND_OR_OPERATORS:
                todo.append(kind)
            elif kind == "list" or kind == "pipeline":
                todo.extend(reversed(item.children))
            elif kind in _STATEMENT_TYPES:
                self.flatten_statement(item, parts)

    @staticmethod
    def heredoc_tail(redirect: tree_sitter.Node) -> tuple[str, list[tree_sitter.Node]] | None:
        """`cat <<EOF && x` / `cat <<EOF | x`: the operator and statements tree-sitter nested in the heredoc."""
        operator = None
        for child in redirect.children:
            kind = child.type
            if kind == "&&" or kind == "||":
                operator = kind
            elif kind == "pipeline" and child.child_count and child.children[0].type in _PIPES:
                return child.children[0].type, child.children[1:]
            elif operator is not None and kind in _STATEMENT_TYPES and kind != "ERROR":
                return operator, [child]
        return None

    def emit_and_or(self, node: tree_sitter.Node, scopes: tuple[Scope, ...],
                    prev_operator: str | None, next_operator: str | None) -> None:
        if node.type in _SIMPLE_TYPES:    # the common case needs no flattening
            start, end = self.span(node)
            self.simple(node, _NO_NODES, scopes, prev_operator, next_operator, (start, end, end))
            return
        parts = self.and_or(node)
        if next_operator is not None or parts[-1][_OPERATOR] is None:
            parts[-1][_OPERATOR] = next_operator
        self.emit_parts(parts, scopes, prev_operator, parts[-1][_OPERATOR])

    def emit_parts(self, parts: list[list], scopes: tuple[Scope, ...],
                   prev_operator: str | None, next_operator: str | None) -> None:
        last = len(parts) - 1
        before = prev_operator
        for index, part in enumerate(parts):
            after = next_operator if index == last else part[_OPERATOR]
            inner = scopes
            if after in _PIPES or before in _PIPES:
                inner = scopes + (Scope.PIPELINE,)
            self.emit_part(part, inner, before, after)
            before = after

    def part_span(self, part: list) -> tuple[int, int, int]:
        """(start, end, append_at) of a part: end and append_at differ when a heredoc body closes it."""
        node = part[_NODE]
        extra = part[_EXTRA]
        start = self.offset(node.start_byte)
        if extra:
            last = extra[-1]
        elif node.type == "redirected_statement":
            last = node.children[-1]
        else:
            end = self.offset(node.end_byte)
            return start, end, end
        end = self.offset(last.end_byte if extra else node.end_byte)
        if last.type != "heredoc_redirect":
            return start, end, end
        line_end = self.heredoc_line_end(last)
        return start, line_end if part[_HEREDOC_HEAD] else end, line_end

    def heredoc_line_end(self, redirect: tree_sitter.Node) -> int:
        """End of what is written on the `<<EOF` line (the heredoc body starts on the next line)."""
        end = redirect.start_byte
        for child in redirect.children:
            kind = child.type
            if kind in ("heredoc_body", "heredoc_end", "&&", "||", "pipeline") or (
                    kind in _STATEMENT_TYPES and kind != "ERROR"):
                break
            end = child.end_byte
        return self.offset(end)

    # statements
    def emit_part(self, part: list, scopes: tuple[Scope, ...],
                  prev_operator: str | None, next_operator: str | None) -> None:
        node = part[_NODE]
        kind = node.type
        if kind in _SIMPLE_TYPES:
            self.simple(node, part[_EXTRA], scopes, prev_operator, next_operator,
                        self.part_span(part))
        elif kind == "redirected_statement":
            body = self.body_of(node)
            redirects = [c for c in node.children if c.type in _REDIRECT_TYPES]
            redirects.extend(part[_EXTRA])
            if body is None or body.type in _SIMPLE_TYPES:
                self.simple(body, redirects, scopes, prev_operator, next_operator,
                            self.part_span(part))
            else:
                self.emit_part([body, False, None, _NO_NODES], scopes, prev_operator, next_operator)
                for redirect in redirects:
                    self.redirect(redirect, scopes, [])
        else:
            for redirect in part[_EXTRA]:
                self.redirect(redirect, scopes, [])
            self.emit_compound(node, scopes, prev_operator, next_operator)

    def emit_compound(self, node: tree_sitter.Node, scopes: tuple[Scope, ...],
                      prev_operator: str | None, next_operator: str | None) -> None:
        kind = node.type
        if kind == "subshell":
            self.emit_sequence(node.children, scopes + (Scope.SUBSHELL,))
        elif kind == "compound_statement":
            if node.child_count and node.children[0].type == "((":
                # tree-sitter-bash files `(( expr ))` as a compound statement
                self.arithmetic_command(node, scopes)
            else:
                self.emit_sequence(node.children, scopes + (Scope.BRACE_GROUP,))
        elif kind == "if_statement":
            self.if_statement(node, scopes + (Scope.IF,))
        elif kind == "while_statement":
            self.loop(node, scopes + (Scope.LOOP,), has_condition=True)
        elif kind in ("for_statement", "c_style_for_statement"):
            start, end = self.span(node)
            if kind == "for_statement":
                variable = node.child_by_field_name("variable")
                name = self.text[slice(*self.span(variable))] if variable is not None else None
                self.for_loops.append(ForLoop(name, name is not None, start, end, scopes))
            else:
                header = [c for c in node.children if c.type not in ("do_group", "compound_statement")]
                assigns = any(_ARITHMETIC_ASSIGNMENT & _token_types(c) or c.type == "variable_assignment"
                              for c in header)
                self.for_loops.append(ForLoop(None, assigns, start, end, scopes))
            self.loop(node, scopes + (Scope.LOOP,), has_condition=False)
        elif kind == "case_statement":
            self.case_statement(node, scopes + (Scope.CASE,))
        elif kind == "function_definition":
            self.function_definition(node, scopes)
        elif kind == "negated_command":
            inner = scopes + (Scope.NEGATION,)
            for child in node.children:
                if child.type in _STATEMENT_TYPES:
                    self.emit_and_or(child, inner, prev_operator, next_operator)
        elif kind in ("list", "pipeline"):
            self.emit_and_or(node, scopes, prev_operator, next_operator)
        elif kind == "ERROR":
            self.emit_sequence(node.children, scopes)
        else:
            self.scan(node, scopes)

    @staticmethod
    def body_of(node: tree_sitter.Node) -> tree_sitter.Node | None:
        for child in node.children:
            if child.is_named and child.type not in _REDIRECT_TYPES and child.type != "comment":
                return child
        return None

    def if_statement(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        condition_scopes = scopes + (Scope.CONDITION,)
        pending: list[tree_sitter.Node] = []
        for child in node.children:
            kind = child.type
            if kind == "then":
                self.emit_sequence(pending, condition_scopes)
                pending = []
            elif kind in ("elif_clause", "else_clause", "fi"):
                self.emit_sequence(pending, scopes)
                pending = []
                if kind == "elif_clause":
                    self.if_statement(child, scopes)
                elif kind == "else_clause":
                    self.emit_sequence(child.children, scopes)
            else:
                pending.append(child)
        # an elif clause, or an if cut short by a syntax error, ends without `fi`
        self.emit_sequence(pending, scopes)

    def loop(self, node: tree_sitter.Node, scopes: tuple[Scope, ...], has_condition: bool) -> None:
        body = node.child_by_field_name("body")
        header: list[tree_sitter.Node] = []
        for child in node.children:
            if body is not None and child == body:
                # `while` tests a statement list; `for` has words or an arithmetic header
                if has_condition:
                    self.emit_sequence(header, scopes + (Scope.CONDITION,))
                else:
                    for word in header:
                        if word.is_named:
                            self.scan(word, scopes)
                header = []
                self.emit_sequence(child.children, scopes)
            else:
                header.append(child)
        if header:   # no body: cut short by a syntax error
            if has_condition:
                self.emit_sequence(header, scopes + (Scope.CONDITION,))
            else:
                for word in header:
                    if word.is_named:
                        self.scan(word, scopes)

    def case_statement(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        for child in node.children:
            if child.type == "case_item":
                body: list[tree_sitter.Node] | None = None
                for item_child in child.children:
                    if body is not None:
                        body.append(item_child)
                    elif item_child.type == ")":
                        body = []
                    elif item_child.is_named:
                        self.scan(item_child, scopes)    # patterns may hold $(...)
                if body:
                    self.emit_sequence(body, scopes)
            elif child.is_named:
                self.scan(child, scopes)

    def arithmetic_command(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        start, end = self.span(node)
        # an assignment operator is a token of its own; `==`, `<=`, `!=` are other tokens
        assigns = bool(_ARITHMETIC_ASSIGNMENT & _token_types(node))
        self.arithmetic.append(ArithmeticCommand(start, end, assigns, scopes))
        self.scan(node, scopes)

    def function_definition(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        start, end = self.span(node)
        name = self.text[slice(*self.span(name_node))] if name_node is not None else ""
        self.functions.append(FunctionDefinition(name, start, end, scopes))
        if body is not None:
            self.emit_part([body, False, None, _NO_NODES], scopes + (Scope.FUNCTION,), None, None)

    # simple commands
    def simple(self, body: tree_sitter.Node | None,
               outer_redirects: tuple[tree_sitter.Node, ...] | list[tree_sitter.Node],
               scopes: tuple[Scope, ...], prev_operator: str | None, next_operator: str | None,
               span: tuple[int, int, int]) -> None:
        """Emit one simple command; ``span`` is (start, end, append_at) of the whole statement."""
        argv: list[Word] = []
        assignments: list[Assignment] = []
        redirects: list[Redirect] = []
        if body is not None:
            kind = body.type
            if kind == "command":
                text = self.text
                convert = self.convert
                for child in body.children:
                    ckind = child.type
                    if ckind == "command_name" and child.child_count == 1:
                        child = child.children[0]
                        ckind = child.type
                    if ckind == "word":
                        # inlined Builder.word: most words of a RUN are plain words
                        start = child.start_byte
                        end = child.end_byte
                        if convert is not None:
                            start = convert[start]
                            end = convert[end]
                        raw = text[start:end]
                        argv.append(_new_word(raw, _unescape_unquoted(raw) if "\\" in raw else raw,
                                         start, end))
                    elif ckind == "variable_assignment":
                        assignments.append(self.assignment(child, scopes))
                    elif ckind in _REDIRECT_TYPES:
                        redirects.extend(self.redirect(child, scopes, argv))
                    elif child.is_named and ckind != "comment":
                        argv.append(self.word(child, scopes))
            elif kind == "variable_assignment":
                assignments.append(self.assignment(body, scopes))
            elif kind == "variable_assignments":
                for child in body.children:
                    if child.type == "variable_assignment":
                        assignments.append(self.assignment(child, scopes))
            elif kind == "test_command":
                self.test_words(body, scopes, argv)
            else:   # declaration_command, unset_command: `export A=b`, `unset X`
                for child in body.children:
                    if child.is_named:
                        if child.type in _REDIRECT_TYPES:
                            redirects.extend(self.redirect(child, scopes, argv))
                        elif child.type != "comment":
                            argv.append(self.word(child, scopes))
                    else:
                        start, end = self.span(child)
                        raw = self.text[start:end]
                        argv.append(_new_word(raw, raw, start, end))
        for redirect in outer_redirects:
            redirects.extend(self.redirect(redirect, scopes, argv))
        if redirects:
            if len(redirects) > 1:
                redirects.sort(key=_start_of)
            # words tree-sitter filed under a redirection (`echo a >x b`) go back in place
            argv.sort(key=_start_of)
        if argv:
            first = argv[0].text
            if first in _WRAPPER_NAMES or (first and "/" in first):
                name_index, wrappers = _resolve_wrappers(argv)
            else:
                name_index, wrappers = 0, ()
        else:
            name_index, wrappers = None, ()
        start, end, append_at = span
        self.commands.append(_new_command(
            tuple(argv), tuple(assignments) if assignments else (),
            tuple(redirects) if redirects else (), name_index, wrappers,
            start, end, append_at, scopes, prev_operator, next_operator, self.link))

    def test_words(self, node: tree_sitter.Node, scopes: tuple[Scope, ...], argv: list[Word]) -> None:
        # `[ -f x ]` / `[[ a == b ]]`: the words of the test, operators included, as argv
        for child in node.children:
            kind = child.type
            if kind in ("binary_expression", "unary_expression", "parenthesized_expression",
                        "negated_expression", "ternary_expression", "postfix_expression"):
                self.test_words(child, scopes, argv)
            elif child.is_named:
                argv.append(self.word(child, scopes))
            else:
                start, end = self.span(child)
                raw = self.text[start:end]
                argv.append(_new_word(raw, raw, start, end))

    def assignment(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> Assignment:
        start, end = self.span(node)
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = self.text[slice(*self.span(name_node))] if name_node is not None else ""
        value = self.word(value_node, scopes) if value_node is not None else None
        return Assignment(name, value, self.text[start:end], start, end)

    def redirect(self, node: tree_sitter.Node, scopes: tuple[Scope, ...],
                 argv: list[Word]) -> list[Redirect]:
        """The redirections written in one redirect node (a heredoc can carry `>file` too)."""
        start, end = self.span(node)
        kind = node.type
        fd: int | None = None
        operator = ""
        target: Word | None = None
        if kind == "heredoc_redirect":
            return self.heredoc(node, scopes, argv)
        for child in node.children:
            ckind = child.type
            if ckind == "file_descriptor":
                fd_text = self.text[slice(*self.span(child))]
                fd = int(fd_text) if fd_text.isdigit() else None
            elif not child.is_named:
                operator = ckind
            elif target is None:
                target = self.word(child, scopes)
                end = target.end
            else:
                # tree-sitter-bash files the words after `>x` under the redirection:
                # `echo a >x b` passes `b` to echo
                argv.append(self.word(child, scopes))
        return [Redirect(operator, fd, target, None, start, end)]

    def heredoc(self, node: tree_sitter.Node, scopes: tuple[Scope, ...],
                argv: list[Word]) -> list[Redirect]:
        text = self.text
        start, _ = self.span(node)
        operator = "<<"
        delimiter_raw = ""
        delimiter_end = start
        body_node = end_node = None
        nested: list[Redirect] = []
        fd: int | None = None
        for child in node.children:
            kind = child.type
            if kind in ("<<", "<<-"):
                operator = kind
            elif kind == "file_descriptor":
                fd_text = text[slice(*self.span(child))]
                fd = int(fd_text) if fd_text.isdigit() else None
            elif kind == "heredoc_start":
                delimiter_start, delimiter_end = self.span(child)
                delimiter_raw = text[delimiter_start:delimiter_end]
            elif kind == "heredoc_body":
                body_node = child
                self.scan(child, scopes)         # an unquoted body may run $(...)
            elif kind == "heredoc_end":
                end_node = child
            elif kind in _REDIRECT_TYPES:
                nested.extend(self.redirect(child, scopes, argv))
        line_end = self.heredoc_line_end(node)
        if end_node is not None:
            end_start, heredoc_end = self.span(end_node)
            body_end = text.rfind("\n", 0, end_start) + 1
        else:   # unterminated: the body runs to the end of the text
            body_end = heredoc_end = len(text)
        if body_node is not None:
            body_start = text.rfind("\n", 0, self.span(body_node)[0]) + 1
        else:
            body_start = body_end
        if body_start <= line_end:     # no newline between the operator and the body
            body_start = min(body_end, line_end + 1)
        quoted = any(q in delimiter_raw for q in "'\"\\")
        delimiter = delimiter_raw.replace("'", "").replace('"', "").replace("\\", "")
        heredoc = Heredoc(delimiter, quoted, operator == "<<-", body_start, body_end, heredoc_end)
        return [Redirect(operator, fd, None, heredoc, start, delimiter_end), *nested]

    # words
    def word(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> Word:
        start, end = self.span(node)
        raw = self.text[start:end]
        if node.type == "word":
            # the common case, kept short: a bare word, maybe with backslash escapes
            return _new_word(raw, _unescape_unquoted(raw) if "\\" in raw else raw, start, end)
        return _new_word(raw, self.value(node, scopes), start, end)

    def value(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> str | None:
        """The static value of a word node, or None; runs into substitutions on the way."""
        kind = node.type
        if kind == "word":
            raw = self.text[slice(*self.span(node))]
            return _unescape_unquoted(raw) if "\\" in raw else raw
        if kind in _LITERAL_TYPES:
            return self.text[slice(*self.span(node))]
        if kind == "raw_string":
            return self.text[slice(*self.span(node))][1:-1]
        if kind == "string" or kind == "translated_string":
            static = True
            for child in node.children:
                if child.is_named and child.type != "string_content":
                    static = False
                    self.scan(child, scopes)
            if not static:
                return None
            raw = self.text[slice(*self.span(node))]
            return _unescape_double_quoted(raw[2 if kind == "translated_string" else 1:-1])
        if kind == "ansi_c_string":
            return _decode_ansi_c(self.text[slice(*self.span(node))][2:-1])
        if kind == "concatenation":
            pieces: list[str] | None = []
            for child in node.children:
                if child.is_named:
                    piece = self.value(child, scopes)
                else:
                    piece = self.text[slice(*self.span(child))]
                if piece is None:
                    pieces = None
                elif pieces is not None:
                    pieces.append(piece)
            return None if pieces is None else "".join(pieces)
        if kind == "variable_assignment":
            name_node = node.child_by_field_name("name")
            value_node = node.child_by_field_name("value")
            name = self.text[slice(*self.span(name_node))] if name_node is not None else ""
            # `A+=x` keeps its operator
            operator_end = value_node.start_byte if value_node is not None else node.end_byte
            operator = self.text[self.span(name_node)[1] if name_node is not None else 0:
                                 self.offset(operator_end)]
            if value_node is None:
                return name + operator
            value = self.value(value_node, scopes)
            return None if value is None else name + operator + value
        self.scan(node, scopes)
        return None

    def scan(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        """Emit the commands of every $(...), `...`, <(...) below node."""
        substitution = _SUBSTITUTIONS.get(node.type)
        if substitution is not None:
            self.substitutions = True
            self.emit_sequence(node.children, scopes + (substitution,))
            return
        for child in node.children:
            if child.child_count:
                self.scan(child, scopes)


_ARITHMETIC_ASSIGNMENT = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=",
                                    "|=", "++", "--"})


def _token_types(node: tree_sitter.Node) -> set[str]:
    """Types of every anonymous token below node."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        for child in current.children:
            if child.child_count:
                stack.append(child)
            elif not child.is_named:
                found.add(child.type)
    return found


def _start_of(item: Word | Redirect | SimpleCommand | FunctionDefinition | ArithmeticCommand
              | ForLoop) -> int:
    return item.start


def _is_sorted(commands: tuple[SimpleCommand, ...]) -> bool:
    return all(a.start <= b.start for a, b in pairwise(commands))


_WRAPPER_OPTIONS_WITH_VALUE = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T",
                       "--user", "--group", "--host", "--prompt", "--close-from", "--chdir",
                       "--role", "--type", "--other-user", "--command-timeout"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "nohup": frozenset(),
}
# options after which the wrapper runs nothing: `sudo -i`, `command -v x` is a query
_WRAPPER_STOP_OPTIONS = {
    "command": frozenset({"-v", "-V"}),
    "sudo": frozenset({"-l", "-v", "-k", "-K", "-V", "-e", "--list", "--validate", "--edit"}),
    "env": frozenset({"-S", "--split-string"}),
}


_WRAPPER_NAMES = frozenset(_WRAPPER_OPTIONS_WITH_VALUE)


def _resolve_wrappers(argv: list[Word]) -> tuple[int | None, tuple[Word, ...]]:
    """Index of the command that really runs, and the wrapper words skipped to reach it."""
    if not argv:
        return None, ()
    index = 0
    wrappers: list[Word] = []
    count = len(argv)
    while index < count:
        text = argv[index].text
        wrapper = posixpath.basename(text) if text else None
        with_value = _WRAPPER_OPTIONS_WITH_VALUE.get(wrapper)  # type: ignore[arg-type]
        if with_value is None:
            break
        stops = _WRAPPER_STOP_OPTIONS.get(wrapper, frozenset())  # type: ignore[arg-type]
        position = index + 1
        stopped = False
        while position < count:
            arg = argv[position].text
            if arg is None:
                break
            if arg == "--":
                position += 1
                break
            if arg in stops or arg.split("=", 1)[0] in stops:
                stopped = True
                break
            if wrapper in ("env", "sudo") and _ASSIGNMENT_WORD.match(arg):
                position += 1         # env A=b cmd / sudo A=b cmd
                continue
            if arg.startswith("-") and len(arg) > 1:
                # `-u root` takes the next word; `-uroot` and `--user=root` do not
                position += 2 if arg in with_value else 1
                continue
            break
        if stopped or position >= count:
            break                     # the wrapper is the command: `env`, `sudo -i`, `command -v x`
        wrappers.append(argv[index])
        index = position
    return index, tuple(wrappers)

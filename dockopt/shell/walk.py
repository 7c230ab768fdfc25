"""The walk over a tree-sitter-bash tree that builds the model: statements, and-or lists,
pipelines and compound commands, down to each simple command."""
from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from .model import (
    PIPE,
    PIPE_STDERR,
    ArithmeticCommand,
    Assignment,
    ChainLink,
    Construct,
    ForLoop,
    FunctionDefinition,
    Redirect,
    Scope,
    SimpleCommand,
    Word,
    fast_constructor,
)
from .words import (
    REDIRECT_TYPES,
    WRAPPER_NAMES,
    WordReader,
    new_word,
    resolve_wrappers,
    start_of,
    unescape_unquoted,
)

if TYPE_CHECKING:  # the grammar is loaded on the first parse: a file without RUN never needs it
    import tree_sitter

__all__ = ["Builder"]

_SIMPLE_TYPES = frozenset({
    "command", "declaration_command", "unset_command", "test_command",
    "variable_assignment", "variable_assignments",
})
_STATEMENT_TYPES = _SIMPLE_TYPES | {
    "redirected_statement", "list", "pipeline", "subshell", "compound_statement",
    "if_statement", "while_statement", "for_statement", "c_style_for_statement",
    "case_statement", "function_definition", "negated_command", "ERROR",
}
_SEPARATORS = frozenset({";", "&", ";;", ";&", ";;&"})
_AND_OR_OPERATORS = frozenset({"&&", "||", "|", "|&"})
_PIPES = frozenset({PIPE, PIPE_STDERR})
_CONSTRUCTS = {
    "subshell": Construct.SUBSHELL, "compound_statement": Construct.BRACE_GROUP,
    "if_statement": Construct.IF, "while_statement": Construct.LOOP,
    "for_statement": Construct.LOOP, "c_style_for_statement": Construct.LOOP,
    "case_statement": Construct.CASE, "function_definition": Construct.FUNCTION,
    "negated_command": Construct.NEGATION, "ERROR": Construct.ERROR,
    "pipeline": Construct.PIPELINE,
}

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
_new_command: Callable[..., SimpleCommand] = fast_constructor(SimpleCommand)
_new_link: Callable[..., ChainLink] = fast_constructor(ChainLink)
# a part (see above) and an item of a statement list: [node, separator, stray]
_Part = list[Any]
_Item = list[Any]


class Builder(WordReader):
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
            commands.sort(key=start_of)
            links = [
                link if _is_sorted(link.commands) else
                _new_link(link.kind, link.start, link.end, link.append_at, link.operator,
                          tuple(sorted(link.commands, key=start_of)))
                for link in links]
        self.result_commands = tuple(commands)
        self.result_chain = tuple(links)
        self.result_functions = tuple(sorted(self.functions, key=start_of))
        self.result_arithmetic = tuple(sorted(self.arithmetic, key=start_of))
        self.result_for_loops = tuple(sorted(self.for_loops, key=start_of))

    def construct(self, part: _Part) -> Construct:
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
    def sequence(children: list[tree_sitter.Node]) -> list[_Part]:
        """Pair each statement of a statement list with the separator after it.

        Items are ``[node, separator, stray]``: ``stray`` marks a node that is no
        statement (words left over by error recovery...), kept only so that the
        commands of a ``$(...)`` in it are not lost.
        """
        items: list[_Part] = []
        last: _Item | None = None          # the last statement item
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
            inner = (*scopes, Scope.BACKGROUND) if operator == "&" else scopes
            self.emit_and_or(statement, inner, prev, operator)
            prev = operator

    def and_or(self, node: tree_sitter.Node) -> list[_Part]:
        parts: list[_Part] = []
        self.flatten(node, parts)
        return parts

    def flatten(self, node: tree_sitter.Node, parts: list[_Part]) -> None:
        kind = node.type
        if kind == "list" or kind == "pipeline":
            self.flatten_children(node.children, parts)
            return
        self.flatten_statement(node, parts)

    def flatten_statement(self, node: tree_sitter.Node, parts: list[_Part]) -> None:
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
                              *(c for c in children if c.type in REDIRECT_TYPES))
        else:
            target = [node, False, None, _NO_NODES]
            parts.append(target)
        if children[-1].type == "heredoc_redirect":
            tail = self.heredoc_tail(children[-1])
            if tail is not None:
                target[_HEREDOC_HEAD] = True
                target[_OPERATOR] = tail[0]
                self.flatten_children(tail[1], parts)

    def flatten_children(self, children: list[tree_sitter.Node], parts: list[_Part]) -> None:
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

    def emit_parts(self, parts: list[_Part], scopes: tuple[Scope, ...],
                   prev_operator: str | None, next_operator: str | None) -> None:
        last = len(parts) - 1
        before = prev_operator
        for index, part in enumerate(parts):
            after = next_operator if index == last else part[_OPERATOR]
            inner = scopes
            if after in _PIPES or before in _PIPES:
                inner = (*scopes, Scope.PIPELINE)
            self.emit_part(part, inner, before, after)
            before = after

    def part_span(self, part: _Part) -> tuple[int, int, int]:
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
    def emit_part(self, part: _Part, scopes: tuple[Scope, ...],
                  prev_operator: str | None, next_operator: str | None) -> None:
        node = part[_NODE]
        kind = node.type
        if kind in _SIMPLE_TYPES:
            self.simple(node, part[_EXTRA], scopes, prev_operator, next_operator,
                        self.part_span(part))
        elif kind == "redirected_statement":
            body = self.body_of(node)
            redirects = [c for c in node.children if c.type in REDIRECT_TYPES]
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
            self.emit_sequence(node.children, (*scopes, Scope.SUBSHELL))
        elif kind == "compound_statement":
            if node.child_count and node.children[0].type == "((":
                # tree-sitter-bash files `(( expr ))` as a compound statement
                self.arithmetic_command(node, scopes)
            else:
                self.emit_sequence(node.children, (*scopes, Scope.BRACE_GROUP))
        elif kind == "if_statement":
            self.if_statement(node, (*scopes, Scope.IF))
        elif kind == "while_statement":
            self.loop(node, (*scopes, Scope.LOOP), has_condition=True)
        elif kind in ("for_statement", "c_style_for_statement"):
            self.for_statement(node, scopes)
        elif kind in ("negated_command", "list", "pipeline"):
            self.negated_or_list(node, scopes, prev_operator, next_operator)
        else:
            self.other_compound(node, scopes)

    def other_compound(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        kind = node.type
        if kind == "case_statement":
            self.case_statement(node, (*scopes, Scope.CASE))
        elif kind == "function_definition":
            self.function_definition(node, scopes)
        elif kind == "ERROR":
            self.emit_sequence(node.children, scopes)
        else:
            self.scan(node, scopes)

    def negated_or_list(self, node: tree_sitter.Node, scopes: tuple[Scope, ...],
                        prev_operator: str | None, next_operator: str | None) -> None:
        if node.type != "negated_command":
            self.emit_and_or(node, scopes, prev_operator, next_operator)
            return
        inner = (*scopes, Scope.NEGATION)
        for child in node.children:
            if child.type in _STATEMENT_TYPES:
                self.emit_and_or(child, inner, prev_operator, next_operator)

    def for_statement(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        start, end = self.span(node)
        if node.type == "for_statement":
            variable = node.child_by_field_name("variable")
            name = self.node_text(variable) if variable is not None else None
            words = tuple(self.word(v, scopes) for v in node.children_by_field_name("value"))
            self.for_loops.append(ForLoop(name, name is not None, start, end, scopes, words))
        else:
            header = [c for c in node.children if c.type not in ("do_group", "compound_statement")]
            assigns = any(_ARITHMETIC_ASSIGNMENT & _token_types(c) or c.type == "variable_assignment"
                          for c in header)
            self.for_loops.append(ForLoop(None, assigns, start, end, scopes))
        self.loop(node, (*scopes, Scope.LOOP), has_condition=False)

    @staticmethod
    def body_of(node: tree_sitter.Node) -> tree_sitter.Node | None:
        for child in node.children:
            if child.is_named and child.type not in REDIRECT_TYPES and child.type != "comment":
                return child
        return None

    def if_statement(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        condition_scopes = (*scopes, Scope.CONDITION)
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
                self.loop_header(header, scopes, has_condition)
                header = []
                self.emit_sequence(child.children, scopes)
            else:
                header.append(child)
        if header:   # no body: cut short by a syntax error
            self.loop_header(header, scopes, has_condition)

    def loop_header(self, header: list[tree_sitter.Node], scopes: tuple[Scope, ...], has_condition: bool) -> None:
        """`while` tests a statement list; `for` has words or an arithmetic header."""
        if has_condition:
            self.emit_sequence(header, (*scopes, Scope.CONDITION))
            return
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
            self.emit_part([body, False, None, _NO_NODES], (*scopes, Scope.FUNCTION), None, None)

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
                self.command_words(body, scopes, argv, assignments, redirects)
            elif kind == "variable_assignment":
                assignments.append(self.assignment(body, scopes))
            elif kind == "variable_assignments":
                assignments += [self.assignment(c, scopes) for c in body.children if c.type == "variable_assignment"]
            elif kind == "test_command":
                self.test_words(body, scopes, argv)
            else:   # declaration_command, unset_command: `export A=b`, `unset X`
                self.declaration_words(body, scopes, argv, redirects)
        for redirect in outer_redirects:
            redirects.extend(self.redirect(redirect, scopes, argv))
        if redirects:
            if len(redirects) > 1:
                redirects.sort(key=start_of)
            # words tree-sitter filed under a redirection (`echo a >x b`) go back in place
            argv.sort(key=start_of)
        name_index: int | None = None
        wrappers: tuple[Word, ...] = ()
        if argv:
            first = argv[0].text
            name_index, wrappers = (resolve_wrappers(argv) if first in WRAPPER_NAMES or (first and "/" in first)
                                    else (0, ()))
        start, end, append_at = span
        self.commands.append(_new_command(
            tuple(argv), tuple(assignments) if assignments else (),
            tuple(redirects) if redirects else (), name_index, wrappers,
            start, end, append_at, scopes, prev_operator, next_operator, self.link))

    def command_words(self, body: tree_sitter.Node, scopes: tuple[Scope, ...], argv: list[Word],
                      assignments: list[Assignment], redirects: list[Redirect]) -> None:
        text = self.text
        convert = self.convert
        for child in body.children:
            ckind = child.type
            if ckind == "command_name" and child.child_count == 1:
                child = child.children[0]
                ckind = child.type
            if ckind == "word":
                # inlined WordReader.word: most words of a RUN are plain words
                start = child.start_byte
                end = child.end_byte
                if convert is not None:
                    start = convert[start]
                    end = convert[end]
                raw = text[start:end]
                argv.append(new_word(raw, unescape_unquoted(raw) if "\\" in raw else raw, start, end))
            elif ckind == "variable_assignment":
                assignments.append(self.assignment(child, scopes))
            elif ckind in REDIRECT_TYPES:
                redirects.extend(self.redirect(child, scopes, argv))
            elif child.is_named and ckind != "comment":
                argv.append(self.word(child, scopes))

    def declaration_words(self, body: tree_sitter.Node, scopes: tuple[Scope, ...], argv: list[Word],
                          redirects: list[Redirect]) -> None:
        for child in body.children:
            if not child.is_named:
                start, end = self.span(child)
                raw = self.text[start:end]
                argv.append(new_word(raw, raw, start, end))
            elif child.type in REDIRECT_TYPES:
                redirects.extend(self.redirect(child, scopes, argv))
            elif child.type != "comment":
                argv.append(self.word(child, scopes))


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


def _is_sorted(commands: tuple[SimpleCommand, ...]) -> bool:
    return all(a.start <= b.start for a, b in pairwise(commands))

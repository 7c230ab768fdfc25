"""Reading the words of a command: quote removal, escapes, assignments, redirections, heredocs,
and the wrappers (`sudo`, `env`, ...) in front of the command that really runs."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .model import (
    ArithmeticCommand,
    Assignment,
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

__all__ = ["REDIRECT_TYPES", "WordReader", "glob_base", "new_word", "resolve_wrappers", "start_of",
           "unescape_unquoted"]

REDIRECT_TYPES = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_SUBSTITUTIONS = {
    "command_substitution": Scope.COMMAND_SUBSTITUTION,
    "process_substitution": Scope.PROCESS_SUBSTITUTION,
}
_LITERAL_TYPES = frozenset({"number", "variable_name", "test_operator", "extglob_pattern", "regex",
                            "special_variable_name"})
_TEST_EXPRESSIONS = frozenset({"binary_expression", "unary_expression", "parenthesized_expression",
                               "negated_expression", "ternary_expression", "postfix_expression"})
_UNQUOTED_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = re.compile(r"\\([$`\"\\\n])")
_ANSI_C_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL)
_ANSI_C_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
                  "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_ASSIGNMENT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")

# the walk creates these by the hundred thousand (see fast_constructor)
new_word: Callable[[str, str | None, int, int], Word] = fast_constructor(Word)


def unescape_unquoted(raw: str) -> str:
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


def start_of(item: Word | Redirect | SimpleCommand | FunctionDefinition | ArithmeticCommand | ForLoop) -> int:
    return item.start


class WordReader:
    """The words part of the walk over one tree: offsets, values, redirections, heredocs."""

    text: str
    convert: list[int] | None
    substitutions: bool

    # the statement walk, for the commands inside $(...) (see walk.Builder)
    def emit_sequence(self, children: list[tree_sitter.Node], scopes: tuple[Scope, ...]) -> None:
        raise NotImplementedError

    def heredoc_line_end(self, redirect: tree_sitter.Node) -> int:
        raise NotImplementedError

    # offsets
    def span(self, node: tree_sitter.Node) -> tuple[int, int]:
        convert = self.convert
        if convert is None:
            return node.start_byte, node.end_byte
        return convert[node.start_byte], convert[node.end_byte]

    def offset(self, byte: int) -> int:
        return byte if self.convert is None else self.convert[byte]

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.text[slice(*self.span(node))]

    def test_words(self, node: tree_sitter.Node, scopes: tuple[Scope, ...], argv: list[Word]) -> None:
        # `[ -f x ]` / `[[ a == b ]]`: the words of the test, operators included, as argv
        for child in node.children:
            if child.type in _TEST_EXPRESSIONS:
                self.test_words(child, scopes, argv)
            elif child.is_named:
                argv.append(self.word(child, scopes))
            else:
                start, end = self.span(child)
                raw = self.text[start:end]
                argv.append(new_word(raw, raw, start, end))

    def assignment(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> Assignment:
        start, end = self.span(node)
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = self.node_text(name_node) if name_node is not None else ""
        value = self.word(value_node, scopes) if value_node is not None else None
        return Assignment(name, value, self.text[start:end], start, end)

    def redirect(self, node: tree_sitter.Node, scopes: tuple[Scope, ...],
                 argv: list[Word]) -> list[Redirect]:
        """The redirections written in one redirect node (a heredoc can carry `>file` too)."""
        if node.type == "heredoc_redirect":
            return self.heredoc(node, scopes, argv)
        start, end = self.span(node)
        fd: int | None = None
        operator = ""
        target: Word | None = None
        for child in node.children:
            ckind = child.type
            if ckind == "file_descriptor":
                fd = _fd(self.node_text(child))
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
                fd = _fd(self.node_text(child))
            elif kind == "heredoc_start":
                delimiter_end = self.span(child)[1]
                delimiter_raw = self.node_text(child)
            elif kind == "heredoc_body":
                body_node = child
                self.scan(child, scopes)         # an unquoted body may run $(...)
            elif kind == "heredoc_end":
                end_node = child
            elif kind in REDIRECT_TYPES:
                nested.extend(self.redirect(child, scopes, argv))
        body_start, body_end, heredoc_end = self._heredoc_body(node, body_node, end_node)
        quoted = any(q in delimiter_raw for q in "'\"\\")
        delimiter = delimiter_raw.replace("'", "").replace('"', "").replace("\\", "")
        heredoc = Heredoc(delimiter, quoted, operator == "<<-", body_start, body_end, heredoc_end)
        return [Redirect(operator, fd, None, heredoc, start, delimiter_end), *nested]

    def _heredoc_body(self, node: tree_sitter.Node, body_node: tree_sitter.Node | None,
                      end_node: tree_sitter.Node | None) -> tuple[int, int, int]:
        """(body start, body end, end of the delimiter line) of a heredoc."""
        text = self.text
        line_end = self.heredoc_line_end(node)
        if end_node is not None:
            end_start, heredoc_end = self.span(end_node)
            body_end = text.rfind("\n", 0, end_start) + 1
        else:   # unterminated: the body runs to the end of the text
            body_end = heredoc_end = len(text)
        body_start = text.rfind("\n", 0, self.span(body_node)[0]) + 1 if body_node is not None else body_end
        if body_start <= line_end:     # no newline between the operator and the body
            body_start = min(body_end, line_end + 1)
        return body_start, body_end, heredoc_end

    # words
    def word(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> Word:
        start, end = self.span(node)
        raw = self.text[start:end]
        if node.type == "word":
            # the common case, kept short: a bare word, maybe with backslash escapes
            return new_word(raw, unescape_unquoted(raw) if "\\" in raw else raw, start, end)
        return new_word(raw, self.value(node, scopes), start, end)

    def value(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> str | None:
        """The static value of a word node, or None; runs into substitutions on the way."""
        kind = node.type
        if kind == "word":
            raw = self.node_text(node)
            return unescape_unquoted(raw) if "\\" in raw else raw
        if kind in _LITERAL_TYPES:
            return self.node_text(node)
        if kind == "raw_string":
            return self.node_text(node)[1:-1]
        if kind in ("string", "translated_string"):
            return self._string_value(node, scopes)
        if kind == "ansi_c_string":
            return _decode_ansi_c(self.node_text(node)[2:-1])
        if kind == "concatenation":
            return self._concatenation_value(node, scopes)
        if kind == "variable_assignment":
            return self._assignment_value(node, scopes)
        self.scan(node, scopes)
        return None

    def _string_value(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> str | None:
        static = True
        for child in node.children:
            if child.is_named and child.type != "string_content":
                static = False
                self.scan(child, scopes)
        if not static:
            return None
        raw = self.node_text(node)
        return _unescape_double_quoted(raw[2 if node.type == "translated_string" else 1:-1])

    def _concatenation_value(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> str | None:
        pieces: list[str] | None = []
        for child in node.children:
            piece = self.value(child, scopes) if child.is_named else self.node_text(child)
            if piece is None:
                pieces = None
            elif pieces is not None:
                pieces.append(piece)
        return None if pieces is None else "".join(pieces)

    def _assignment_value(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> str | None:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = self.node_text(name_node) if name_node is not None else ""
        # `A+=x` keeps its operator
        operator_end = value_node.start_byte if value_node is not None else node.end_byte
        operator = self.text[self.span(name_node)[1] if name_node is not None else 0:self.offset(operator_end)]
        if value_node is None:
            return name + operator
        value = self.value(value_node, scopes)
        return None if value is None else name + operator + value

    def scan(self, node: tree_sitter.Node, scopes: tuple[Scope, ...]) -> None:
        """Emit the commands of every $(...), `...`, <(...) below node."""
        substitution = _SUBSTITUTIONS.get(node.type)
        if substitution is not None:
            self.substitutions = True
            self.emit_sequence(node.children, (*scopes, substitution))
            return
        for child in node.children:
            if child.child_count:
                self.scan(child, scopes)


def _fd(text: str) -> int | None:
    return int(text) if text.isdigit() else None


# --------------------------------------------------------------------------- wrappers

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
WRAPPER_NAMES = frozenset(_WRAPPER_OPTIONS_WITH_VALUE)


def resolve_wrappers(argv: list[Word]) -> tuple[int | None, tuple[Word, ...]]:
    """Index of the command that really runs, and the wrapper words skipped to reach it."""
    if not argv:
        return None, ()
    index = 0
    wrappers: list[Word] = []
    while index < len(argv):
        text = argv[index].text
        wrapper = posixpath.basename(text) if text else ""
        if wrapper not in _WRAPPER_OPTIONS_WITH_VALUE:
            break
        position = _wrapped(argv, index, wrapper)
        if position is None:
            break                     # the wrapper is the command: `env`, `sudo -i`, `command -v x`
        wrappers.append(argv[index])
        index = position
    return index, tuple(wrappers)


def _wrapped(argv: list[Word], index: int, wrapper: str) -> int | None:
    """Where the command the wrapper at `index` runs starts; None when it runs none."""
    with_value = _WRAPPER_OPTIONS_WITH_VALUE[wrapper]
    stops = _WRAPPER_STOP_OPTIONS.get(wrapper, frozenset())
    position = index + 1
    count = len(argv)
    while position < count:
        arg = argv[position].text
        if arg is None:
            break
        if arg == "--":
            position += 1
            break
        if arg in stops or arg.split("=", 1)[0] in stops:
            return None
        if wrapper in ("env", "sudo") and _ASSIGNMENT_WORD.match(arg):
            position += 1         # env A=b cmd / sudo A=b cmd
        elif arg.startswith("-") and len(arg) > 1:
            # `-u root` takes the next word; `-uroot` and `--user=root` do not
            position += 2 if arg in with_value else 1
        else:
            break
    return position if position < count else None


def _unquoted_glob(raw: str) -> bool:
    """`raw` holds a `*`, `?` or `[` the shell expands against the filesystem (not quoted or escaped)."""
    if "*" not in raw and "?" not in raw and "[" not in raw:
        return False
    single = double = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and not single:
            i += 2
            continue
        if c == "'" and not double:
            single = not single
        elif c == '"' and not single:
            double = not double
        elif c in "*?[" and not single and not double:
            return True
        i += 1
    return False


def glob_base(word: Word) -> tuple[bool, str | None]:
    """(the word is a glob the shell expands, the directory it lists: "" for the working
    directory, None when only known at run time). `conf/*.conf` lists `conf`."""
    if not _unquoted_glob(word.raw):
        return False, None
    if word.text is None:
        return True, None
    parts = word.text.split("/")
    static = []
    for part in parts:
        if any(c in part for c in "*?["):
            break
        static.append(part)
    base = "/".join(static)
    return True, (base or "/") if word.text.startswith("/") else base


def literal_prefix(word: Word) -> str:
    """What the word's value starts with for sure: its text up to the first expansion (`$`, a
    backquote) or unquoted glob character, quotes and escapes removed. The whole text when it
    has no expansion."""
    if word.text is not None and not _unquoted_glob(word.raw):
        return word.text
    out: list[str] = []
    raw = word.raw
    quote = ""      # the quote character the walk is inside of
    i = 0
    while i < len(raw):
        c = raw[i]
        if quote == "'":            # inside single quotes only the closing quote is special
            if c == "'":
                quote = ""
            else:
                out.append(c)
        elif c == "\\" and i + 1 < len(raw):
            out.append(_escaped(raw[i + 1], in_double=quote == '"'))
            i += 1
        elif c in "$`" or (not quote and c in "*?["):
            break
        elif c == '"':
            quote = "" if quote else '"'
        elif c == "'" and not quote:
            quote = "'"
        else:                       # a `'` inside double quotes is text
            out.append(c)
        i += 1
    return "".join(out)


def _escaped(c: str, *, in_double: bool) -> str:
    """The text a backslash and `c` stand for (outside quotes: `c`; inside double quotes the
    backslash stays, but before `$`, a backquote, `"`, a backslash or a newline)."""
    if c == "\n":
        return ""
    if not in_double or c in '$`"\\':
        return c
    return "\\" + c

"""Parse a RUN's shell command with tree-sitter-bash into the model of :mod:`dockopt.shell.model`.

Parsing is eager and cheap (it happens in C); the flat command list, the top-level chain and the
function definitions are built together on first use by one walk (`walk`) that only visits
statements and the words of commands (`words`).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from .script import ErrorSpan, Script, set_option_changes

__all__ = ["ErrorSpan", "Script", "parse_script", "set_option_changes"]

if TYPE_CHECKING:  # the grammar is loaded on the first parse: a file without RUN never needs it
    import tree_sitter


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    # Building the Language and the Parser costs far more than parsing one RUN;
    # one pair serves every call (the parser is not shared across threads).
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def warm_up() -> None:
    """Load the shell grammar now (worker processes forked after this share it)."""
    _parser()


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


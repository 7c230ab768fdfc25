"""ARG and ENV words: the pairs an instruction sets, quote removal, `$VAR` expansion."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from ..syntax.arguments import Parsed

__all__ = ["arg_env_pairs", "expand", "references", "unquote", "variable_reference"]

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_REFERENCE = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")


def arg_env_pairs(parsed: Parsed) -> Iterator[tuple[str, str | None]]:
    """The (key, value) pairs an ARG or ENV sets, values as written; an ARG without a default has
    value None."""
    kw = parsed.keyword.lower()
    if kw == "env":
        yield from zip(parsed.values[::2], parsed.values[1::2], strict=False)
    elif kw == "arg":
        for word in parsed.values:
            key, eq, value = word.partition("=")
            yield key, value if eq else None


def unquote(value: str) -> str:
    """A Dockerfile word after quote removal (ENV/LABEL/ARG values keep their quotes in the tree)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace('\\"', '"') if value[0] == '"' else inner
    return value.replace("\\ ", " ")


def expand(text: str, env: Mapping[str, str | None]) -> str | None:
    """`$VAR` / `${VAR}` replaced by their values; None when a variable has no known value."""
    failed = False

    def sub(m: re.Match[str]) -> str:
        nonlocal failed
        value = env.get(m.group(1) or m.group(2))
        if value is None:
            failed = True
            return ""
        return value

    out = _VAR.sub(sub, text)
    return None if failed else out


def references(text: str) -> frozenset[str]:
    """The names of the variables `text` refers to."""
    return frozenset(m.group(1) or m.group(2) for m in _VAR.finditer(text))


def variable_reference(word: str) -> str | None:
    """The variable's name when `word` is nothing but `$NAME` or `${NAME}`."""
    m = _REFERENCE.fullmatch(word)
    return (m.group(1) or m.group(2)) if m else None

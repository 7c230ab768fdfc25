"""`--write --verify` / `--diff --verify`: the fixes of one file as the verifier's fix items, and
the rewrite made of a chosen set of them.

The verifier (dockopt.verify.prove) builds and checks; it knows nothing of rules.  This module
gives it each applied finding's fix with what its rule declares it may change in the image
(`Pass.may_change`), and a function that re-runs the fixer with only the chosen fixes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .findings import Finding, Safety
from .fixer import FixResult
from .lint import by_code

# re-runs the fixer on the input; the argument says which findings' fixes may be applied
Refix = Callable[..., FixResult]


def key_of(finding: Finding) -> tuple[str, int, int]:
    """A fix's identity across fixer runs: its rule and its finding's place in the input."""
    return (finding.code, finding.line, finding.column)


def fix_items(applied: list[Finding]) -> tuple[list[Any], list[tuple[Any, str]]]:
    """(the fixes to prove, the fixes left out with the reason) of the findings --write applies.

    A fix is left out when it writes a side file the builds cannot read (one other than the
    .dockerignore, which the verifier builds with)."""
    from .verify.prove import FixItem

    # fixes of one rule at one place (two DO204 exclusions of one COPY) are tried together
    grouped: dict[tuple[str, int, int], list[Finding]] = {}
    for finding in applied:
        if finding.fix is not None:
            grouped.setdefault(key_of(finding), []).append(finding)
    items, left_out = [], []
    for key, findings in grouped.items():
        declared = getattr(by_code().get(key[0]), "may_change", None)
        item = FixItem(key=key, title="; ".join(dict.fromkeys(f.fix.title for f in findings if f.fix)),
                       config=frozenset(declared.config) if declared else frozenset(),
                       paths=tuple(declared.paths) if declared else ())
        unread = [w.path for f in findings if f.fix for w in f.fix.files if not w.path.endswith(".dockerignore")]
        if unread:
            left_out.append((item, f"it writes {', '.join(unread)}, which the verification builds do not read"))
        else:
            items.append(item)
    # the likeliest to fail last: the safe fixes are then proven together by one build, and a
    # failing unsafe one is isolated in fewer steps
    items.sort(key=lambda item: (needs_proof(item.code), _unsafe(applied, item.key), item.line))
    return items, left_out


def _unsafe(applied: list[Finding], key: tuple[str, int, int]) -> bool:
    return any(key_of(f) == key and f.fix is not None and f.fix.safety is Safety.UNSAFE for f in applied)


def renderer(refix: Refix) -> Callable[[frozenset[tuple[str, int, int]]], tuple[str, dict[str, str]]]:
    """The rewrite with only the fixes whose keys are given: its text and its side files."""
    def render(keys: frozenset[tuple[str, int, int]]) -> tuple[str, dict[str, str]]:
        result = refix(accept=lambda f: key_of(f) in keys)
        return result.text, dict(result.files)
    return render


def needs_proof(code: str) -> bool:
    """Whether the rule's fix is applied by --unsafe-fixes only when --verify proves it."""
    return bool(getattr(by_code().get(code), "needs_proof", False))

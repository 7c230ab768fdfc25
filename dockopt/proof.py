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
    """(the fixes to prove, the fixes left out with the reason) of the findings --write applies."""
    from .verify.prove import FixItem

    items, left_out, seen = [], [], set()
    for finding in applied:
        if finding.fix is None or key_of(finding) in seen:
            continue
        seen.add(key_of(finding))
        rule = by_code().get(finding.code)
        declared = getattr(rule, "may_change", None)
        item = FixItem(key=key_of(finding), title=finding.fix.title,
                       config=frozenset(declared.config) if declared else frozenset(),
                       paths=tuple(declared.paths) if declared else ())
        if finding.fix.files:
            paths = ", ".join(w.path for w in finding.fix.files)
            left_out.append((item, f"it writes {paths}, which the verification builds do not read"))
        else:
            items.append(item)
    # the likeliest to fail last: the safe fixes are then proven together by one build, and a
    # failing unsafe one is isolated in fewer steps
    items.sort(key=lambda item: (needs_proof(item.code), _unsafe(applied, item.key), item.line))
    return items, left_out


def _unsafe(applied: list[Finding], key: tuple[str, int, int]) -> bool:
    return any(key_of(f) == key and f.fix is not None and f.fix.safety is Safety.UNSAFE for f in applied)


def renderer(refix: Refix) -> Callable[[frozenset[tuple[str, int, int]]], str]:
    """The rewrite with only the fixes whose keys are given (and no side file)."""
    def render(keys: frozenset[tuple[str, int, int]]) -> str:
        return refix(accept=lambda f: key_of(f) in keys).text
    return render


def needs_proof(code: str) -> bool:
    """Whether the rule's fix is applied by --unsafe-fixes only when --verify proves it."""
    return bool(getattr(by_code().get(code), "needs_proof", False))

"""docs/rules.md, generated from the passes' own documentation.

    python -m dockopt.rules_doc > docs/rules.md

A test fails when the committed file is stale.
"""
from __future__ import annotations

from .passes import ALL_PASSES


def render() -> str:
    out = ["# dockopt rules", "",
           "Generated from the pass modules by `python -m dockopt.rules_doc`; do not edit by hand.", "",
           "| code | name | summary |", "|---|---|---|"]
    for p in ALL_PASSES:
        out.append(f"| [{p.code}](#{p.code.lower()}-{p.name}) | `{p.name}` | {p.summary} |")
    for p in ALL_PASSES:
        out += ["", f"## {p.code} {p.name}", "", p.summary, ""]
        out.append(_shift_headings(p.docs()))
    return "\n".join(out).rstrip() + "\n"


def _shift_headings(markdown: str) -> str:
    """The pass docs use `##` headings; under a rule's `##` they become `###`."""
    lines = []
    fence = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("#"):
            line = "#" + line
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")

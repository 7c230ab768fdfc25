"""docs/rules.md, generated from the rules' own documentation.

    python -m dockopt.rules_doc > docs/rules.md

A test fails when the committed file is stale.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from .suppress import HADOLINT_EQUIVALENTS, hadolint_codes_for

EXAMPLE_BASE = "FROM debian:bookworm\n"  # for an example that shows instructions without their FROM


def render() -> str:
    from .lint import RULES

    out = ["# dockopt rules", "",
           "Generated from the rule modules by `python -m dockopt.rules_doc`; do not edit by hand.", "",
           "| code | name | severity | hadolint | summary |", "|---|---|---|---|---|"]
    for p in RULES:
        dl = ", ".join(hadolint_codes_for(p.code))
        out.append(f"| [{p.code}](#{p.code.lower()}-{p.name}) | `{p.name}` | {p.severity} | {dl} | {p.summary} |")
    out += ["", *SUPPRESSING.strip().splitlines(), "", "| hadolint | dockopt |", "|---|---|"]
    out += [f"| {dl} | {do} |" for dl, do in sorted(HADOLINT_EQUIVALENTS.items())]
    for p in RULES:
        out += ["", f"## {p.code} {p.name}", "", p.summary, "",
                f"Severity: {p.severity}. {suppression_note(p)}", ""]
        out.append(_shift_headings(p.docs()))
    return "\n".join(out).rstrip() + "\n"


SUPPRESSING = """
## Severities and suppressions

Every rule has a severity (`error`, `warning` or `info`), which a configuration can change
(`[tool.dockopt.severity]`, e.g. `DO101 = "error"`); `--fail-level LEVEL` (or `fail-level`)
makes only findings at or above LEVEL fail the run.

A finding is suppressed by `# dockopt: ignore=CODE[,CODE...]` (codes or prefixes) in the
comment lines directly above the instruction it is located on, and every finding of a file by
`# dockopt: ignore-file`. A finding located on a `FROM` line is about its whole stage: its
suppression may also sit above any `USER` of that stage or above the stage's last instruction.
A code of such a comment that silences nothing is reported as DO900 (unused-suppression).

hadolint's comments count too: `# hadolint ignore=DL3059` above an instruction silences the
dockopt rule that reports the same problem, and `# hadolint global ignore=...` does so for the
file. The equivalences:
"""


def suppression_note(rule: Any) -> str:
    """Where a suppression comment for this rule goes, from what the rule reports on its own
    documented example."""
    keywords = _reported_keywords(rule.code)
    where = "above the instruction the finding is located on"
    if keywords:
        names = " or ".join(f"`{k}`" for k in keywords)
        where = f"above the {names} the finding is located on"
        if "FROM" in keywords:
            where += " (or above a `USER` of that stage, or its last instruction)"
    comment = f"`# dockopt: ignore={rule.code}`"
    dl = hadolint_codes_for(rule.code)
    hadolint = f", or hadolint's `# hadolint ignore={dl[0]}`" if len(dl) == 1 else \
        (f", or hadolint's `# hadolint ignore=` with one of {', '.join(dl)}" if dl else "")
    return f"Suppress with {comment}{hadolint} {where}."


@cache
def _reported_keywords(code: str) -> tuple[str, ...]:
    from .lint import Linter, by_code
    from .syntax import parse

    rule = by_code()[code]
    if getattr(rule, "needs_context", False) or not hasattr(rule, "check") or code == "DO900":
        return ()
    example = example_of(rule.docs())
    if example is None:
        return ()
    tree = parse(example)
    lines = {ins.start_line: ins.keyword for ins in tree.instructions}
    findings = Linter([rule], report_unused=False).run(tree)
    return tuple(sorted({lines[f.line] for f in findings if f.line in lines}))


def example_of(docs: str) -> str | None:
    """The first Dockerfile of a rule's `## Example`, with a FROM when it shows none."""
    section = docs.split("## Example", 1)[-1].split("\n## ", 1)[0]
    m = re.search(r"```dockerfile\n(.*?)```", section, re.S)
    if m is None:
        return None
    text = m.group(1)
    return text if re.search(r"^\s*FROM\s", text, re.M | re.I) else EXAMPLE_BASE + text


def _shift_headings(markdown: str) -> str:
    """The rule docs use `##` headings; under a rule's `##` they become `###`."""
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

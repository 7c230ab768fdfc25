"""The human format: one line per finding, a closing summary, and coloured diffs.

    Dockerfile:3:1: DO101 apt-get install without --no-install-recommends [*]
    Dockerfile:9:1: DO204 the runtime stage could be distroless [*?]

``[*]`` marks a finding whose fix ``--write`` applies; ``[*?]`` one whose fix
is unsafe and needs ``--unsafe-fixes`` too.  Suggestion-only fixes get no
marker.  Colours come from rich, and only when the stream is a terminal and
``NO_COLOR`` is unset (https://no-color.org).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from rich.console import Console
from rich.text import Text

from dockopt.findings import Finding, Safety
from dockopt.report import FileReport, ReportOptions, RuleInfo, sorted_findings
from dockopt.report.summary import Summary

__all__ = [
    "FIXABLE_MARKER",
    "UNSAFE_FIX_MARKER",
    "fix_marker",
    "format_text",
    "make_console",
    "print_diff",
    "print_text",
    "text_lines",
    "use_color",
]

FIXABLE_MARKER = "[*]"
UNSAFE_FIX_MARKER = "[*?]"


def use_color(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to a non-empty value."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def make_console(stream: IO[str] | None = None, *, color: bool | None = None) -> Console:
    """A rich Console for dockopt's output; ``color=None`` decides with use_color()."""
    stream = stream if stream is not None else sys.stdout
    if color is None:
        color = use_color(stream)
    return Console(
        file=stream,
        force_terminal=color,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,  # no guessing at numbers and paths in messages
        markup=False,  # messages may contain "[...]"
        emoji=False,
        soft_wrap=True,  # one finding is one line, whatever the terminal width
    )


def fix_marker(finding: Finding, options: ReportOptions) -> str:
    fix = finding.fix
    if fix is None or fix.safety is Safety.DISPLAY:
        return ""
    if fix.safety is Safety.SAFE or options.unsafe_fixes:
        return FIXABLE_MARKER
    return UNSAFE_FIX_MARKER


def _one_line(text: str) -> str:
    # a finding is one line: tools grep and editors jump on "path:line:col:"
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _finding_line(path: str, finding: Finding, options: ReportOptions) -> Text:
    line = Text()
    line.append(path, style="bold")
    line.append(f":{finding.line}:{finding.column}:", style="dim")
    line.append(" ")
    line.append(finding.code, style="bold red")
    line.append(" ")
    line.append(_one_line(finding.message))
    marker = fix_marker(finding, options)
    if marker:
        line.append(" ")
        line.append(marker, style="cyan" if marker == FIXABLE_MARKER else "yellow")
    return line


def text_lines(
    reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions
) -> Iterator[Text]:
    """Every line of the text output, styled (``rules`` is unused: the code says enough on a line)."""
    for report in reports:
        # errors themselves go to stderr as `path:line:col: message` (the CLI prints them);
        # here they only count in the summary
        for finding in sorted_findings(report.findings):
            yield _finding_line(report.path, finding, options)
    summary = Summary.of(reports, options)
    closing = summary.text_lines(options.write)
    if summary.findings or summary.errors:
        yield Text("")
    for index, text in enumerate(closing):
        style = "bold green" if summary.all_passed else ("bold" if index == 0 else "")
        yield Text(text, style=style)


def format_text(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    """The text output without colours, newline-terminated."""
    return "".join(line.plain + "\n" for line in text_lines(reports, rules, options))


def print_text(
    reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions, console: Console
) -> None:
    for line in text_lines(reports, rules, options):
        console.print(line)


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return ""


def print_diff(diff_text: str, console: Console) -> None:
    """Print a unified diff, headers bold, hunks cyan, additions green, removals red."""
    for line in diff_text.splitlines():
        console.print(Text(line, style=_diff_style(line)))

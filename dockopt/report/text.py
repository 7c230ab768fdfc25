"""The human format: one line per finding (concise) or with its source lines (full), a closing
summary, and coloured diffs.

    Dockerfile:3:1: DO101 5 consecutive RUN instructions (lines 3, 4, 5, 6, 7) can be one layer [*]
    Dockerfile:9:1: DO301 A single-stage build ships its toolchain [*?]

``[*]`` marks a finding that ``--write`` fixes (or makes moot) with the run's options; ``[*?]``
one whose fix is unsafe and needs ``--unsafe-fixes`` too. Colours come from rich, and only when
the stream is a terminal and ``NO_COLOR`` is unset (https://no-color.org), or when
``FORCE_COLOR`` is set to a non-empty value; rich is not even imported for plain output.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, TypeGuard, cast

from dockopt.findings import Finding, Safety
from dockopt.report import FileReport, ReportOptions, RuleInfo, printable, sorted_findings
from dockopt.report.summary import Summary

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = [
    "FIXABLE_MARKER",
    "UNSAFE_FIX_MARKER",
    "Line",
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
SNIPPET_LINES = 6  # a longer finding shows its first lines, "...", and its last line


class Line:
    """One output line as styled segments; `plain` is what a pipe gets."""

    __slots__ = ("segments",)

    def __init__(self, *segments: tuple[str, str]):
        self.segments: list[tuple[str, str]] = list(segments)

    def append(self, text: str, style: str = "") -> Line:
        self.segments.append((text, style))
        return self

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.segments)


def use_color(stream: IO[str]) -> bool:
    """Colour for a terminal, never when NO_COLOR is set, always when FORCE_COLOR is set
    (both only when non-empty; NO_COLOR wins)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def make_console(stream: IO[str] | None = None, *, color: bool | None = None) -> Console:
    """A rich Console for dockopt's output; ``color=None`` decides with use_color()."""
    from rich.console import Console

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


def fix_marker(finding: Finding, options: ReportOptions, report: FileReport | None = None) -> str:
    """`[*]` when --write fixes the finding (or makes it moot), `[*?]` when an unsafe fix
    would, with --unsafe-fixes; "" otherwise."""
    if report is not None and report.will_fix(finding):
        return FIXABLE_MARKER
    fix = finding.fix
    if fix is None or fix.safety is Safety.DISPLAY:
        return ""
    if fix.safety is Safety.UNSAFE and not options.unsafe_fixes:
        return UNSAFE_FIX_MARKER
    return ""


def _one_line(text: str) -> str:
    # a finding is one line: tools grep and editors jump on "path:line:col:"
    return " ".join(part.strip() for part in printable(text).splitlines() if part.strip())


def _finding_line(report: FileReport, finding: Finding, options: ReportOptions) -> Line:
    line = Line((report.path, "bold"), (f":{finding.line}:{finding.column}:", "dim"), (" ", ""),
                (finding.code, "bold red"), (" ", ""), (_one_line(finding.message), ""))
    marker = fix_marker(finding, options, report)
    if marker:
        line.append(" ")
        line.append(marker, "cyan" if marker == FIXABLE_MARKER else "yellow")
    return line


def _snippet(report: FileReport, finding: Finding, options: ReportOptions) -> Iterator[Line]:
    """The source lines of a finding, ruff's way: a gutter, the lines, a caret line, the fix."""
    if report.source is None:
        return
    source = report.source.split("\n")
    first = min(max(finding.line, 1), len(source))
    last = min(max(finding.end_line or first, first), len(source))
    numbers = list(range(first, last + 1))
    if len(numbers) > SNIPPET_LINES:
        numbers = [*numbers[:SNIPPET_LINES - 1], 0, numbers[-1]]
    width = len(str(last))
    gutter = " " * width + " |"
    yield Line((gutter, "blue"))
    for number in numbers:
        if number == 0:
            yield Line((" " * width + " ...", "blue"))
            continue
        raw = source[number - 1].rstrip("\r")
        # a byte-order mark is no column of the line (BuildKit drops it): not shown, not underlined
        text = printable(raw.removeprefix("\ufeff") if number == 1 else raw)
        yield Line((f"{number:>{width}} | ", "blue"), (text, ""))
        if number == first:
            start = max(finding.column - 1, 0)
            length = max(len(text.rstrip()) - start, 1)
            yield Line((gutter + " ", "blue"), (" " * start + "^" * length, "bold red"),
                       (f" {finding.code} ({finding.severity})", "bold red"))
    yield Line((gutter, "blue"))
    fix = finding.fix
    if fix is not None and fix.title:
        how = {Safety.SAFE: "fix", Safety.UNSAFE: "unsafe fix", Safety.DISPLAY: "suggestion"}[fix.safety]
        if fix.safety is Safety.UNSAFE and not options.unsafe_fixes:
            how += ", with --unsafe-fixes"
        yield Line((" " * width + " = ", "blue"), (f"{how}: {_one_line(fix.title)}", "cyan"))
    yield Line()


def _statistics(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> Iterator[Line]:
    """ruff's --statistics: one line per rule, the most frequent first."""
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    for report in reports:
        for finding in report.findings:
            counts[finding.code] += 1
            fixable[finding.code] += fix_marker(finding, options, report) == FIXABLE_MARKER
    width = len(str(max(counts.values(), default=0)))
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = rules.get(code)
        marker = FIXABLE_MARKER if fixable[code] == count else ("[-]" if fixable[code] else "   ")
        yield Line((f"{count:>{width}}  ", ""), (code, "bold red"), (f"  {marker} ", "cyan"),
                   (rule.name if rule else "", ""))


def _fixes(reports: Sequence[FileReport], options: ReportOptions) -> Iterator[Line]:
    """--show-fixes: every fix --write applied (or applies), located in the file as it was."""
    entries = [(r.path, f) for r in reports for f in sorted_findings(r.fixed) if f.fix is not None]
    if not entries:
        return
    yield Line(("Fixed:" if options.write else "Fixes --write applies:", "bold"))
    for path, finding in entries:
        assert finding.fix is not None
        yield Line((f"  {path}:{finding.line}:{finding.column}: ", ""), (finding.code, "bold red"),
                   (f" {_one_line(finding.fix.title)}", ""))
    yield Line()


def text_lines(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> Iterator[Line]:
    """Every line of the text output, styled."""
    if options.statistics:
        yield from _statistics(reports, rules, options)
    else:
        for report in reports:
            # errors themselves go to stderr as `path:line:col: message` (the CLI prints them);
            # here they only count in the summary
            for finding in sorted_findings(report.findings):
                yield _finding_line(report, finding, options)
                if options.output_format == "full":
                    yield from _snippet(report, finding, options)
    summary = Summary.of(reports, options)
    if summary.findings and options.output_format != "full":
        yield Line()
    if options.show_fixes:
        yield from _fixes(reports, options)
    closing = summary.text_lines(options.write)
    for index, text in enumerate(closing):
        style = "bold green" if summary.all_passed else ("bold" if index == 0 else "")
        yield Line((text, style))


def format_text(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    """The text output without colours, newline-terminated."""
    return "".join(line.plain + "\n" for line in text_lines(reports, rules, options))


def print_text(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions,
               stream: IO[str] | Console) -> None:
    """Print the text output to a stream (coloured as use_color() says) or a rich Console."""
    lines = text_lines(reports, rules, options)
    _emit(lines, stream)


def _is_console(stream: IO[str] | Console) -> TypeGuard[Console]:
    # rich is imported only by whoever made a Console: no isinstance() against an unloaded class
    return hasattr(stream, "print") and hasattr(stream, "is_terminal")


def _emit(lines: Iterator[Line], stream: IO[str] | Console) -> None:
    if _is_console(stream):
        console = stream
    else:
        plain = cast("IO[str]", stream)
        if not use_color(plain):
            for line in lines:
                plain.write(line.plain + "\n")
            return
        console = make_console(plain)
    from rich.text import Text

    for line in lines:
        text = Text()
        for part, style in line.segments:
            text.append(part, style=style or None)
        console.print(text)


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


def print_diff(diff_text: str, stream: IO[str] | Console) -> None:
    """Print a unified diff, headers bold, hunks cyan, additions green, removals red."""
    if not _is_console(stream) and not use_color(plain := cast("IO[str]", stream)):
        plain.write(diff_text)  # as is, CR and all
        return
    _emit((Line((line, _diff_style(line))) for line in diff_text.splitlines()), stream)

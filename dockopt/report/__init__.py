"""Output formats: what a run found and fixed, rendered as text, JSON, SARIF, GitHub annotations,
Checkstyle XML, a GitLab Code Quality report or JUnit XML.

Every formatter takes the same three things: the per-file results
(``FileReport``), the rule table (``RuleInfo`` by code) and the run's
``ReportOptions``.  ``render`` picks a formatter by name.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.findings import Finding

__all__ = [
    "FORMATS",
    "FileReport",
    "ReportOptions",
    "RuleInfo",
    "fix_will_apply",
    "printable",
    "render",
    "sorted_findings",
    "tool_version",
]

TOOL_NAME = "dockopt"
FORMATS = ("text", "json", "sarif", "github", "checkstyle", "gitlab", "junit")


@dataclass(frozen=True)
class RuleInfo:
    """What the rule table says about one code (produced by the pass framework)."""

    code: str  # "DO101"
    name: str  # short kebab-case identifier, e.g. "apt-no-install-recommends"
    summary: str  # one sentence
    docs_markdown: str = ""  # the rule's documentation page
    tags: tuple[str, ...] = ()  # extra SARIF tags, e.g. ("size", "apt")
    severity: str = "warning"  # the rule's own: "info", "warning" or "error"


@dataclass(frozen=True)
class FileReport:
    """The outcome of one Dockerfile.

    ``findings`` are the findings to show: in a report, ``--check`` or ``--diff`` run the
    findings on the input; with ``--write`` the ones left after fixing (located in the
    rewritten file). ``fixed`` are the findings whose fixes ``--write`` applied (or would
    apply), located in the input. Of ``findings``, ``planned`` are those whose rule's fix
    ``--write`` applies at their place and ``resolved`` those the rewrite no longer has
    (fixed, or made moot by another fix). ``changed`` says the file was, or would be,
    rewritten. ``error`` is set when the file could not be processed (e.g. a parse error),
    with its position when it has one. ``source`` is the text the findings' positions
    refer to (for output that quotes source lines).
    """

    path: str
    findings: Sequence[Finding] = ()
    changed: bool = False
    fixed: Sequence[Finding] = ()
    error: str | None = None
    error_line: int | None = None
    error_column: int | None = None
    planned: frozenset[Finding] = frozenset()
    resolved: frozenset[Finding] = frozenset()
    source: str | None = None

    def __post_init__(self) -> None:
        # callers pass lists; keep the report itself immutable
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "fixed", tuple(self.fixed))
        object.__setattr__(self, "planned", frozenset(self.planned))
        object.__setattr__(self, "resolved", frozenset(self.resolved))

    def will_fix(self, finding: Finding) -> bool:
        """--write does something about this shown finding: applies its fix, or makes it moot."""
        return finding in self.planned or finding in self.resolved

    @property
    def error_location(self) -> str:
        """`line:column: ` of the error, or "" when it has none."""
        if self.error_line is None:
            return ""
        return f"{self.error_line}:{self.error_column or 1}: "


def tool_version() -> str:
    """The running dockopt's version (without importlib.metadata, which costs a start-up)."""
    from dockopt import __version__

    return __version__


@dataclass(frozen=True)
class ReportOptions:
    """How the run was made, as far as the output cares."""

    write: bool = False  # fixes were written to disk (--write), not just planned
    mode: str = ""  # "check", "write" or "verify" (JSON's `mode`); "" derives it from `write`
    unsafe_fixes: bool = False  # --unsafe-fixes: unsafe fixes count as applicable
    # paths in SARIF and GitHub output are made relative to this (default: the current directory)
    root: Path | None = None
    tool_version: str = field(default_factory=tool_version)
    information_uri: str | None = None  # the project's home page, for SARIF's tool.driver
    output_format: str = "concise"  # text: "concise" (a line per finding) or "full" (with source lines)
    statistics: bool = False  # text: counts per rule instead of the findings
    show_fixes: bool = False  # text: list the fixes --write applies (or applied)


def fix_will_apply(finding: Finding, options: ReportOptions) -> bool:
    """Whether the finding's fix is one ``--write`` applies under these options."""
    return finding.fix is not None and finding.fix.applies(options.unsafe_fixes)


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Position order, so that output does not depend on the order passes ran in."""
    return sorted(findings, key=lambda f: (f.line, f.column, f.code, f.message))


def render(
    format_name: str,
    reports: Sequence[FileReport],
    rules: Mapping[str, RuleInfo],
    options: ReportOptions | None = None,
) -> str:
    """The whole output of a run in one format (plain text for "text": no colours)."""
    from importlib import import_module

    options = options or ReportOptions()
    if format_name not in FORMATS:
        raise ValueError(f"unknown output format {format_name!r} (expected one of: {', '.join(FORMATS)})")
    # imported here: the format modules import this package's dataclasses
    module = import_module(f"dockopt.report.{_MODULES.get(format_name, format_name)}")
    formatter: Callable[[Sequence[FileReport], Mapping[str, RuleInfo], ReportOptions], str] = getattr(
        module, f"format_{format_name}")
    return formatter(reports, rules, options)


_MODULES = {"json": "json_format", "text": "text"}


def printable(text: str) -> str:
    """Text for formats that must be valid UTF-8 (XML, annotations): a byte of the Dockerfile
    that is not UTF-8 (kept as a lone surrogate) is shown as \\xNN."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return "".join(f"\\x{ord(ch) - 0xDC00:02x}" if "\udc80" <= ch <= "\udcff" else ch for ch in text)

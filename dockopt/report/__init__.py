"""Output formats: what a run found and fixed, rendered as text, JSON, SARIF or GitHub annotations.

Every formatter takes the same three things: the per-file results
(``FileReport``), the rule table (``RuleInfo`` by code) and the run's
``ReportOptions``.  ``render`` picks a formatter by name.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.findings import Finding, Safety

__all__ = [
    "FORMATS",
    "FileReport",
    "ReportOptions",
    "RuleInfo",
    "fix_will_apply",
    "render",
    "sorted_findings",
    "tool_version",
]

TOOL_NAME = "dockopt"
FORMATS = ("text", "json", "sarif", "github")


@dataclass(frozen=True)
class RuleInfo:
    """What the rule table says about one code (produced by the pass framework)."""

    code: str  # "DO101"
    name: str  # short kebab-case identifier, e.g. "apt-no-install-recommends"
    summary: str  # one sentence
    docs_markdown: str = ""  # the rule's documentation page
    tags: tuple[str, ...] = ()  # extra SARIF tags, e.g. ("size", "apt")


@dataclass(frozen=True)
class FileReport:
    """The outcome of one Dockerfile.

    ``findings`` are the findings to show for the file as it now stands: in a
    check run every finding; with ``--write`` the ones left after fixing
    (their positions refer to the rewritten file).  ``fixed`` are the findings
    whose fixes were applied (``--write``) or would be applied by ``--write``
    (check run; they then also appear in ``findings``).  ``changed`` says the
    file was, or would be, rewritten.  ``error`` is set when the file could not
    be processed (e.g. a parse error).
    """

    path: str
    findings: Sequence[Finding] = ()
    changed: bool = False
    fixed: Sequence[Finding] = ()
    error: str | None = None

    def __post_init__(self) -> None:
        # callers pass lists; keep the report itself immutable
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "fixed", tuple(self.fixed))


def tool_version() -> str:
    """The installed dockopt version, or a placeholder when running from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(TOOL_NAME)
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class ReportOptions:
    """How the run was made, as far as the output cares."""

    write: bool = False  # fixes were written to disk (--write), not just planned
    unsafe_fixes: bool = False  # --unsafe-fixes: unsafe fixes count as applicable
    # paths in SARIF and GitHub output are made relative to this (default: the current directory)
    root: Path | None = None
    tool_version: str = field(default_factory=tool_version)
    information_uri: str | None = None  # the project's home page, for SARIF's tool.driver


def fix_will_apply(finding: Finding, options: ReportOptions) -> bool:
    """Whether the finding's fix is one ``--write`` applies under these options."""
    if finding.fix is None:
        return False
    if finding.fix.safety is Safety.SAFE:
        return True
    return finding.fix.safety is Safety.UNSAFE and options.unsafe_fixes


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
    options = options or ReportOptions()
    # imported here: the format modules import this package's dataclasses
    if format_name == "text":
        from dockopt.report.text import format_text

        return format_text(reports, rules, options)
    if format_name == "json":
        from dockopt.report.json_format import format_json

        return format_json(reports, rules, options)
    if format_name == "sarif":
        from dockopt.report.sarif import format_sarif

        return format_sarif(reports, rules, options)
    if format_name == "github":
        from dockopt.report.github import format_github

        return format_github(reports, rules, options)
    raise ValueError(f"unknown output format {format_name!r} (expected one of: {', '.join(FORMATS)})")

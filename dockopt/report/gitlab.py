"""GitLab's Code Quality report (a Code Climate subset): a JSON array, one issue per finding.

    [{"description": "...", "check_name": "DO104", "fingerprint": "...", "severity": "major",
      "location": {"path": "Dockerfile", "lines": {"begin": 3, "end": 3}}}]

GitLab shows these in merge requests (``artifacts: reports: codequality``). Severities map to
GitLab's: error -> critical, warning -> major, info -> info; a file that could not be processed
is a ``blocker``. The fingerprint hashes rule, path, message and occurrence (not the line), so
an issue keeps its identity when lines above it move.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from dockopt.report import FileReport, ReportOptions, RuleInfo, sorted_findings
from dockopt.report.json_format import dumps
from dockopt.report.paths import relative_posix

__all__ = ["SEVERITIES", "format_gitlab"]

SEVERITIES = {"error": "critical", "warning": "major", "info": "info"}


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8", "surrogateescape")).hexdigest()


def _issue(check: str, description: str, severity: str, path: str, begin: int, end: int | None,
           occurrence: int) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": check,
        "description": description,
        "categories": ["Performance"] if check.startswith("DO") else ["Bug Risk"],
        "severity": severity,
        "fingerprint": _fingerprint(check, path, description, occurrence),
        "location": {"path": path, "lines": {"begin": begin, "end": max(end or begin, begin)}},
    }


def format_gitlab(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    issues = []
    for report in reports:
        path = relative_posix(report.path, options.root)
        if report.error is not None:
            issues.append(_issue("dockopt-error", report.error, "blocker", path, report.error_line or 1, None, 0))
        seen: Counter[tuple[str, str]] = Counter()
        for finding in sorted_findings(report.findings):
            key = (finding.code, finding.message)
            issues.append(_issue(finding.code, finding.message, SEVERITIES.get(finding.severity, "major"), path,
                                 finding.line, finding.end_line, seen[key]))
            seen[key] += 1
    return dumps(issues)

"""The JSON format: a stable, versioned document described in docs/json-schema.md.

Bump SCHEMA_VERSION whenever a field is removed or changes meaning; adding
a field does not need a bump (consumers must ignore fields they do not know).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dockopt.findings import Finding
from dockopt.report import TOOL_NAME, FileReport, ReportOptions, RuleInfo, sorted_findings
from dockopt.report.summary import Summary

__all__ = ["SCHEMA_VERSION", "format_json", "to_json_document"]

SCHEMA_VERSION = 1


def _finding(
    finding: Finding, rules: Mapping[str, RuleInfo], *, applied: bool, applicable: bool
) -> dict[str, Any]:
    rule = rules.get(finding.code)
    fix = None
    if finding.fix is not None:
        fix = {
            "title": finding.fix.title,
            "safety": finding.fix.safety.value,
            "applied": applied,
            "applicable": applicable,
            "edits": [{"start": e.start, "end": e.end, "text": e.text} for e in finding.fix.edits],
        }
    return {
        "code": finding.code,
        "name": rule.name if rule is not None else None,
        "message": finding.message,
        "location": {"line": finding.line, "column": finding.column, "end_line": finding.end_line},
        "fix": fix,
        # free-form details from the pass; round-tripped through JSON so it is always serializable
        "extra": json.loads(json.dumps(finding.extra, default=str)) if finding.extra else {},
    }


def _file(report: FileReport, rules: Mapping[str, RuleInfo], options: ReportOptions) -> dict[str, Any]:
    planned = set(report.fixed)
    findings = [
        _finding(f, rules, applied=False, applicable=f in planned and not options.write)
        for f in sorted_findings(report.findings)
    ]
    if options.write:
        # in a --write run the fixed findings are no longer in `findings`: list them as applied
        findings += [_finding(f, rules, applied=True, applicable=True) for f in sorted_findings(report.fixed)]
    return {"path": report.path, "changed": report.changed, "error": report.error, "findings": findings}


def to_json_document(
    reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions
) -> dict[str, Any]:
    summary = Summary.of(reports, options)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": options.tool_version},
        "mode": "write" if options.write else "check",
        "files": [_file(r, rules, options) for r in reports],
        "summary": {
            "files": summary.files,
            "files_with_findings": summary.files_with_findings,
            "findings": summary.findings,
            "fixes": summary.fixes,
            "changed_files": summary.changed_files,
            "errors": summary.errors,
            "unsafe_fixes_hidden": summary.unsafe_fixes_hidden,
        },
    }


def format_json(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    return json.dumps(to_json_document(reports, rules, options), indent=2, ensure_ascii=False) + "\n"

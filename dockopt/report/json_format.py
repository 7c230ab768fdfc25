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

__all__ = ["SCHEMA_VERSION", "dumps", "file_entry", "format_json", "to_json_document"]

SCHEMA_VERSION = 1


def _finding(
    finding: Finding, rules: Mapping[str, RuleInfo], *, applied: bool, applicable: bool, resolved: bool
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
        "severity": finding.severity,
        "message": finding.message,
        "location": {"line": finding.line, "column": finding.column, "end_line": finding.end_line},
        "fix": fix,
        "resolved": resolved,
        # free-form details from the pass; round-tripped through JSON so it is always serializable
        "extra": json.loads(json.dumps(finding.extra, default=str)) if finding.extra else {},
    }


def file_entry(report: FileReport, rules: Mapping[str, RuleInfo], options: ReportOptions) -> dict[str, Any]:
    """The `files[]` object of one Dockerfile."""
    findings = [
        _finding(f, rules, applied=False, applicable=not options.write and f in report.planned,
                 resolved=not options.write and report.will_fix(f))
        for f in sorted_findings(report.findings)
    ]
    if options.write:
        # in a --write run the fixed findings are no longer in `findings`: list them as applied
        findings += [_finding(f, rules, applied=True, applicable=True, resolved=True)
                     for f in sorted_findings(report.fixed)]
    error = None
    if report.error is not None:
        error = {"line": report.error_line, "column": report.error_column}
    return {"path": report.path, "changed": report.changed, "error": report.error, "error_location": error,
            "findings": findings}


def to_json_document(
    reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The document; ``extra`` adds keys to the file objects by path (`verify` in a --verify run)."""
    summary = Summary.of(reports, options)
    files = [file_entry(r, rules, options) for r in reports]
    for entry in files:
        entry.update((extra or {}).get(entry["path"], {}))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": options.tool_version},
        "mode": options.mode or ("write" if options.write else "check"),
        "files": files,
        "summary": {
            "files": summary.files,
            "files_with_findings": summary.files_with_findings,
            "findings": summary.findings,
            "fixes": summary.fixes,
            "fixable": summary.fixable,
            "changed_files": summary.changed_files,
            "errors": summary.errors,
            "unsafe_fixes_hidden": summary.unsafe_fixes_hidden,
        },
    }


def dumps(document: Any) -> str:
    """JSON text; a Dockerfile byte that is not UTF-8 (a lone surrogate) is written as a \\u escape,
    which JSON allows and which reads back to the same text, instead of making the output invalid UTF-8."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(document, indent=2)
    return text + "\n"


def format_json(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    return dumps(to_json_document(reports, rules, options))

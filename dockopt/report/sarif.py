"""SARIF 2.1.0 output, with what GitHub code scanning reads.

The log is built as plain dicts: the object model is small, and this keeps
runtime dependencies at zero.  Tests validate the output against the official
OASIS 2.1.0 schema.

Choices worth knowing:
* levels follow dockopt's severities (error, warning, info -> "note"): a
  rule's default in ``defaultConfiguration``, the configured one on each result;
* columns are counted in Unicode code points (``run.columnKind``), as Python
  strings index them;
* ``partialFingerprints`` hashes rule, file, message and the occurrence
  number, not the line, so an alert survives edits above it;
* fixes are described in ``result.properties`` rather than SARIF ``fixes``:
  SARIF replacements need byte or character regions we would have to
  re-derive from the file, and GitHub ignores ``fixes`` anyway.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from dockopt.findings import Finding
from dockopt.report import TOOL_NAME, FileReport, ReportOptions, RuleInfo, sorted_findings
from dockopt.report.json_format import dumps
from dockopt.report.paths import artifact_uri

__all__ = ["SARIF_SCHEMA_URI", "SARIF_VERSION", "format_sarif", "to_sarif_log"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DEFAULT_LEVEL = "warning"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
BASE_TAGS = ("dockerfile", "optimization")
FINGERPRINT_KEY = "dockoptFinding/v1"


def _first_paragraph(markdown: str) -> str:
    """The first prose paragraph of a rule's docs (headings skipped), for fullDescription."""
    for block in markdown.strip().split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines() if not line.lstrip().startswith("#")]
        text = " ".join(line for line in lines if line)
        if text:
            return text
    return ""


def _rule_descriptor(code: str, rule: RuleInfo | None) -> dict[str, Any]:
    if rule is None:
        # a code missing from the rule table still needs a descriptor for ruleIndex to point at
        return {"id": code, "defaultConfiguration": {"level": DEFAULT_LEVEL}}
    docs = rule.docs_markdown.strip()
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _first_paragraph(docs) or rule.summary},
        "help": {"text": docs or rule.summary, "markdown": docs or rule.summary},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, DEFAULT_LEVEL)},
        "properties": {"tags": list(dict.fromkeys((*BASE_TAGS, *rule.tags)))},
    }
    return descriptor


def _fingerprint(code: str, uri: str, message: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{code}\0{uri}\0{message}\0{occurrence}".encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:32]


def _result(finding: Finding, rule_index: int, uri: str, occurrence: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)}
    if finding.end_line is not None and finding.end_line >= region["startLine"]:
        region["endLine"] = finding.end_line
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, DEFAULT_LEVEL),
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(finding.code, uri, finding.message, occurrence)},
    }
    if finding.fix is not None:
        result["properties"] = {"fix": {"title": finding.fix.title, "safety": finding.fix.safety.value}}
    return result


def to_sarif_log(
    reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions
) -> dict[str, Any]:
    """One run with every rule of the table in ``tool.driver.rules`` and every shown finding as a result."""
    codes = sorted(set(rules) | {f.code for r in reports for f in r.findings})
    index_of = {code: i for i, code in enumerate(codes)}

    results = []
    notifications = []
    for report in reports:
        uri = artifact_uri(report.path, options.root)
        if report.error is not None:
            location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            if report.error_line is not None:
                location["region"] = {"startLine": report.error_line, "startColumn": report.error_column or 1}
            notifications.append(
                {"level": "error", "message": {"text": report.error}, "locations": [{"physicalLocation": location}]}
            )
        seen: Counter[tuple[str, str]] = Counter()
        for finding in sorted_findings(report.findings):
            key = (finding.code, finding.message)
            results.append(_result(finding, index_of[finding.code], uri, seen[key]))
            seen[key] += 1

    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "version": options.tool_version,
        "rules": [_rule_descriptor(code, rules.get(code)) for code in codes],
    }
    if options.information_uri:
        driver["informationUri"] = options.information_uri

    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def format_sarif(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    return dumps(to_sarif_log(reports, rules, options))

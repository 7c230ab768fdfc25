"""Checkstyle XML, the format Jenkins (warnings-ng), reviewdog and many CI dashboards read.

    <checkstyle version="4.3">
      <file name="Dockerfile">
        <error line="3" column="1" severity="warning" message="..." source="DO104"/>
      </file>
    </checkstyle>

Severities are dockopt's (error, warning, info); ``source`` is the rule code. A file that could
not be processed gets one ``error`` with ``source="dockopt"``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.etree import ElementTree as ET

from dockopt.report import FileReport, ReportOptions, RuleInfo, sorted_findings
from dockopt.report.xml import xml_document, xml_text

__all__ = ["format_checkstyle"]


def format_checkstyle(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    root = ET.Element("checkstyle", version="4.3")
    for report in reports:
        node = ET.SubElement(root, "file", name=xml_text(report.path))
        if report.error is not None:
            ET.SubElement(node, "error", line=str(report.error_line or 1), column=str(report.error_column or 1),
                          severity="error", message=xml_text(report.error), source="dockopt")
        for finding in sorted_findings(report.findings):
            ET.SubElement(node, "error", line=str(finding.line), column=str(finding.column),
                          severity=finding.severity, message=xml_text(finding.message), source=finding.code)
    return xml_document(root)

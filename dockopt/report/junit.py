"""JUnit XML, which most CI systems show as test results: one test suite per Dockerfile, one
failed test case per finding (an ``error`` for a file that could not be processed), and one
passing test case for a file with nothing to report.

    <testsuites name="dockopt" tests="2" failures="1" errors="0">
      <testsuite name="Dockerfile" tests="1" failures="1" errors="0">
        <testcase name="DO104 apt-lists-cleanup" classname="Dockerfile" file="Dockerfile" line="3">
          <failure type="DO104" message="...">Dockerfile:3:1: DO104 ...</failure>
        </testcase>
      </testsuite>
    </testsuites>
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.etree import ElementTree as ET

from dockopt.report import FileReport, ReportOptions, RuleInfo, sorted_findings
from dockopt.report.paths import relative_posix
from dockopt.report.xml import xml_document, xml_text

__all__ = ["format_junit"]


def format_junit(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    root = ET.Element("testsuites", name="dockopt")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for report in reports:
        path = xml_text(relative_posix(report.path, options.root))
        suite = ET.SubElement(root, "testsuite", name=path)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        if report.error is not None:
            case = ET.SubElement(suite, "testcase", name="dockopt", classname=path, file=path,
                                 line=str(report.error_line or 1))
            error = ET.SubElement(case, "error", type="dockopt", message=xml_text(report.error))
            error.text = f"{path}:{report.error_location}{xml_text(report.error)}"
            counts["tests"] += 1
            counts["errors"] += 1
        for finding in sorted_findings(report.findings):
            rule = rules.get(finding.code)
            name = f"{finding.code} {rule.name}" if rule else finding.code
            case = ET.SubElement(suite, "testcase", name=name, classname=path, file=path, line=str(finding.line))
            failure = ET.SubElement(case, "failure", type=finding.code, message=xml_text(finding.message))
            failure.text = f"{path}:{finding.line}:{finding.column}: {finding.code} ({finding.severity}) " \
                           f"{xml_text(finding.message)}"
            counts["tests"] += 1
            counts["failures"] += 1
        if not counts["tests"]:
            ET.SubElement(suite, "testcase", name="dockopt", classname=path, file=path)
            counts["tests"] = 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return xml_document(root)

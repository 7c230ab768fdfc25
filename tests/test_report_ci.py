"""The CI formats (checkstyle, gitlab, junit), read the way the systems that consume them read them."""
from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import jsonschema
from junitparser import Error, Failure, JUnitXml

from dockopt.findings import Edit, Finding, Fix, Safety
from dockopt.report import FileReport, ReportOptions, RuleInfo, render

FIX = Fix("Merge 2 RUN instructions", Safety.SAFE, (Edit(10, 30, "RUN a && b"),))
MERGE = Finding("DO101", "2 consecutive RUN instructions can be one layer", 2, 1, 3, FIX, severity="info")
ROOT = Finding("DO302", 'the final image runs as root <"quoted" & odd>', 1, 1, severity="warning")
LATIN = Finding("DO401", "secret in ENV caf\udce9", 4, 5, severity="error")
RULES = {"DO101": RuleInfo("DO101", "merge-runs", "Merge RUNs", severity="info")}


def reports() -> list[FileReport]:
    return [
        FileReport("Dockerfile", [MERGE, ROOT, LATIN], changed=True),
        FileReport("svc/Dockerfile", []),
        FileReport("broken/Dockerfile", error="Syntax error: unterminated heredoc", error_line=4, error_column=1),
    ]


def test_checkstyle_is_what_checkstyle_readers_expect():
    root = ET.fromstring(render("checkstyle", reports(), RULES, ReportOptions()).encode("utf-8"))
    assert root.tag == "checkstyle" and root.get("version")
    files = {f.get("name"): f for f in root.findall("file")}
    assert list(files) == ["Dockerfile", "svc/Dockerfile", "broken/Dockerfile"]
    errors = files["Dockerfile"].findall("error")
    assert [(e.get("line"), e.get("column"), e.get("severity"), e.get("source")) for e in errors] == [
        ("1", "1", "warning", "DO302"), ("2", "1", "info", "DO101"), ("4", "5", "error", "DO401")]
    assert errors[0].get("message") == 'the final image runs as root <"quoted" & odd>'
    assert errors[2].get("message") == "secret in ENV caf\\xe9"  # a non-UTF-8 byte, shown
    assert files["svc/Dockerfile"].findall("error") == []
    [broken] = files["broken/Dockerfile"].findall("error")
    assert (broken.get("line"), broken.get("severity"), broken.get("source")) == ("4", "error", "dockopt")
    for e in root.iter("error"):  # every attribute a reader needs is there
        assert set(e.attrib) == {"line", "column", "severity", "message", "source"}
        assert e.get("severity") in ("error", "warning", "info")


# GitLab's Code Quality report, as GitLab documents it (required: description, check_name,
# fingerprint, severity, location.path, location.lines.begin; severity one of five)
GITLAB_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "type": {"const": "issue"},
            "categories": {"type": "array", "items": {"type": "string"}},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1},
                                             "end": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def test_gitlab_code_quality_report():
    issues = json.loads(render("gitlab", reports(), RULES, ReportOptions()))
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(issues)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in issues] == [("DO302", "major", "Dockerfile", 1), ("DO101", "info", "Dockerfile", 2),
                                 ("DO401", "critical", "Dockerfile", 4), ("dockopt-error", "blocker",
                                                                          "broken/Dockerfile", 4)]
    assert issues[1]["location"]["lines"]["end"] == 3
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    # the same finding two lines lower keeps its fingerprint (GitLab tracks it across commits)
    moved = Finding("DO101", MERGE.message, 4, 1, 5, FIX, severity="info")
    again = json.loads(render("gitlab", [FileReport("Dockerfile", [moved])], RULES, ReportOptions()))
    assert again[0]["fingerprint"] == issues[1]["fingerprint"]


def test_junit_is_read_by_a_junit_parser(tmp_path):
    path = tmp_path / "dockopt.xml"
    path.write_text(render("junit", reports(), RULES, ReportOptions()), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["Dockerfile", "svc/Dockerfile", "broken/Dockerfile"]
    main = suites["Dockerfile"]
    assert (main.tests, main.failures, main.errors) == (3, 3, 0)
    cases = list(main)
    assert [c.name for c in cases] == ["DO302", "DO101 merge-runs", "DO401"]
    [failure] = cases[1].result
    assert isinstance(failure, Failure) and failure.type == "DO101"
    assert failure.message == MERGE.message and "Dockerfile:2:1: DO101 (info)" in failure.text
    clean = suites["svc/Dockerfile"]
    assert (clean.tests, clean.failures) == (1, 0) and next(iter(clean)).is_passed
    [case] = list(suites["broken/Dockerfile"])
    [error] = case.result
    assert isinstance(error, Error) and "broken/Dockerfile:4:1: Syntax error" in error.text
    root = ET.parse(path).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "3", "1")

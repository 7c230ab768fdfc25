"""Text, JSON and GitHub output formats (SARIF is in test_report_sarif.py)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from dockopt.findings import Edit, Finding, Fix, Safety
from dockopt.report import FORMATS, FileReport, ReportOptions, RuleInfo, fix_will_apply, render
from dockopt.report.github import escape_data, escape_property, format_github
from dockopt.report.json_format import SCHEMA_VERSION, to_json_document
from dockopt.report.paths import artifact_uri, relative_posix
from dockopt.report.text import format_text, make_console, print_diff, print_text, use_color

SAFE_FIX = Fix("Add --no-install-recommends", Safety.SAFE, (Edit(40, 40, " --no-install-recommends"),))
UNSAFE_FIX = Fix("Split into build and runtime stages", Safety.UNSAFE, (Edit(0, 12, "FROM x AS build"),))
HINT = Fix("Pin the base image digest", Safety.DISPLAY, (Edit(5, 16, "debian@sha256:..."),))

APT = Finding("DO101", "apt-get install without --no-install-recommends", 3, 1, fix=SAFE_FIX)
MULTISTAGE = Finding("DO204", "the runtime stage could be distroless", 9, 1, end_line=14, fix=UNSAFE_FIX)
PIN = Finding("DO301", "base image is not pinned", 1, 6, fix=HINT)
CACHE = Finding("DO110", "apt lists are left in the layer", 3, 5, extra={"path": Path(".dockerignore")})

RULES = {
    "DO101": RuleInfo("DO101", "apt-no-install-recommends", "Install without recommended packages.", "# DO101\n\nX."),
    "DO110": RuleInfo("DO110", "apt-lists-cleanup", "Remove apt lists in the same layer."),
    "DO204": RuleInfo("DO204", "distroless-runtime", "Use a minimal runtime stage.", tags=("multi-stage",)),
}


def check_run() -> list[FileReport]:
    return [
        FileReport("Dockerfile", [MULTISTAGE, APT, CACHE, PIN], changed=True, fixed=[APT], planned={APT},
                   resolved={APT}),
        FileReport("services/api/Dockerfile", [], changed=False),
        FileReport("broken/Dockerfile", error="unterminated heredoc at line 4"),
    ]


def write_run() -> list[FileReport]:
    # APT was fixed; what remains has positions in the rewritten file
    return [FileReport("Dockerfile", [MULTISTAGE, CACHE, PIN], changed=True, fixed=[APT])]


# --------------------------------------------------------------------------- model


def test_file_report_is_immutable():
    report = FileReport("Dockerfile", [APT], fixed=[APT])
    assert report.findings == (APT,)
    with pytest.raises(AttributeError):
        report.changed = True  # type: ignore[misc]


def test_fix_will_apply():
    assert fix_will_apply(APT, ReportOptions())
    assert not fix_will_apply(MULTISTAGE, ReportOptions())
    assert fix_will_apply(MULTISTAGE, ReportOptions(unsafe_fixes=True))
    assert not fix_will_apply(PIN, ReportOptions(unsafe_fixes=True))
    assert not fix_will_apply(CACHE, ReportOptions())


def test_render_dispatches_and_rejects_unknown_formats():
    for name in FORMATS:
        assert render(name, check_run(), RULES, ReportOptions(tool_version="1.2.3"))
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render("xml", [], RULES)


# --------------------------------------------------------------------------- text


def test_text_check_run():
    out = format_text(check_run(), RULES, ReportOptions())
    assert out.splitlines() == [
        "Dockerfile:1:6: DO301 base image is not pinned",
        "Dockerfile:3:1: DO101 apt-get install without --no-install-recommends [*]",
        "Dockerfile:3:5: DO110 apt lists are left in the layer",
        "Dockerfile:9:1: DO204 the runtime stage could be distroless [*?]",
        "",
        "Found 4 issues in 1 file.",
        "[*] 1 fixable with --write; 1 file would be changed; 1 unsafe fix hidden, use --unsafe-fixes",
        "1 file was not processed because of errors",
    ]


def test_text_unsafe_fixes_enabled_marks_them_fixable():
    # with --unsafe-fixes the fix loop plans the unsafe fix too
    report = FileReport("Dockerfile", [MULTISTAGE, APT], changed=True, fixed=[APT, MULTISTAGE],
                        planned={APT, MULTISTAGE}, resolved={APT, MULTISTAGE})
    out = format_text([report], RULES, ReportOptions(unsafe_fixes=True))
    assert "Dockerfile:9:1: DO204 the runtime stage could be distroless [*]" in out.splitlines()
    assert "hidden" not in out and "[*] 2 fixable with --write" in out


def test_text_marks_what_write_makes_moot():
    """A finding without a fix of its own that the rewrite no longer has is fixable too."""
    report = FileReport("Dockerfile", [CACHE], changed=True, fixed=[APT], resolved={CACHE})
    first = format_text([report], RULES, ReportOptions()).splitlines()[0]
    assert first.endswith("DO110 apt lists are left in the layer [*]")


def test_text_write_run():
    out = format_text(write_run(), RULES, ReportOptions(write=True))
    lines = out.splitlines()
    assert "DO101" not in out  # fixed findings are not listed again
    assert lines[-1] == "1 file fixed, 1 fix; 3 issues remaining; 1 unsafe fix hidden, use --unsafe-fixes"


def test_text_write_run_everything_fixed():
    reports = [FileReport("Dockerfile", [], changed=True, fixed=[APT]), FileReport("b/Dockerfile", [])]
    assert format_text(reports, RULES, ReportOptions(write=True)).splitlines() == ["1 file fixed, 1 fix"]


def test_text_pluralizes():
    reports = [
        FileReport("a/Dockerfile", [APT, APT], changed=True, fixed=[APT, APT], planned={APT}),
        FileReport("b/Dockerfile", [APT], changed=True, fixed=[APT], planned={APT}),
    ]
    assert format_text(reports, RULES, ReportOptions()).splitlines()[-2:] == [
        "Found 3 issues in 2 files.",
        "[*] 3 fixable with --write; 2 files would be changed",
    ]


def test_text_all_checks_passed():
    assert format_text([FileReport("Dockerfile")], RULES, ReportOptions()) == "All checks passed!\n"
    assert format_text([], RULES, ReportOptions()) == "All checks passed!\n"


def test_text_keeps_one_finding_per_line():
    finding = Finding("DO101", "first line\n  second [line]", 2)
    out = format_text([FileReport("Dockerfile", [finding])], RULES, ReportOptions())
    assert out.splitlines()[0] == "Dockerfile:2:1: DO101 first line second [line]"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(FakeTerminal())
    assert not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "")  # an empty NO_COLOR does not count (no-color.org)
    assert use_color(FakeTerminal())


def test_print_text_colours_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = FakeTerminal()
    print_text(check_run(), RULES, ReportOptions(), make_console(terminal))
    assert "\x1b[" in terminal.getvalue()
    assert "[*]" in terminal.getvalue()  # markup is off: the marker is printed as is

    monkeypatch.setenv("NO_COLOR", "1")
    plain = FakeTerminal()
    print_text(check_run(), RULES, ReportOptions(), make_console(plain))
    assert "\x1b[" not in plain.getvalue()
    assert plain.getvalue() == format_text(check_run(), RULES, ReportOptions())


def test_print_text_does_not_wrap_long_lines():
    stream = io.StringIO()
    console = make_console(stream, color=False)
    long = Finding("DO101", "x" * 300, 1)
    print_text([FileReport("Dockerfile", [long])], RULES, ReportOptions(), console)
    assert stream.getvalue().splitlines()[0].endswith("x" * 300)


DIFF = """--- a/Dockerfile
+++ b/Dockerfile
@@ -1,2 +1,2 @@
 FROM debian
-RUN apt-get install -y curl
+RUN apt-get install -y --no-install-recommends curl
"""


def test_print_diff_plain_and_coloured():
    plain = io.StringIO()
    print_diff(DIFF, make_console(plain, color=False))
    assert plain.getvalue() == DIFF

    coloured = io.StringIO()
    print_diff(DIFF, Console(file=coloured, force_terminal=True, color_system="standard", soft_wrap=True))
    lines = coloured.getvalue().splitlines()
    assert "\x1b[31m-RUN apt-get install -y curl" in lines[4]  # red removal
    assert "\x1b[32m+RUN apt-get install -y --no-install-recommends curl" in lines[5]  # green addition
    assert "\x1b[36m@@ -1,2 +1,2 @@" in lines[2]  # cyan hunk header


# --------------------------------------------------------------------------- JSON

# The contract of docs/json-schema.md, as a JSON Schema. Keep the two in step.
LOCATION = {
    "type": "object",
    "required": ["line", "column", "end_line"],
    "properties": {
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "integer", "minimum": 1},
        "end_line": {"type": ["integer", "null"], "minimum": 1},
    },
}
EDIT = {
    "type": "object",
    "required": ["start", "end", "text"],
    "properties": {
        "start": {"type": "integer", "minimum": 0},
        "end": {"type": "integer", "minimum": 0},
        "text": {"type": "string"},
    },
}
FIX = {
    "type": "object",
    "required": ["title", "safety", "applied", "applicable", "edits"],
    "properties": {
        "title": {"type": "string"},
        "safety": {"enum": ["safe", "unsafe", "display"]},
        "applied": {"type": "boolean"},
        "applicable": {"type": "boolean"},
        "edits": {"type": "array", "items": EDIT},
    },
}
FINDING = {
    "type": "object",
    "required": ["code", "name", "severity", "message", "location", "fix", "resolved", "extra"],
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]+[0-9]+$"},
        "name": {"type": ["string", "null"]},
        "severity": {"enum": ["error", "warning", "info"]},
        "message": {"type": "string"},
        "location": LOCATION,
        "fix": {"oneOf": [{"type": "null"}, FIX]},
        "resolved": {"type": "boolean"},
        "extra": {"type": "object"},
    },
}
ERROR_LOCATION = {
    "type": ["object", "null"],
    "required": ["line", "column"],
    "properties": {"line": {"type": ["integer", "null"]}, "column": {"type": ["integer", "null"]}},
}
FILE = {
    "type": "object",
    "required": ["path", "changed", "error", "error_location", "findings"],
    "properties": {
        "path": {"type": "string"},
        "changed": {"type": "boolean"},
        "error": {"type": ["string", "null"]},
        "error_location": ERROR_LOCATION,
        "findings": {"type": "array", "items": FINDING},
        # --verify only: the verifier's report (its own contract), or null with a message why not
        "verify": {"type": ["object", "null"]},
        # --verify with --write or --diff: the proof, or null with a message why not
        "proof": {"type": ["object", "null"]},
        "fixes": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
    },
}
COUNT = {"type": "integer", "minimum": 0}
SUMMARY_FIELDS = ("files", "files_with_findings", "findings", "fixes", "fixable", "changed_files", "errors",
                  "unsafe_fixes_hidden")
JSON_OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema_version", "tool", "mode", "files", "summary"],
    "properties": {
        "schema_version": {"const": 1},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "dockopt"}, "version": {"type": "string"}},
        },
        "mode": {"enum": ["check", "write", "verify"]},
        "files": {"type": "array", "items": FILE},
        "summary": {
            "type": "object",
            "required": list(SUMMARY_FIELDS),
            "properties": {name: COUNT for name in SUMMARY_FIELDS},
        },
    },
}


def validate_json_output(text: str) -> dict:
    document = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(JSON_OUTPUT_SCHEMA)
    jsonschema.Draft202012Validator(JSON_OUTPUT_SCHEMA).validate(document)
    return document


def test_json_check_run_matches_the_schema():
    document = validate_json_output(render("json", check_run(), RULES, ReportOptions(tool_version="1.2.3")))
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["tool"] == {"name": "dockopt", "version": "1.2.3"}
    assert document["mode"] == "check"
    first, clean, broken = document["files"]
    assert [f["code"] for f in first["findings"]] == ["DO301", "DO101", "DO110", "DO204"]
    apt = first["findings"][1]
    assert apt == {
        "code": "DO101",
        "name": "apt-no-install-recommends",
        "severity": "warning",
        "message": "apt-get install without --no-install-recommends",
        "location": {"line": 3, "column": 1, "end_line": None},
        "fix": {
            "title": "Add --no-install-recommends",
            "safety": "safe",
            "applied": False,
            "applicable": True,
            "edits": [{"start": 40, "end": 40, "text": " --no-install-recommends"}],
        },
        "resolved": True,
        "extra": {},
    }
    assert first["findings"][0]["name"] is None  # DO301 is not in the rule table
    assert first["findings"][0]["fix"]["safety"] == "display"
    assert first["findings"][2]["extra"] == {"path": ".dockerignore"}  # a Path becomes a string
    assert first["findings"][3]["fix"]["applicable"] is False  # unsafe, not enabled
    assert first["findings"][3]["location"]["end_line"] == 14
    assert clean == {"path": "services/api/Dockerfile", "changed": False, "error": None, "error_location": None,
                     "findings": []}
    assert broken["error"] == "unterminated heredoc at line 4"
    assert document["summary"] == {
        "files": 3,
        "files_with_findings": 1,
        "findings": 4,
        "fixes": 1,
        "fixable": 1,
        "changed_files": 1,
        "errors": 1,
        "unsafe_fixes_hidden": 1,
    }


def test_json_write_run_lists_applied_fixes():
    document = validate_json_output(render("json", write_run(), RULES, ReportOptions(write=True)))
    assert document["mode"] == "write"
    findings = document["files"][0]["findings"]
    assert [(f["code"], f["fix"] and f["fix"]["applied"]) for f in findings] == [
        ("DO301", False),
        ("DO110", None),
        ("DO204", False),
        ("DO101", True),
    ]
    assert document["summary"]["findings"] == 3
    assert document["summary"]["fixes"] == 1


def test_json_is_deterministic():
    options = ReportOptions(tool_version="1")
    assert render("json", check_run(), RULES, options) == render("json", check_run(), RULES, options)
    assert to_json_document([], RULES, options)["files"] == []


def test_json_schema_doc_mentions_every_field():
    doc = (Path(__file__).parent.parent / "docs" / "json-schema.md").read_text()
    names = set()

    def collect(schema):
        for key, value in schema.get("properties", {}).items():
            names.add(key)
            if isinstance(value, dict):
                collect(value)
                if "items" in value:
                    collect(value["items"])
                for option in value.get("oneOf", []):
                    collect(option)

    collect(JSON_OUTPUT_SCHEMA)
    missing = sorted(name for name in names if f"`{name}`" not in doc and f'"{name}"' not in doc)
    assert not missing, f"docs/json-schema.md does not document: {missing}"


def test_json_schema_doc_example_is_what_dockopt_prints(tmp_path):
    """The page's example is the installed dockopt's output for the Dockerfile shown beside it,
    and it follows the schema."""
    import re

    from conftest import run_cli

    example = (Path(__file__).parent.parent / "docs" / "json-schema.md").read_text().split("## Example\n", 1)[1]
    [dockerfile] = re.findall(r"```dockerfile\n(.*?)```", example, re.S)
    [shown] = re.findall(r"```json\n(.*?)```", example, re.S)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    r = run_cli("--format", "json", "Dockerfile", cwd=tmp_path)
    assert r.returncode == 1
    printed = validate_json_output(r.stdout.decode())
    assert json.loads(shown) == {**printed, "tool": {"name": "dockopt", "version": "0.1.0"}}


# --------------------------------------------------------------------------- GitHub


def test_github_annotations():
    out = format_github(check_run(), RULES, ReportOptions())
    assert out.splitlines() == [
        "::warning file=Dockerfile,line=1,col=6,title=DO301::base image is not pinned",
        "::warning file=Dockerfile,line=3,col=1,title=DO101::apt-get install without --no-install-recommends",
        "::warning file=Dockerfile,line=3,col=5,title=DO110::apt lists are left in the layer",
        "::warning file=Dockerfile,line=9,col=1,endLine=14,title=DO204::the runtime stage could be distroless",
        "::error file=broken/Dockerfile,title=dockopt::unterminated heredoc at line 4",
    ]


def test_github_escaping():
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    finding = Finding("DO101", "100%\nsure", 2, 3)
    out = format_github([FileReport("odd,name:x/Dockerfile", [finding])], RULES, ReportOptions())
    assert out == "::warning file=odd%2Cname%3Ax/Dockerfile,line=2,col=3,title=DO101::100%25%0Asure\n"


def test_github_paths_are_relative_with_forward_slashes(tmp_path):
    absolute = tmp_path / "svc" / "Dockerfile"
    out = format_github([FileReport(str(absolute), [APT])], RULES, ReportOptions(root=tmp_path))
    assert out.startswith("::warning file=svc/Dockerfile,line=3,")


def test_report_paths(tmp_path):
    assert relative_posix("./a/Dockerfile") == "a/Dockerfile"
    assert relative_posix(str(tmp_path / "x" / "Dockerfile"), tmp_path) == "x/Dockerfile"
    assert relative_posix("/elsewhere/Dockerfile", tmp_path) == "/elsewhere/Dockerfile"
    assert artifact_uri("dir with space/Dockerfile#1") == "dir%20with%20space/Dockerfile%231"
    assert artifact_uri("a:b/Dockerfile") == "a%3Ab/Dockerfile"
    assert artifact_uri("/elsewhere/Dockerfile", tmp_path) == "file:///elsewhere/Dockerfile"

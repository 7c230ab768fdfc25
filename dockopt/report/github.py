"""GitHub Actions workflow commands: one annotation per finding, its level from the severity.

    ::warning file=Dockerfile,line=3,col=1,title=DO104::apt lists are left in the layer

A file that could not be processed gets an ``::error`` annotation at the error's position.

Escaping follows @actions/core: in the message ``%``, CR and LF are
percent-encoded; in properties ``:`` and ``,`` are too, since they delimit
the properties.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from dockopt.report import FileReport, ReportOptions, RuleInfo, printable, sorted_findings
from dockopt.report.paths import relative_posix

__all__ = ["escape_data", "escape_property", "format_github", "workflow_command"]


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, properties: Mapping[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{command} {props}::{escape_data(message)}" if props else f"::{command}::{escape_data(message)}"


# dockopt's severities as GitHub's annotation levels
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def format_github(reports: Sequence[FileReport], rules: Mapping[str, RuleInfo], options: ReportOptions) -> str:
    lines = []
    for report in reports:
        path = relative_posix(report.path, options.root)
        if report.error is not None:
            where: dict[str, object] = {"file": path}
            if report.error_line is not None:
                where.update(line=report.error_line, col=report.error_column or 1)
            lines.append(workflow_command("error", {**where, "title": "dockopt"}, printable(report.error)))
        for finding in sorted_findings(report.findings):
            properties: dict[str, object] = {"file": path, "line": finding.line, "col": finding.column}
            if finding.end_line is not None and finding.end_line >= finding.line:
                properties["endLine"] = finding.end_line
            properties["title"] = finding.code
            command = COMMANDS.get(finding.severity, "warning")
            lines.append(workflow_command(command, properties, printable(finding.message)))
    return "".join(line + "\n" for line in lines)

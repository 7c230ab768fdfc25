"""Counting a run's results, shared by the text and JSON formats."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dockopt.findings import Safety
from dockopt.report import FileReport, ReportOptions


@dataclass(frozen=True)
class Summary:
    files: int  # files processed (including those with errors)
    files_with_findings: int
    findings: int  # findings shown (in a --write run: those remaining)
    fixes: int  # fixes applied (--write) or that --write would apply
    fixable: int  # shown findings --write fixes or makes moot (0 in a --write run)
    changed_files: int  # files rewritten, or that --write would rewrite
    errors: int  # files that could not be processed
    unsafe_fixes_hidden: int  # shown findings, left by --write, whose unsafe fix needs --unsafe-fixes

    @classmethod
    def of(cls, reports: Sequence[FileReport], options: ReportOptions) -> Summary:
        hidden = 0
        if not options.unsafe_fixes:
            hidden = sum(
                1
                for report in reports
                for finding in report.findings
                if finding.fix is not None and finding.fix.safety is Safety.UNSAFE and not report.will_fix(finding)
            )
        return cls(
            files=len(reports),
            files_with_findings=sum(1 for r in reports if r.findings),
            findings=sum(len(r.findings) for r in reports),
            fixes=sum(len(r.fixed) for r in reports),
            fixable=sum(1 for r in reports for f in r.findings if r.will_fix(f)),
            changed_files=sum(1 for r in reports if r.changed),
            errors=sum(1 for r in reports if r.error is not None),
            unsafe_fixes_hidden=hidden,
        )

    @property
    def all_passed(self) -> bool:
        return self.findings == 0 and self.errors == 0 and self.changed_files == 0

    def text_lines(self, write: bool) -> list[str]:
        """The closing lines of the text format."""
        if self.all_passed:
            return ["All checks passed!"]
        lines = []
        if self.findings and not write:
            lines.append(f"Found {_count(self.findings, 'issue')} in {_count(self.files_with_findings, 'file')}.")
        parts = self._written_parts() if write else self._would_write_parts()
        if self.unsafe_fixes_hidden:
            hidden = _count(self.unsafe_fixes_hidden, "unsafe fix", "unsafe fixes")
            parts.append(f"{hidden} hidden, use --unsafe-fixes")
        if parts:
            lines.append("; ".join(parts))
        if self.errors:
            verb = "was" if self.errors == 1 else "were"
            lines.append(f"{_count(self.errors, 'file')} {verb} not processed because of errors")
        return lines

    def _written_parts(self) -> list[str]:
        """What --write did: files fixed and issues left."""
        parts = []
        if self.changed_files:
            parts.append(f"{_count(self.changed_files, 'file')} fixed, {_count(self.fixes, 'fix', 'fixes')}")
        if self.findings:
            parts.append(f"{_count(self.findings, 'issue')} remaining")
        return parts

    def _would_write_parts(self) -> list[str]:
        """What --write would do: fixable issues and files it would change."""
        parts = []
        if self.fixable:
            parts.append(f"[*] {self.fixable} fixable with --write")
        if self.changed_files:
            parts.append(f"{_count(self.changed_files, 'file')} would be changed")
        return parts


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"

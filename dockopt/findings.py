"""What a pass reports: findings, the fixes they carry, and how safe those fixes are."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Safety(enum.Enum):
    """How sure a fix is to keep the image's behaviour (after ruff's Applicability)."""

    SAFE = "safe"          # same config, same files apart from caches and package lists
    UNSAFE = "unsafe"      # may change installed content; only with --unsafe-fixes
    DISPLAY = "display"    # shown as a suggestion, never applied


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of the whole file (str offsets) by `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class FileWrite:
    """A whole new content for a file beside the Dockerfile (e.g. the context's .dockerignore)."""

    path: str       # absolute path
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    safety: Safety
    edits: tuple[Edit, ...]
    files: tuple[FileWrite, ...] = ()

    def applies(self, unsafe: bool) -> bool:
        """Whether fixing applies it: a safe fix always, an unsafe one with --unsafe-fixes, a
        display-only one (or one that changes nothing) never."""
        if not (self.edits or self.files):
            return False
        return self.safety is Safety.SAFE or (unsafe and self.safety is Safety.UNSAFE)

    @property
    def span(self) -> tuple[int, int]:
        if not self.edits:
            return (-1, -1)
        return min(e.start for e in self.edits), max(e.end for e in self.edits)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    line: int            # 1-based, as BuildKit counts lines
    column: int = 1      # 1-based
    end_line: int | None = None
    fix: Fix | None = None
    # where the finding is about a file other than the Dockerfile (e.g. .dockerignore)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # "info", "warning" or "error": the rule's own, or as configured (set by the linter)
    severity: str = field(default="warning", compare=False)

    @property
    def fixable(self) -> bool:
        """Some run applies its fix (with --unsafe-fixes if it is unsafe)."""
        return self.fix is not None and self.fix.applies(unsafe=True)

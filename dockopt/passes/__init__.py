"""The code table: every pass, registered once, in the order they run."""
from __future__ import annotations

from .base import Pass

ALL_PASSES: list[type[Pass]] = []


def by_code() -> dict[str, type[Pass]]:
    return {p.code: p for p in ALL_PASSES}

"""The code table: every pass, registered once, in the order they run."""
from __future__ import annotations

from .base import Pass
from .merge_runs import MergeRuns

ALL_PASSES: list[type[Pass]] = [
    MergeRuns,
]


def by_code() -> dict[str, type[Pass]]:
    return {p.code: p for p in ALL_PASSES}

"""Verdicts on what a rewrite did to a build and to the running image (no Docker here)."""
from __future__ import annotations

from dataclasses import dataclass

# what a probe of one image found
RUNNING = "running"  # the liveness probe: still up when the probe window closed
EXITED = "exited"
NOT_RUN = "not run"


@dataclass(frozen=True)
class Probe:
    kind: str  # "smoke" or "liveness"
    state: str  # RUNNING, EXITED or NOT_RUN
    exit_code: int | None = None
    tail: str = ""  # last lines of the container's output

    @property
    def ok(self) -> bool:
        """Passed: a liveness probe that kept running or exited 0; a smoke command that exited 0."""
        if self.state == RUNNING:
            return self.kind == "liveness"
        return self.state == EXITED and self.exit_code == 0

    def describe(self) -> str:
        if self.state == RUNNING:
            return "running"
        if self.state == EXITED:
            return f"exit {self.exit_code}"
        return NOT_RUN


# verdicts on a rewrite compared with the original
KEPT = "kept"  # the rewrite passes where the original passed
BROKEN = "broken"  # the original passed, the rewrite fails
UNJUDGED = "unjudged"  # the original did not pass (or was not probed): nothing to compare with


def probe_verdict(original: Probe | None, rewrite: Probe | None) -> str:
    """A rewrite breaks the image when its container exits non-zero (or its smoke command fails)
    where the original kept running or exited 0."""
    if original is None or rewrite is None or not original.ok:
        return UNJUDGED
    return KEPT if rewrite.ok else BROKEN


def build_verdict(original_built: bool, rewrite_built: bool | None) -> str:
    """A rewrite breaks the build when the original built and the rewrite does not."""
    if not original_built or rewrite_built is None:
        return UNJUDGED
    return KEPT if rewrite_built else BROKEN

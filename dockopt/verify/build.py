"""What both backends share: the build's result, and telling the file's faults from the engine's.

* classic.py: the classic builder through docker-py's build API (no BuildKit,
  so no RUN --mount, heredocs, COPY --link...).  Its log says
  " ---> Using cache" for each cached step.
* buildkit.py: BuildKit through `docker buildx build` (docker-py cannot speak
  BuildKit's session protocol).  Its progress stream marks cached vertices.

Both return the same BuildOutcome and record what they create on the Engine,
so cleanup finds it.  Neither writes anything into the build context.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .report import BuildOutcome

if TYPE_CHECKING:
    from .engine import Engine

LOG_TAIL_LINES = 40


def tail(lines: list[str]) -> str:
    return "\n".join(lines[-LOG_TAIL_LINES:])


def read_dockerignore(context_dir: Path) -> tuple[list[str], str | None]:
    """Patterns of context_dir/.dockerignore (as docker-py reads them) and its raw text."""
    path = context_dir / ".dockerignore"
    if not path.is_file():
        return [], None
    raw = path.read_text(encoding="utf-8", errors="surrogateescape")
    return ignore_patterns(raw), raw


def ignore_patterns(text: str) -> list[str]:
    """The patterns of an ignore file's text (blank lines and comments dropped)."""
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def classify_failure(error: str, features: frozenset[str]) -> str | None:
    """Map a build error caused by the engine's frontend (not by the file) to a reason."""
    if not error:
        return None
    m = re.search(r"dockerfile parse error.*?(?i:unknown flag): ([\w-]+)", error)
    if m:
        return f"this engine's Dockerfile frontend does not know the --{m.group(1)} flag"
    if "heredoc" in features and re.search(r"dockerfile parse error.*unknown instruction", error):
        return "this engine's Dockerfile frontend does not support heredocs (needs dockerfile:1.4+)"
    return None


def frontend_unavailable(error: str, ref: str) -> bool:
    """True when a `# syntax=` frontend image could not be fetched."""
    if not error:
        return False
    name = ref.split("@", 1)[0].split(":", 1)[0]
    return ("frontend gateway" in error or name in error) and bool(re.search(
        r"(failed to do request|no such host|pull access denied|not found|failed to resolve|"
        r"connection refused|i/o timeout|dial tcp|server misbehaving)", error))


_NO_SPACE = re.compile(r"(?i)no space left on device|ENOSPC|disk quota exceeded")


def out_of_space(outcome: BuildOutcome) -> bool:
    """True when a failed build ran out of disk (the build step's own writes or the engine's)."""
    return not outcome.ok and bool(_NO_SPACE.search(f"{outcome.error or ''}\n{outcome.log_tail}"))


def engine_fault(engine: Engine, outcome: BuildOutcome, role: str) -> str | None:
    """Why a failed build is the engine's fault, not the file's, as one line; None when it is not.

    Checked in this order: the engine no longer answers (it stopped, or was
    killed, mid-build: the build may look like a step killed with 137 or a
    broken stream); the disk holding its data root is full; the connection
    broke although the engine still answers.
    """
    if outcome.ok or outcome.unsupported:
        return None
    if not engine.alive():
        return f"the Docker engine stopped during the build of the {role} image (engine {engine.host})"
    if out_of_space(outcome):
        return f"no space left on the device holding the Docker data root ({_disk_state(engine.data_root)})"
    if (outcome.error or "").startswith("engine connection failed"):
        return f"the connection to the Docker engine broke during the build of the {role} image ({outcome.error})"
    return None


def _disk_state(data_root: str) -> str:
    """`/var/lib/docker, 0 B free of 20.0 GiB` when the data root is on this machine, else its path."""
    from .report import human_bytes

    where = data_root or "unknown path"
    try:
        st = os.statvfs(data_root)
    except (OSError, ValueError):
        return f"{where} on the engine's host"
    return f"{where}, {human_bytes(st.f_bavail * st.f_frsize)} free of {human_bytes(st.f_blocks * st.f_frsize)}"

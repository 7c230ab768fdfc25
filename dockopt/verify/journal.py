"""A small on-disk record of what each verification run created, for runs that die.

When the engine stops mid-build (or the process is killed) the run cannot
remove what it made, and much of it carries no label: the classic builder's
intermediate images and the container of the step in flight.  So every run
keeps `<state dir>/<run id>.json` up to date with the engine's id and the ids
it created, and holds an exclusive lock on `<run id>.lock` while it lives.
The next run against the same engine finds the journals whose lock nobody
holds, removes what they list (and what carries their run label), and
deletes them.  Journals are best effort: an unwritable state directory just
means no sweeping later.  They hold ids, the time windows of the run's BuildKit
builds and its steps' names (to find its cache records), never build arguments.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_ENV = "DOCKOPT_STATE_DIR"


def state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "dockopt" / "verify-runs"


class Journal:
    """The live journal of this process's run (no-op when it cannot be written)."""

    def __init__(self, engine_id: str, run_id: str):
        self.engine_id, self.run_id = engine_id, run_id
        self.dir = state_dir()
        self._lock_fd: int | None = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.dir / f"{run_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._lock_fd = fd
        except OSError:
            self._lock_fd = None

    def record(self, images: list[str], containers: list[str], cache: dict[str, Any] | None = None) -> None:
        """Write down what the run made: image and container ids, and what tells its BuildKit cache records."""
        if self._lock_fd is None:
            return
        doc = {"engine_id": self.engine_id, "run_id": self.run_id, "pid": os.getpid(),
               "images": images, "containers": containers, "cache": cache or {}}
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.run_id}.", dir=self.dir)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            os.replace(tmp, self.dir / f"{self.run_id}.json")
        except OSError:
            pass

    def close(self, *, keep: bool) -> None:
        """Release the lock; delete the journal unless objects it lists are still there."""
        if self._lock_fd is None:
            return
        if not keep:
            _remove(self.dir, self.run_id)
        os.close(self._lock_fd)
        self._lock_fd = None


@dataclass
class StaleRun:
    """The journal of a run that is no longer alive, locked by us while we sweep it."""

    run_id: str
    images: list[str]
    containers: list[str]
    _dir: Path
    _fd: int
    cache: dict[str, Any] = field(default_factory=dict)

    def done(self, *, removed_all: bool) -> None:
        if removed_all:
            _remove(self._dir, self.run_id)
        os.close(self._fd)


def stale_runs(engine_id: str) -> Iterator[StaleRun]:
    """Journals of dead runs against the engine `engine_id` (each must be `done()` with)."""
    root = state_dir()
    try:
        paths = sorted(root.glob("*.json"))
    except OSError:
        return
    for path in paths:
        run_id = path.stem
        try:
            fd = os.open(root / f"{run_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            os.close(fd)        # alive (locked), or unreadable
            continue
        if doc.get("engine_id") != engine_id:
            os.close(fd)
            continue
        cache = doc.get("cache")
        yield StaleRun(run_id=run_id, images=list(doc.get("images") or []),
                       containers=list(doc.get("containers") or []), _dir=root, _fd=fd,
                       cache=cache if isinstance(cache, dict) else {})


def _remove(root: Path, run_id: str) -> None:
    for suffix in (".json", ".lock"):
        with contextlib.suppress(OSError):
            (root / f"{run_id}{suffix}").unlink()

"""What the user sees while builds run: a rich status line on a terminal, nothing otherwise."""
from __future__ import annotations

import re
import sys
from typing import Any, TextIO

_INTERESTING = re.compile(r"^(Step \d+/\d+ : .*|#\d+ \[[^\]]+\] .*)$")


class Progress:
    """Receives every phase change and build-log line of a verification.

    Builds call `line()` for each log line whether or not anything is shown,
    so this is also the one place to observe (or, in tests, interrupt) a
    running verification.
    """

    def __init__(self, enabled: bool = False, stream: TextIO | None = None):
        stream = stream if stream is not None else sys.stderr
        self._status: Any = None
        self._phase = ""
        if enabled and getattr(stream, "isatty", lambda: False)():
            from rich.console import Console

            self._status = Console(file=stream).status("verifying")
            self._status.start()

    def phase(self, text: str) -> None:
        self._phase = text
        if self._status is not None:
            self._status.update(text)

    def line(self, text: str) -> None:
        if self._status is not None and _INTERESTING.match(text):
            self._status.update(f"{self._phase}: {text[:100]}")

    @property
    def current(self) -> str:
        """The phase in progress, e.g. "original: cold build"."""
        return self._phase

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

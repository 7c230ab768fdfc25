"""The error raised for input that Docker would reject."""
from __future__ import annotations


class ParseError(ValueError):
    """A Dockerfile BuildKit's parser rejects (or text that is not a Dockerfile at all)."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        self.message = message
        self.line = max(1, line)
        self.column = max(1, column)
        super().__init__(f"{self.line}:{self.column}: {message}")

"""Report paths as CI systems want them: relative to the repository, with forward slashes."""
from __future__ import annotations

import os
from pathlib import Path, PurePath


def relative_posix(path: str, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the current directory) when it lies under it, with ``/``."""
    base = Path(root) if root is not None else Path.cwd()
    candidate = Path(path)
    if candidate.is_absolute():
        for anchor in (base, base.resolve()):
            if candidate.is_relative_to(anchor):
                candidate = candidate.relative_to(anchor)
                break
        # outside the root it stays absolute rather than grow "../" chains
    text = PurePath(candidate).as_posix()
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    return text.removeprefix("./")


def artifact_uri(path: str, root: Path | None = None) -> str:
    """A SARIF artifactLocation.uri: a relative URI reference, or a file: URI when outside ``root``."""
    text = relative_posix(path, root)
    if text.startswith("/"):
        return Path(text).as_uri()
    from urllib.parse import quote

    # percent-encode what is not allowed in a URI path (spaces, "%", "#", "?", ...)
    return quote(text, safe="/!$&'()*+,;=@-._~")  # no ":": it would read as a URI scheme

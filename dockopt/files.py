"""Reading and writing Dockerfiles without losing a byte: encoding, BOM, newlines, atomic writes."""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 64 * 1024 * 1024  # refuse what is surely not a Dockerfile instead of eating memory


class FileError(Exception):
    """A file that cannot be read or written; the message names the file and the reason."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Source:
    path: str          # as given (or the --stdin-filename)
    text: str          # decoded; a UTF-8 BOM stays as its first char (the tree keeps it)
    raw: bytes


# BuildKit reads a Dockerfile as bytes: a byte that is not UTF-8 (a Latin-1 "é" in a comment)
# is kept as it is. dockopt does the same: such a byte becomes a lone surrogate (U+DC80-U+DCFF)
# on reading and the same byte again on writing, so every byte round-trips.
ENCODING = "utf-8"
ERRORS = "surrogateescape"


def decode(raw: bytes, name: str) -> str:
    """The text of a Dockerfile; bytes that are not UTF-8 are kept (see ERRORS).

    A NUL byte means the file is not text at all: FileError, saying where."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _line_col(raw, nul)
        raise FileError(f"binary file: NUL byte at offset {nul}", line, col)
    return raw.decode(ENCODING, ERRORS)


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def read(path: str | os.PathLike[str]) -> Source:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise FileError(f"file too large ({size} bytes; the limit is {MAX_BYTES})")
        raw = p.read_bytes()
    except FileError:
        raise
    except IsADirectoryError:
        raise FileError("is a directory") from None
    except FileNotFoundError:
        raise FileError("no such file") from None
    except PermissionError:
        raise FileError("permission denied (cannot read)") from None
    except OSError as exc:
        raise FileError(f"cannot read: {exc.strerror or exc}") from None
    return Source(str(path), decode(raw, str(path)), raw)


def encode(text: str) -> bytes:
    """The bytes of `text`, the inverse of decode(): kept non-UTF-8 bytes come back as they were."""
    return text.encode(ENCODING, ERRORS)


def write_atomic(path: str | os.PathLike[str], text: str) -> bool:
    """Write `text` over `path` through a temp file in the same directory and a rename.

    Keeps the file's permission bits and writes through a symlink to its target. Returns False
    (and touches nothing) when the content is already the same."""
    target = Path(os.path.realpath(path))
    data = encode(text)
    try:
        st = target.stat()
        if target.read_bytes() == data:
            return False
    except FileNotFoundError:
        st = None
    except PermissionError:
        raise FileError("permission denied (cannot read)") from None
    # the mode bits speak for the user even to root, who could write anyway
    if st is not None and (not os.access(target, os.W_OK) or not st.st_mode & 0o222):
        raise FileError("file is read-only; not written")
    fd, tmp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            with contextlib.suppress(OSError):  # only root may give a file away; the mode is what matters
                os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise FileError(f"cannot write: {exc.strerror or exc}") from None
        raise
    return True


def _temp_beside(target: Path) -> tuple[int, str]:
    """A new temp file in `target`'s directory (so a rename replaces `target`): its fd and path."""
    directory = target.parent
    if not os.access(directory, os.W_OK) or not directory.stat().st_mode & 0o222:
        raise FileError(f"directory {directory} is read-only; not written "
                        "(the file is replaced through a temp file beside it)")
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".dockopt-tmp", dir=directory)
    except PermissionError:
        raise FileError(f"directory {directory} is not writable; not written") from None
    except OSError as exc:
        raise FileError(f"cannot create a temp file in {directory}: {exc.strerror or exc}") from None

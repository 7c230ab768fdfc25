"""The build context as this run sees it: what exists, what BuildKit sends, what files hold.

One view per file and run. When an earlier fix of the run writes a new `.dockerignore`
(pending side-file writes), the view applies it, so that the fix loop settles; answers are
cached (a run does not change the context).
"""
from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .buildcontext import BuildContext
from .dockerignore import IgnoreMatcher
from .paths import clean

__all__ = ["ContextFiles", "context_files", "ignore_file_path"]

TEXT_LIMIT = 8_000_000       # larger files are not read (no manifest is that big)


def ignore_file_path(bc: BuildContext) -> Path:
    """The .dockerignore BuildKit reads for this build (written when absent: the context's)."""
    return Path(bc.dockerignore_path) if bc.dockerignore_path else Path(bc.root) / ".dockerignore"


def context_files(directory: Path | None, dockerfile: Path | None, pending: Mapping[str, str]) -> ContextFiles:
    """The view of the context directory (an empty one without a directory, or when its
    .dockerignore is one BuildKit would refuse)."""
    if directory is None or not Path(directory).is_dir():
        return ContextFiles(None)
    try:
        bc = BuildContext(Path(directory), dockerfile=dockerfile)
        path = ignore_file_path(bc)
        own = Path(str(dockerfile) + ".dockerignore") if dockerfile is not None else None
        if own is not None and str(own) in pending:   # a fix writes this Dockerfile's own ignore file
            path = own
        text = pending.get(str(path))
        if text is not None:
            bc = copy.copy(bc)
            object.__setattr__(bc, "matcher", IgnoreMatcher.from_text(text, path))
            object.__setattr__(bc, "dockerignore_path", path)
    except (OSError, ValueError):
        return ContextFiles(None)
    return ContextFiles(bc)


@dataclass(eq=False)
class ContextFiles:
    """Cached questions about the build context; every answer is False/None without one."""

    bc: BuildContext | None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def available(self) -> bool:
        return self.bc is not None

    @property
    def root(self) -> Path:
        if self.bc is None:
            raise ValueError("no build context")
        return Path(self.bc.root)

    @property
    def ignore_file(self) -> Path | None:
        return ignore_file_path(self.bc) if self.bc is not None else None

    @staticmethod
    def norm(rel: str) -> str | None:
        """A context-relative path, cleaned (`/app` is the context's `app`); None when it leaves
        the context or is no path at all."""
        if "\x00" in rel:
            return None
        rel = clean(rel.lstrip("/") or ".")
        if rel == ".." or rel.startswith("../"):
            return None
        return rel

    def _answer(self, question: str, rel: str, compute: Callable[[Path, str], Any], default: Any) -> Any:
        """The cached answer about `rel` (`compute(root, cleaned path)`; `default` without a
        context, for a path outside it, or when the file system says no)."""
        norm = self.norm(rel)
        if self.bc is None or norm is None:
            return default
        key = (question, norm)
        if key not in self._cache:
            try:
                self._cache[key] = compute(self.bc.root, norm)
            except OSError:
                self._cache[key] = default
        return self._cache[key]

    # -- what exists and what is sent --------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        """The path exists in the context directory, sent or not."""
        return bool(self._answer("exists", rel, lambda root, n: os.path.lexists(root / n), False))

    def is_sent(self, rel: str) -> bool:
        """BuildKit transfers the path (so that COPY/ADD can see it), whether it exists or not."""
        bc = self.bc
        return bool(self._answer("sent", rel, lambda _root, n: bc is not None and bc.is_sent(n), False))

    def sent(self, rel: str) -> bool:
        """Exists and is sent: a COPY of the context can see it."""
        return self.exists(rel) and self.is_sent(rel)

    def is_dir(self, rel: str) -> bool:
        """A directory (not a link to one)."""
        return bool(self._answer("dir", rel, lambda root, n: (root / n).is_dir() and not (root / n).is_symlink(),
                                 False))

    def is_symlink(self, rel: str) -> bool:
        return bool(self._answer("link", rel, lambda root, n: (root / n).is_symlink(), False))

    def is_file(self, rel: str) -> bool:
        """A regular file, or a link to one."""
        return bool(self._answer("file", rel, lambda root, n: (root / n).is_file(), False))

    def sent_file(self, rel: str) -> bool:
        """A regular file (not a symlink) that BuildKit sends."""
        return self.is_file(rel) and not self.is_symlink(rel) and self.is_sent(rel)

    # -- content -----------------------------------------------------------------------------------
    def text(self, rel: str) -> str | None:
        """What an existing file holds (sent or not), as text; None for a directory or a large file."""
        def read(root: Path, n: str) -> str | None:
            path = root / n
            if path.stat().st_size > TEXT_LIMIT:
                return None
            return path.read_bytes().decode("utf-8", errors="replace")

        value = self._answer("text", rel, read, None)
        return value if isinstance(value, str) else None

    def sent_text(self, rel: str | None) -> str | None:
        """What a file the build can COPY holds (None when it does not exist or is not sent)."""
        if rel is None or not self.sent(rel):
            return None
        return self.text(rel)

    def head(self, rel: str, n: int = 1024) -> bytes:
        def read(root: Path, norm: str) -> bytes:
            with open(root / norm, "rb") as fh:
                return fh.read(n)

        value = self._answer(f"head{n}", rel, read, b"")
        return value if isinstance(value, bytes) else b""

    def size(self, rel: str) -> int | None:
        value = self._answer("size", rel, lambda root, n: os.lstat(root / n).st_size, None)
        return value if isinstance(value, int) else None

    # -- walking -----------------------------------------------------------------------------------
    def tree_size(self, rel: str, cap: int = 20000) -> tuple[int, int, bool]:
        """(bytes, files, complete) of what is sent under `rel`; stops counting after `cap` files."""
        norm = self.norm(rel) or "."
        key = ("tree", norm)
        if key not in self._cache:
            self._cache[key] = self._tree_size(norm, cap)
        value = self._cache[key]
        assert isinstance(value, tuple)
        return value

    def _tree_size(self, rel: str, cap: int) -> tuple[int, int, bool]:
        total = count = 0
        complete = True
        if self.bc is None:
            return 0, 0, True
        try:
            if self.is_dir(rel):
                for f in self.bc.sent_files(rel):
                    count += 1
                    if count > cap:
                        complete = False
                        break
                    with contextlib.suppress(OSError):
                        total += os.lstat(self.bc.root / f).st_size
            elif self.sent(rel):
                total, count = self.size(rel) or 0, 1
        except OSError:
            pass
        return total, count, complete

    def list_sent(self, rel: str, cap: int = 200) -> list[str] | None:
        """The sent files under a directory (None when there are more than `cap`)."""
        out: list[str] = []
        if self.bc is None:
            return out
        try:
            for f in self.bc.sent_files(rel):
                out.append(f)
                if len(out) > cap:
                    return None
        except OSError:
            return None
        return out

    def sent_files(self, under: str, suffix: str = "", limit: int = 2000) -> list[str]:
        """Up to `limit` sent files under a directory whose names end in `suffix`."""
        out: list[str] = []
        start = self.norm(under)
        if self.bc is None or start is None:
            return out
        for rel in self.bc.sent_files(start):
            if rel.endswith(suffix):
                out.append(rel)
                if len(out) >= limit:
                    break
        return out

    def sent_children(self, rel: str, cap: int = 20000) -> set[str] | None:
        """The names directly in a context directory that hold something sent (None when the
        directory holds more than `cap` sent files, or there is no context)."""
        start = self.norm(rel)
        if self.bc is None or start is None:
            return None
        names: set[str] = set()
        prefix = "" if start == "." else start + "/"
        try:
            for n, f in enumerate(self.bc.sent_files(start)):
                if n >= cap:
                    return None
                names.add(f[len(prefix):].split("/", 1)[0])
        except OSError:
            return None
        return names

    def glob(self, pattern: str) -> list[str]:
        """The sent context paths a COPY/ADD source names (see BuildContext.glob)."""
        return self.bc.glob(pattern) if self.bc is not None else []

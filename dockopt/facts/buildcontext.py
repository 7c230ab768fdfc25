"""The build context: which files exist in it and which ones BuildKit sends.

Passes ask questions such as "does package-lock.json exist and is it sent?",
"what does `COPY . /app` bring in?" or "is node_modules sent?". The answers
depend on `.dockerignore` (see `dockerignore`). With BuildKit the Dockerfile
travels separately from the context, so the Dockerfile and ``.dockerignore``
get no special treatment here: when ``.dockerignore`` excludes them,
``COPY . /app`` does not copy them.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .dockerignore import IgnoreMatcher, ParentMatches
from .paths import clean, go_match, has_wildcards

__all__ = ["BuildContext"]


def _normalize(relpath: str | PurePath) -> str | None:
    """A context-relative slash path, cleaned; None when it leaves the context."""
    text = str(relpath)
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    cleaned = clean(text)
    if cleaned == ".." or cleaned.startswith("../"):
        return None
    # "/app" means the context's "app", as in a COPY source
    return cleaned.lstrip("/") or "."


@dataclass(frozen=True)
class BuildContext:
    """A build context directory as BuildKit will see it.

    ``dockerfile`` (optional) is the Dockerfile's path: a ``<Dockerfile>.dockerignore``
    next to it takes precedence over the context's ``.dockerignore``.
    """

    root: Path
    dockerfile: Path | None = None
    dockerignore_path: Path | None = field(init=False)
    matcher: IgnoreMatcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        root = Path(self.root)
        object.__setattr__(self, "root", root)
        if not root.is_dir():
            raise NotADirectoryError(f"build context {root} is not a directory")
        ignore_file = self._find_ignore_file()
        object.__setattr__(self, "dockerignore_path", ignore_file)
        if ignore_file is None:
            matcher = IgnoreMatcher()
        else:
            text = ignore_file.read_bytes().decode("utf-8", errors="surrogateescape")
            matcher = IgnoreMatcher.from_text(text, ignore_file)
        object.__setattr__(self, "matcher", matcher)

    def _find_ignore_file(self) -> Path | None:
        if self.dockerfile is not None:
            specific = Path(str(self.dockerfile) + ".dockerignore")
            if specific.is_file():
                return specific
        default = self.root / ".dockerignore"
        return default if default.is_file() else None

    @property
    def own_ignore_file(self) -> Path | None:
        """The Dockerfile's own ignore file (``<Dockerfile>.dockerignore``) when that is the one
        BuildKit reads; None when the context's ``.dockerignore`` (or none) applies."""
        path = self.dockerignore_path
        return path if path is not None and path != self.root / ".dockerignore" else None

    @property
    def patterns(self) -> tuple[str, ...]:
        """The ignore patterns as BuildKit reads them (cleaned, ``!`` for exceptions), in order."""
        return tuple(str(p) for p in self.matcher.patterns)

    # ---------------------------------------------------------------- questions about one path

    def exists(self, relpath: str | PurePath) -> bool:
        """Whether the path exists in the context directory, sent or not (a dangling symlink exists)."""
        path = _normalize(relpath)
        if path is None:
            return False
        return os.path.lexists(self.root / path)

    def is_sent(self, relpath: str | PurePath) -> bool:
        """Whether BuildKit would transfer this path (so that COPY/ADD can see it).

        Answers from the patterns alone, so also for paths that do not exist
        ("would it be sent if it existed"); combine with exists().  An excluded
        directory still counts as sent when some file under it is re-included,
        because BuildKit then transfers the directory too.
        """
        path = _normalize(relpath)
        if path is None:
            return False
        if path == ".":
            return True
        verdict = self._walk_verdict(path)
        if verdict is None:
            return False  # a parent directory is skipped whole
        excluded, parent_info = verdict
        if not excluded:
            return True
        full = self.root / path
        if full.is_dir() and not full.is_symlink() and self.matcher.may_reinclude_under(path):
            return next(self._walk(path, parent_info), None) is not None
        return False

    def _walk_verdict(self, path: str) -> tuple[bool, ParentMatches] | None:
        """Follow fsutil's walk down to ``path``: (excluded, its match info), or None if pruned above it."""
        parts = path.split("/")
        info: ParentMatches | None = None
        excluded = False
        for depth in range(len(parts)):
            current = "/".join(parts[: depth + 1])
            excluded, info = self.matcher.match(current, info)
            is_last = depth == len(parts) - 1
            if excluded and not is_last and not self.matcher.may_reinclude_under(current):
                return None
        assert info is not None
        return excluded, info

    # ---------------------------------------------------------------- walking

    def sent_files(self, under: str | PurePath = ".") -> Iterator[str]:
        """Every non-directory entry BuildKit would transfer, as context-relative slash paths.

        Walks lazily in BuildKit's order (depth first, names sorted), never
        descending into an excluded directory that no exception could
        re-include from.  Symlinks are listed, not followed.  ``under`` limits
        the walk to one directory of the context.
        """
        start = _normalize(under)
        if start is None:
            return
        if start == ".":
            yield from self._walk("", None)
            return
        verdict = self._walk_verdict(start)
        if verdict is None:
            return
        excluded, info = verdict
        full = self.root / start
        if full.is_dir() and not full.is_symlink():
            if excluded and not self.matcher.may_reinclude_under(start):
                return
            yield from self._walk(start, info)
        elif not excluded and os.path.lexists(full):
            yield start

    def _walk(self, directory: str, info: ParentMatches | None) -> Iterator[str]:
        try:
            with os.scandir(self.root / directory if directory else self.root) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for entry in entries:
            path = f"{directory}/{entry.name}" if directory else entry.name
            excluded, child_info = self.matcher.match(path, info)
            if entry.is_dir(follow_symlinks=False):
                if excluded and not self.matcher.may_reinclude_under(path):
                    continue
                yield from self._walk(path, child_info)
            elif not excluded:
                yield path

    # ---------------------------------------------------------------- COPY sources

    def glob(self, pattern: str) -> list[str]:
        """The context paths a COPY/ADD source names, among those BuildKit sends.

        Without wildcards this is the path itself when it is sent and exists.
        With wildcards each path segment is matched with Go's ``path.Match``
        (``**`` is no different from ``*`` here, unlike in .dockerignore).
        Results are context-relative slash paths in walk order; directories
        are returned as directories (COPY then copies what is sent under them).
        """
        source = pattern.lstrip("/") or "."
        if not has_wildcards(source):
            path = _normalize(source)
            if path is None:
                return []
            return [path] if self.exists(path) and self.is_sent(path) else []
        cleaned = clean(source)
        if cleaned == ".." or cleaned.startswith("../"):
            return []
        candidates = [""]
        for segment in cleaned.split("/"):
            expanded: list[str] = []
            for base in candidates:
                if has_wildcards(segment):
                    expanded.extend(self._matching_children(base, segment))
                else:
                    path = f"{base}/{segment}" if base else segment
                    if os.path.lexists(self.root / path) and self.is_sent(path):
                        expanded.append(path)
            candidates = expanded
        return candidates

    def copied_files(self, source: str) -> Iterator[str]:
        """The files ``COPY <source> ...`` brings in: glob() matches, directories expanded to what is sent."""
        for match in self.glob(source):
            full = self.root / match if match != "." else self.root
            if full.is_dir() and not full.is_symlink():
                yield from self.sent_files(match)
            else:
                yield match

    def _matching_children(self, base: str, segment: str) -> Iterator[str]:
        directory = self.root / base if base else self.root
        if directory.is_symlink() or not directory.is_dir():
            return
        for name in sorted(os.listdir(directory)):
            if go_match(segment, name):
                path = f"{base}/{name}" if base else name
                if self.is_sent(path):
                    yield path

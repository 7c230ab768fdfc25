"""What a rewrite changed in the image's files that none of its applied fixes declares.

A build and a probe only show a break that fails loudly. A rewrite can also leave the image
quietly different: a dependency no longer installed, a file left out of a copy. Each image is
saved (`docker save`) and read with dockopt's own layer reader; the rewrite's files are compared
with the original's, leaving out caches, logs, docs and temporary files (as `--verify` does),
and what remains is checked against the paths the applied rules may change (`MayChange`).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.lint import by_code
from dockopt.verify.compare import compare_files
from dockopt.verify.layers import FileEntry, final_filesystem, read_saved_image
from dockopt.verify.prove import allowed_path

from . import engine

EXAMPLES = 8


@dataclass
class FilesCheck:
    compared: int                        # paths compared (caches, logs, docs, temp files left out)
    undeclared: int                      # of those, paths that differ and no applied fix declares
    examples: list[str] = field(default_factory=list)


def image_files(tag: str, work: Path) -> dict[str, FileEntry] | None:
    """The image's final filesystem; None when it cannot be saved or read."""
    work.mkdir(parents=True, exist_ok=True)
    tar = work / f"{uuid.uuid4().hex}.tar"
    try:
        if engine.docker("save", "-o", str(tar), tag, timeout=900).returncode != 0:
            return None
        files, _visible = final_filesystem(read_saved_image(tar).layers)
        return files
    except (OSError, ValueError, KeyError):
        return None
    finally:
        tar.unlink(missing_ok=True)


def declared_paths(codes: Iterable[str]) -> tuple[str, ...]:
    """The path globs the rules of `codes` declare their fixes may change."""
    rules = by_code()
    return tuple(glob for code in dict.fromkeys(codes) if code in rules for glob in rules[code].may_change.paths)


def check(original: Mapping[str, FileEntry], rewrite: Mapping[str, FileEntry], codes: Iterable[str],
          rewritten: Iterable[str] = ()) -> FilesCheck:
    """Paths the rewrite added, removed or changed that no rule of `codes` declares. `rewritten`:
    the names of the files the rewrite edits (the Dockerfile, a .dockerignore): a copy of the
    build context holds them, changed."""
    allowed = declared_paths(codes)
    names = set(rewritten)
    diff = compare_files(original, rewrite)
    lines = [f"added {p}" for p in diff.added if not allowed_path(p, allowed)]
    lines += [f"removed {p}" for p in diff.removed if not allowed_path(p, allowed)]
    lines += [f"changed {c.path}: {c.detail}" for c in diff.changed
              if not allowed_path(c.path, allowed) and c.path.rsplit("/", 1)[-1] not in names]
    return FilesCheck(diff.compared_paths, len(lines), lines[:EXAMPLES])

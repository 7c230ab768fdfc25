"""Helpers shared by the DO2xx passes (hoist-deps, copy-chown, add-to-copy, dockerignore,
wasted-space): paths in the image, COPY/ADD operands, the build context as this fix run sees it
(pending .dockerignore writes included), cached context queries and archive detection.

Nothing here is a rule; the passes import what they need.
"""
from __future__ import annotations

import copy
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..syntax import Instruction

if TYPE_CHECKING:  # pragma: no cover
    from ..context import BuildContext
    from .base import Context

# The base image's working directory when the Dockerfile does not set one before: a path that
# cannot occur in a Dockerfile, so that relative paths under it still compare, while any text
# that would have to spell it out is refused (see `known`).
BASE = "/\x00base"

_CACHE_ATTR = "_do2_cache"


def cache(ctx: Context) -> dict:
    """A per-Context dict for the DO2xx passes (one lint run, so pending files do not change)."""
    store = getattr(ctx, _CACHE_ATTR, None)
    if store is None:
        store = {}
        setattr(ctx, _CACHE_ATTR, store)
    return store


# --------------------------------------------------------------------------- image paths


def known(path: str | None) -> bool:
    """A path that can be written out: resolved, and not relative to an unknown base WORKDIR."""
    return path is not None and "\x00" not in path


def clean(path: str) -> str:
    out = posixpath.normpath(path) if path else "."
    if out.startswith("//"):
        out = "/" + out.lstrip("/")
    return out


def has_vars(text: str) -> bool:
    return "$" in text


def join(cwd: str | None, path: str | None) -> str | None:
    """The absolute image path `path` names when the working directory is `cwd` (None: unknown)."""
    if path is None or has_vars(path):
        return None
    if path.startswith("/"):
        return clean(path)
    if cwd is None:
        return None
    return clean(cwd + "/" + path)


def is_under(path: str, directory: str) -> bool:
    """`path` is `directory` or lies inside it (a path under the unknown base WORKDIR never lies
    in a known directory: that WORKDIR could be anywhere)."""
    if "\x00" in path and "\x00" not in directory:
        return False
    if directory == "/":
        return path.startswith("/")
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def overlaps(a: str, b: str) -> bool:
    return is_under(a, b) or is_under(b, a)


def relative(path: str, directory: str) -> str:
    """`path` relative to `directory` (path must lie under it); '.' for the directory itself."""
    if path == directory:
        return "."
    prefix = "/" if directory == "/" else directory.rstrip("/") + "/"
    return path[len(prefix):]


def stage_cwds(ctx: Context) -> dict[int, str | None]:
    """The working directory in force at each instruction (by id), WORKDIR by WORKDIR.

    A stage built FROM an earlier stage starts where that one ended; any other starts in the
    base image's unknown WORKDIR (`BASE`). A WORKDIR with a variable makes it unknown (None)."""
    store = cache(ctx)
    if "cwds" in store:
        return store["cwds"]
    out: dict[int, str | None] = {}
    final: dict[str, str | None] = {}
    for stage in ctx.tree.stages:
        cwd = final.get(stage.base.lower(), BASE)
        out[id(stage.from_)] = cwd
        for ins in stage.instructions:
            if ins.keyword == "WORKDIR" and ins.values:
                cwd = join(cwd if cwd is not None else None, ins.values[0]) if ins.values[0] else cwd
            out[id(ins)] = cwd
        if stage.name:
            final[stage.name.lower()] = cwd
        final[str(stage.index)] = cwd
    store["cwds"] = out
    return out


# --------------------------------------------------------------------------- COPY / ADD

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_GIT = re.compile(r"^(?:git@|[\w.-]+@[\w.-]+:)")


def is_remote(source: str) -> bool:
    return bool(_URL.match(source) or _GIT.match(source))


@dataclass(frozen=True)
class CopyOp:
    ins: Instruction
    sources: tuple[str, ...]
    dest: str

    @property
    def flag_names(self) -> set[str]:
        return {f.name.lower() for f in self.ins.flags}

    @property
    def from_stage(self) -> str | None:
        f = self.ins.flag("from")
        return f.value if f else None


def copy_op(ins: Instruction) -> CopyOp | None:
    """Sources and destination of a COPY/ADD (None for heredocs or too few operands)."""
    if ins.keyword not in ("COPY", "ADD") or ins.heredocs:
        return None
    values = ins.values
    if len(values) < 2:
        return None
    return CopyOp(ins, tuple(values[:-1]), values[-1])


def copy_dest(op: CopyOp, cwd: str | None) -> str | None:
    return join(cwd, op.dest)


def dest_is_dir(op: CopyOp) -> bool:
    """BuildKit treats the destination as a directory when it ends in '/' or there are several
    sources (a single directory source also copies into it)."""
    dest = op.dest
    return (dest.endswith("/") or len(op.sources) > 1 or dest in (".", "..")
            or dest.endswith(("/.", "/..")))


def keyword_span(ins: Instruction) -> tuple[int, int]:
    start = ins.start + ins.column - 1
    return start, start + len(ins.parsed.keyword)


def flag_span(ins: Instruction, name: str) -> tuple[int, int] | None:
    """File span of the `--name...` flag as written (None when absent or not found)."""
    logical = ins.logical
    kw_end = logical.lower().find(ins.parsed.keyword.lower()) + len(ins.parsed.keyword)
    pattern = re.compile(r"(?<=\s)--" + re.escape(name) + r"(?:=(?:\"[^\"]*\"|'[^']*'|\S)*)?(?=\s|$)", re.I)
    m = pattern.search(logical, kw_end)
    if m is None or m.start() >= ins.args_offset:
        return None
    return ins.logical_span(m.start(), m.end())


def last_operand_span(ins: Instruction) -> tuple[int, int] | None:
    """File span of the destination operand of a shell-form COPY/ADD, when it is a plain word."""
    if ins.is_json or not ins.values:
        return None
    logical = ins.logical.rstrip()
    m = re.search(r"(\S+)$", logical)
    if m is None or m.group(1) != ins.values[-1] or m.start() < ins.args_offset:
        return None
    return ins.logical_span(m.start(1), m.end(1))


def continuation_indent(ctx: Context) -> str:
    for ins in ctx.tree.instructions:
        for ln in ins.lines:
            if ln.kind in ("CONT", "CONT_LAST"):
                content = ln.content
                ws = content[:len(content) - len(content.lstrip(" \t"))]
                if ws:
                    return ws
    return "    "


def syntax_opt_in(ctx: Context) -> bool:
    """The file asks for a Dockerfile frontend with `# syntax=` (BuildKit features are there)."""
    return bool(ctx.tree.syntax)


# --------------------------------------------------------------------------- the build context


class Files:
    """Cached questions about the build context, with this run's pending .dockerignore applied."""

    def __init__(self, bc: BuildContext):
        self.bc = bc
        self.root = Path(bc.root)
        self._exists: dict[str, bool] = {}
        self._sent: dict[str, bool] = {}
        self._isdir: dict[str, bool] = {}
        self._text: dict[str, str | None] = {}
        self._size: dict[str, int | None] = {}
        self._tree_size: dict[str, tuple[int, int, bool]] = {}

    @staticmethod
    def norm(rel: str) -> str | None:
        if "\x00" in rel:
            return None
        rel = clean(rel.lstrip("/") or ".")
        if rel == ".." or rel.startswith("../"):
            return None
        return rel

    def exists(self, rel: str) -> bool:
        rel = self.norm(rel)
        if rel is None:
            return False
        if rel not in self._exists:
            self._exists[rel] = self.bc.exists(rel)
        return self._exists[rel]

    def is_sent(self, rel: str) -> bool:
        rel = self.norm(rel)
        if rel is None:
            return False
        if rel not in self._sent:
            try:
                self._sent[rel] = self.bc.is_sent(rel)
            except OSError:
                self._sent[rel] = False
        return self._sent[rel]

    def available(self, rel: str) -> bool:
        """Exists and is sent: a COPY of the context can see it."""
        return self.exists(rel) and self.is_sent(rel)

    def is_dir(self, rel: str) -> bool:
        rel = self.norm(rel)
        if rel is None:
            return False
        if rel not in self._isdir:
            p = self.root / rel if rel != "." else self.root
            self._isdir[rel] = p.is_dir() and not p.is_symlink()
        return self._isdir[rel]

    def is_file(self, rel: str) -> bool:
        rel = self.norm(rel)
        if rel is None:
            return False
        return self.exists(rel) and not self.is_dir(rel) and (self.root / rel).is_file()

    def is_symlink(self, rel: str) -> bool:
        rel = self.norm(rel)
        return rel is not None and (self.root / rel).is_symlink()

    def sent_file(self, rel: str) -> bool:
        """A regular file (not a symlink) that BuildKit sends."""
        return self.is_file(rel) and not self.is_symlink(rel) and self.is_sent(rel)

    def text(self, rel: str, limit: int = 2_000_000) -> str | None:
        rel = self.norm(rel)
        if rel is None:
            return None
        if rel not in self._text:
            try:
                p = self.root / rel
                if p.stat().st_size > limit:
                    self._text[rel] = None
                else:
                    self._text[rel] = p.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                self._text[rel] = None
        return self._text[rel]

    def head(self, rel: str, n: int = 1024) -> bytes:
        try:
            with open(self.root / rel, "rb") as fh:
                return fh.read(n)
        except OSError:
            return b""

    def size(self, rel: str) -> int | None:
        rel = self.norm(rel)
        if rel is None:
            return None
        if rel not in self._size:
            try:
                self._size[rel] = os.lstat(self.root / rel).st_size
            except OSError:
                self._size[rel] = None
        return self._size[rel]

    def tree_size(self, rel: str, cap: int = 20000) -> tuple[int, int, bool]:
        """(bytes, files, complete) of what is sent under `rel`; stops counting after `cap` files."""
        rel = self.norm(rel) or "."
        if rel in self._tree_size:
            return self._tree_size[rel]
        total = count = 0
        complete = True
        try:
            if self.is_dir(rel):
                for f in self.bc.sent_files(rel):
                    count += 1
                    if count > cap:
                        complete = False
                        break
                    try:
                        total += os.lstat(self.root / f).st_size
                    except OSError:
                        pass
            elif self.available(rel):
                total, count = self.size(rel) or 0, 1
        except OSError:
            pass
        self._tree_size[rel] = (total, count, complete)
        return self._tree_size[rel]

    def list_sent(self, rel: str, cap: int = 200) -> list[str] | None:
        """The sent files under a directory (None when more than `cap`)."""
        out = []
        try:
            for f in self.bc.sent_files(rel):
                out.append(f)
                if len(out) > cap:
                    return None
        except OSError:
            return None
        return out


def ignore_file_path(bc: BuildContext) -> Path:
    """The .dockerignore BuildKit reads for this build (written when absent: the context's)."""
    return Path(bc.dockerignore_path) if bc.dockerignore_path else Path(bc.root) / ".dockerignore"


def read_side_file(ctx: Context, path: Path) -> str | None:
    """Like Context.read_side_file, but keeping the file's line endings (no newline translation)."""
    key = str(path)
    if key in ctx.pending_files:
        return ctx.pending_files[key]
    try:
        return Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def files(ctx: Context) -> Files | None:
    """The build context of this run (None without one, or when its .dockerignore is invalid),
    seeing the .dockerignore text that earlier fixes of this run will write."""
    store = cache(ctx)
    if "files" in store:
        return store["files"]
    result = None
    try:
        bc = ctx.build_context
    except (OSError, ValueError):
        bc = None
    if bc is not None:
        path = ignore_file_path(bc)
        pending = ctx.pending_files.get(str(path)) if ctx.pending_files else None
        try:
            if pending is not None:
                from ..context import IgnoreMatcher

                bc = copy.copy(bc)
                object.__setattr__(bc, "matcher", IgnoreMatcher.from_text(pending, path))
                object.__setattr__(bc, "dockerignore_path", path)
            result = Files(bc)
        except ValueError:
            result = None
    store["files"] = result
    return result


# --------------------------------------------------------------------------- archives

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tb2", ".tar.xz", ".txz",
                    ".tar.zst", ".tzst", ".tar.lzma", ".tlz", ".gz", ".bz2", ".xz", ".zst", ".lzma",
                    ".tar.z", ".taz", ".z")


def archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_tar_header(block: bytes) -> bool:
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    # a v7 tar header: the checksum field matches the header's byte sum
    try:
        stored = int(block[148:156].split(b"\0")[0].strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == computed and block[0] != 0


def archive_content(head: bytes) -> bool:
    """Whether ADD would try to unpack a file starting with `head` (tar, or compressed)."""
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00" \
            or head[:4] == b"\x28\xb5\x2f\xfd":
        return True
    return _is_tar_header(head[:512])


# --------------------------------------------------------------------------- text


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


_PLAIN_WORD = re.compile(r"^[A-Za-z0-9._/@+=:,%~-]+$")


def plain_word(text: str) -> bool:
    """Can be written as a COPY operand without quoting or escaping."""
    return bool(_PLAIN_WORD.match(text)) and not text.startswith("-")

"""What an image's layers hold: sizes, dive's wasted bytes and efficiency, the final file list.

Works on the tar that `docker save` (docker-py: `image.save()`) writes, so it
needs the engine only to fetch that tar; everything else is plain tar reading
and is unit-tested on synthetic layers.

Two views of the same layers:

* `dive_stats()` reproduces the `dive` tool (wagoodman/dive,
  dive/filetree/efficiency.go and dive/image/analysis.go), so our numbers can
  be checked against it.  Per layer, only the *leaves* of that layer's tree
  are looked at (files, symlinks, empty directories, whiteouts).  For each
  path: its cumulative size over all layers where it is a leaf, and the
  smallest of those sizes.  A whiteout's size is 0 for a file, and the total
  size of what it removes for a directory.  Then:
    efficiency   = sum(smallest sizes) / sum(cumulative sizes)   (1.0 if empty)
    wasted bytes = sum of cumulative sizes of the paths seen in 2+ layers,
  i.e. dive counts *every* copy of a duplicated or removed path as wasted,
  the one that stays included.  Opaque-directory markers (.wh..wh..opq) are
  skipped, as dive skips them.
* `final_filesystem()` applies the layers with overlay semantics (whiteouts
  and opaque markers both honoured) and gives the file list the image really
  has, which the equivalence check compares.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from .report import ImageStats, LayerInfo, WastedPath

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
META_PREFIX = ".wh..wh."     # whiteout-metadata names (the opaque marker is one)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """A path of an image's final filesystem (mtimes deliberately left out)."""

    path: str
    kind: str            # file | dir | symlink | char | block | fifo
    mode: int            # permission bits incl. setuid/setgid/sticky
    uid: int
    gid: int
    size: int = 0        # content size for files (hard links: their target's)
    link: str = ""       # symlink target
    digest: str = ""     # sha256 of a file's content


@dataclass(frozen=True)
class Member:
    """One entry of one layer tar."""

    path: str                      # "/a/b", whiteout names as they are in the tar
    size: int                      # header size (0 for dirs, links, whiteouts)
    is_dir: bool
    file: FileEntry | None         # None for whiteouts and opaque markers
    hardlink: str | None = None    # target path of a hard link

    @property
    def whiteout(self) -> bool:
        return posixpath.basename(self.path).startswith(WHITEOUT)


def _clean(name: str) -> str | None:
    """Tar member name -> "/a/b" ("./a/b/", "a//b" and "/a/b" all name the same path)."""
    path = posixpath.normpath("/" + name.lstrip("/"))
    return None if path == "/" else path


_KINDS = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
          tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "char",
          tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}


def read_layer(fileobj: IO[bytes]) -> list[Member]:
    """The members of one (possibly compressed) layer tar, file contents hashed."""
    members: list[Member] = []
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for info in tar:
            path = _clean(info.name)
            if path is None:
                continue
            base = posixpath.basename(path)
            if base.startswith(WHITEOUT):
                members.append(Member(path=path, size=info.size, is_dir=False, file=None))
                continue
            if info.islnk():
                target = _clean(info.linkname) or "/"
                entry = FileEntry(path=path, kind="file", mode=info.mode & 0o7777,
                                  uid=info.uid, gid=info.gid)
                members.append(Member(path=path, size=info.size, is_dir=False, file=entry,
                                      hardlink=target))
                continue
            kind = _KINDS.get(info.type, "file")
            digest = ""
            if info.isreg():
                h = hashlib.sha256()
                stream = tar.extractfile(info)
                while stream is not None:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    h.update(chunk)
                digest = h.hexdigest()
            entry = FileEntry(path=path, kind=kind, mode=info.mode & 0o7777, uid=info.uid,
                              gid=info.gid, size=info.size if info.isreg() else 0,
                              link=info.linkname if info.issym() else "", digest=digest)
            members.append(Member(path=path, size=info.size, is_dir=info.isdir(), file=entry))
    return members


# --------------------------------------------------------------------------
# dive's view


class _Node:
    __slots__ = ("children", "is_dir", "size")

    def __init__(self, size: int = 0, is_dir: bool = False):
        self.children: dict[str, _Node] = {}
        self.size = size
        self.is_dir = is_dir


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _layer_tree(members: Iterable[Member]) -> _Node:
    """dive's FileTree.AddPath for every entry of a layer."""
    root = _Node(is_dir=True)
    for m in members:
        parts = _parts(m.path)
        node = root
        for i, part in enumerate(parts):
            child = node.children.get(part)
            if child is None:
                if part.startswith(META_PREFIX):   # dive never adds these
                    break
                child = node.children[part] = _Node()   # intermediate: empty payload
            node = child
            if i == len(parts) - 1:
                node.size, node.is_dir = m.size, m.is_dir
    return root


def _walk(node: _Node, prefix: str = "") -> Iterator[tuple[str, _Node]]:
    """(path, node) for every node under `node`, children before their parent."""
    for name in sorted(node.children):
        child = node.children[name]
        path = f"{prefix}/{name}"
        yield from _walk(child, path)
        yield path, child


def _get(root: _Node, path: str) -> _Node | None:
    node: _Node | None = root
    for part in _parts(path):
        node = node.children.get(part) if node is not None else None
        if node is None:
            return None
    return node


def _subtree_size(node: _Node) -> int:
    return node.size + sum(_subtree_size(c) for c in node.children.values())


def _stack(lower: _Node, upper: _Node) -> None:
    """dive's FileTree.Stack: graft `upper` onto `lower`, whiteouts removing paths."""
    for path, node in _walk(upper):
        parent, _, name = path.rpartition("/")
        if name.startswith(WHITEOUT):
            holder = _get(lower, parent)
            if holder is not None:
                holder.children.pop(name[len(WHITEOUT):], None)
            continue
        target = lower
        for part in _parts(path):
            nxt = target.children.get(part)
            if nxt is None:
                nxt = target.children[part] = _Node()
            target = nxt
        target.size, target.is_dir = node.size, node.is_dir


@dataclass(frozen=True)
class DiveStats:
    efficiency: float
    wasted_bytes: int
    layer_sizes: tuple[int, ...]
    inefficiencies: tuple[WastedPath, ...]     # biggest first

    @property
    def total_bytes(self) -> int:
        return sum(self.layer_sizes)

    @property
    def user_bytes(self) -> int:
        return sum(self.layer_sizes[1:])

    @property
    def wasted_user_ratio(self) -> float:
        return self.wasted_bytes / self.user_bytes if self.user_bytes else 0.0


def dive_stats(layers: list[list[Member]]) -> DiveStats:
    cumulative: dict[str, int] = {}
    smallest: dict[str, int] = {}
    copies: dict[str, int] = {}
    stacked = _Node(is_dir=True)          # layers below the current one
    for members in layers:
        tree = _layer_tree(members)
        for path, node in _walk(tree):
            if node.children:
                continue                  # dive only visits leaves
            parent, _, name = path.rpartition("/")
            if name.startswith(WHITEOUT):
                path = f"{parent}/{name[len(WHITEOUT):]}"
                previous = _get(stacked, path)
                # dive: removed directory = size of everything under it; removed
                # file = 0.  (A whiteout of a path no lower layer has makes dive
                # stop looking at the rest of that layer; we count 0 and go on.)
                size = _subtree_size(previous) if previous is not None and previous.is_dir else 0
            else:
                size = node.size
            cumulative[path] = cumulative.get(path, 0) + size
            smallest[path] = min(smallest.get(path, size), size)
            copies[path] = copies.get(path, 0) + 1
        _stack(stacked, tree)
    total = sum(cumulative.values())
    efficiency = sum(smallest.values()) / total if total else 1.0
    wasteful = sorted((WastedPath(path=p, bytes=cumulative[p], copies=n)
                       for p, n in copies.items() if n >= 2), key=lambda w: (-w.bytes, w.path))
    return DiveStats(efficiency=efficiency, wasted_bytes=sum(w.bytes for w in wasteful),
                     layer_sizes=tuple(sum(m.size for m in members) for members in layers),
                     inefficiencies=tuple(wasteful))


# --------------------------------------------------------------------------
# the final filesystem


class _FsNode:
    __slots__ = ("children", "entry", "stored")

    def __init__(self) -> None:
        self.children: dict[str, _FsNode] = {}
        self.entry: FileEntry | None = None    # None: implied by a child, no entry of its own
        self.stored = 0                        # bytes this entry takes in its layer


def _fs_get(root: _FsNode, path: str, create: bool = False) -> _FsNode | None:
    node = root
    for part in _parts(path):
        nxt = node.children.get(part)
        if nxt is None:
            if not create:
                return None
            nxt = node.children[part] = _FsNode()
        node = nxt
    return node


def _apply_whiteout(root: _FsNode, m: Member) -> None:
    """Hide what a whiteout (one name) or an opaque marker (a whole directory) covers."""
    parent, _, name = m.path.rpartition("/")
    node = _fs_get(root, parent)
    if node is None:
        return
    if name == OPAQUE:
        node.children.clear()
    else:
        node.children.pop(name[len(WHITEOUT):], None)


def _lay_entry(root: _FsNode, m: Member, entry: FileEntry) -> None:
    """Put a layer's file `entry` (of member `m`) over what the layers below hold at its path."""
    if m.hardlink is not None:
        target = _fs_get(root, m.hardlink)
        if target is not None and target.entry is not None:
            entry = replace(target.entry, path=m.path, mode=entry.mode,
                            uid=entry.uid, gid=entry.gid)
    node = _fs_get(root, m.path, create=True)
    assert node is not None             # (created when missing)
    if entry.kind != "dir":
        node.children.clear()          # a non-directory hides what was under it
    node.entry, node.stored = entry, m.size


def final_filesystem(layers: list[list[Member]]) -> tuple[dict[str, FileEntry], int]:
    """The image's files (path -> entry) and the layer bytes they occupy."""
    root = _FsNode()
    for members in layers:
        # Whiteouts and opaque markers hide what the layers *below* hold, so
        # they go first; this layer's own entries are then laid on top.
        for m in members:
            if m.whiteout:
                _apply_whiteout(root, m)
        for m in members:
            if not m.whiteout and m.file is not None:
                _lay_entry(root, m, m.file)
    files: dict[str, FileEntry] = {}
    stored = 0

    def collect(node: _FsNode, prefix: str) -> None:
        nonlocal stored
        for name, child in node.children.items():
            path = f"{prefix}/{name}"
            if child.entry is not None:
                files[path] = child.entry
                stored += child.stored
            collect(child, path)

    collect(root, "")
    return files, stored


def resolve(files: Mapping[str, FileEntry], path: str, hops: int = 40) -> FileEntry | None:
    """Follow symlinks (in every component) the way the kernel would inside the image."""
    parts = _parts(path)
    current = ""
    while parts:
        current = f"{current}/{parts.pop(0)}"
        entry = files.get(current)
        if entry is None:
            return None
        if entry.kind == "symlink":
            hops -= 1
            if hops < 0:
                return None
            base = "" if entry.link.startswith("/") else posixpath.dirname(current)
            target = posixpath.normpath(posixpath.join("/", base, entry.link))
            parts = _parts(target) + parts
            current = ""
    return files.get(current) if current else None


# --------------------------------------------------------------------------
# saved images


@dataclass(frozen=True)
class SavedImage:
    config: dict[str, Any]           # the image config JSON (with "config", "history", ...)
    layers: list[list[Member]]


def read_saved_image(path: Path) -> SavedImage:
    """Parse a `docker save` tar (legacy and OCI layouts both carry manifest.json)."""
    with tarfile.open(path, mode="r:") as outer:

        def member_file(name: str | tarfile.TarInfo) -> IO[bytes]:
            found = outer.extractfile(name)
            if found is None:
                raise ValueError(f"{name} is not a file in the saved image")
            return found

        manifest = json.load(member_file("manifest.json"))[0]
        config = json.load(member_file(manifest["Config"]))
        layers = []
        for name in manifest["Layers"]:
            member = outer.getmember(name)
            hops = 0
            while member.issym() and hops < 10:   # saved layers may link to a shared copy
                name = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
                member = outer.getmember(name)
                hops += 1
            layers.append(read_layer(member_file(member)))
    return SavedImage(config=config, layers=layers)


def save_image(client: Any, image_id: str, dest: Path) -> Path:
    """Write `docker save <image_id>` to dest."""
    with open(dest, "wb") as out:
        out.writelines(client.api.get_image(image_id, chunk_size=_CHUNK))
    return dest


def history_layers(config: dict[str, Any], layer_sizes: tuple[int, ...], skip: str | None = None
                   ) -> tuple[LayerInfo, ...]:
    """History entries (oldest first) paired with the layers they made, as dive pairs them."""
    out: list[LayerInfo] = []
    sizes = list(layer_sizes)
    for entry in config.get("history") or []:
        created_by = entry.get("created_by", "")
        empty = bool(entry.get("empty_layer"))
        if skip and skip in created_by and empty:
            continue                     # the label step the verifier itself added
        size = 0 if empty or not sizes else sizes.pop(0)
        out.append(LayerInfo(index=len(out), created_by=created_by, size=size, empty=empty))
    for size in sizes:                   # layers the history does not describe
        out.append(LayerInfo(index=len(out), created_by="(missing)", size=size, empty=False))
    return tuple(out)


def image_stats(image_id: str, engine_size: int, saved: SavedImage,
                files: Mapping[str, FileEntry], visible_bytes: int,
                skip_history: str | None = None) -> ImageStats:
    dive = dive_stats(saved.layers)
    return ImageStats(
        image_id=image_id,
        size=engine_size,
        layer_count=len(saved.layers),
        layers=history_layers(saved.config, dive.layer_sizes, skip=skip_history),
        content_bytes=dive.total_bytes,
        wasted_bytes=dive.wasted_bytes,
        efficiency=dive.efficiency,
        wasted_user_ratio=dive.wasted_user_ratio,
        shadowed_bytes=max(0, dive.total_bytes - visible_bytes),
        file_count=len(files),
        top_wasted=dive.inefficiencies[:10],
    )

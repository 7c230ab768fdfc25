"""COPY and ADD as the DO2xx passes read them: operands, flags, archives, and how to write a path."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..facts.effects import copy_operands, destination_is_directory
from ..syntax import Instruction

__all__ = ["CopyOp", "archive_content", "archive_name", "copy_op", "dest_is_dir", "human_size", "plain_word"]


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
    operands = copy_operands(ins)
    return CopyOp(ins, *operands) if operands is not None else None


def dest_is_dir(op: CopyOp) -> bool:
    """BuildKit treats the destination as a directory when it ends in '/' or there are several
    sources (a single directory source also copies into it)."""
    return destination_is_directory(op.sources, op.dest)


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

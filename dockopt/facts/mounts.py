"""`RUN --mount=...`: what each mount of a RUN makes visible, and where."""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..syntax import Instruction

__all__ = ["Mount", "mount_covers", "parse_mounts"]

# what survives of a RUN's writes under each mount type: nothing
NOT_KEPT = ("cache", "tmpfs")


@dataclass(frozen=True)
class Mount:
    """One `--mount`: keys lower case, values without quotes, the target cleaned."""

    type: str                       # bind (the default), cache, tmpfs, secret, ssh
    target: str | None
    source: str | None              # `source`/`src` as written
    from_: str | None               # `from`: a stage, an image or (absent) the build context
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def reads_context(self) -> bool:
        """A bind mount of the build context (its `source`, `.` by default)."""
        return self.type == "bind" and self.from_ is None

    def covers(self, path: str, types: tuple[str, ...] = NOT_KEPT) -> bool:
        """`path` lies under this mount's target and the mount is of one of `types`."""
        target = self.target
        if self.type not in types or not target:
            return False
        path = posixpath.normpath(path)
        return path == target or path.startswith(target.rstrip("/") + "/")


def parse_mounts(ins: Instruction) -> tuple[Mount, ...]:
    out = []
    for flag in ins.flags:
        if flag.name != "mount" or not flag.value:
            continue
        fields: dict[str, str] = {}
        for part in flag.value.split(","):
            key, _eq, value = part.partition("=")
            fields[key.strip().lower()] = value.strip().strip("'\"")
        kind = fields.get("type", "bind").lower() or "bind"
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        out.append(Mount(kind, posixpath.normpath(target) if target else None,
                         fields.get("source") or fields.get("src"), fields.get("from"), fields))
    return tuple(out)


def mount_covers(ins: Instruction, path: str, types: tuple[str, ...] = NOT_KEPT) -> bool:
    """A cache (or tmpfs) mount of the RUN holds `path`: nothing written there stays in the layer."""
    return any(m.covers(path, types) for m in parse_mounts(ins))

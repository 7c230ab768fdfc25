"""Which images a Dockerfile pulls in, and the substitution of stand-ins for them.

The bench treats dockopt as a black box, so it reads the few instructions it needs itself:
FROM, ``COPY --from``, ``RUN --mount=from=``, and the ARGs before the first FROM (their defaults
and the manifest's build args fill in ``$VAR`` in image names, as BuildKit does).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_FROM = re.compile(r"^(?P<lead>[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*)(?P<image>\S+)", re.IGNORECASE | re.MULTILINE)
_FROM_FLAG = re.compile(r"--from=(\S+)", re.IGNORECASE)
_MOUNT_FROM = re.compile(r"--mount=\S*?\bfrom=([^,\s]+)", re.IGNORECASE)
# platform ARGs BuildKit predefines; the bench builds for the engine's own platform
_PREDEFINED = {"TARGETPLATFORM": "linux/amd64", "BUILDPLATFORM": "linux/amd64", "TARGETOS": "linux",
               "TARGETARCH": "amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "TARGETVARIANT": "",
               "BUILDVARIANT": ""}


def logical_lines(text: str) -> list[str]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    escape = "`" if re.match(r"(?i)^\s*#\s*escape\s*=\s*`", text) else "\\"
    out: list[str] = []
    buf = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and (buf or not stripped[1:].lstrip().lower().startswith("escape")):
            continue
        if not buf and not stripped:
            continue
        if line.rstrip().endswith(escape):
            buf += line.rstrip()[:-1] + " "
            continue
        out.append(buf + line)
        buf = ""
    if buf.strip():
        out.append(buf)
    return out


def expand(word: str, values: dict[str, str]) -> str:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alt}`` with these values."""
    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        value = values.get(name, "")
        mod = m.group(0)
        if m.group(2) is not None:
            if ":+" in mod or (mod.startswith("${" + name + "+")):
                return m.group(2) if value else ""
            return value or m.group(2)
        return value
    return _VAR.sub(one, word)


def strip_digest(ref: str) -> str:
    return ref.split("@", 1)[0]


@dataclass(frozen=True)
class ImageRefs:
    external: tuple[str, ...]  # images from outside the file that the build of the target needs
    stages: tuple[str, ...]


@dataclass
class _Stage:
    name: str
    refs: list[str]  # its base first, then COPY --from / RUN --mount from


def _stages(text: str, values: dict[str, str], build_args: dict[str, str]) -> list[_Stage]:
    stages: list[_Stage] = []
    for line in logical_lines(text):
        words = line.split()
        keyword = words[0].upper() if words else ""
        if keyword == "ARG" and not stages:
            for spec in words[1:]:
                name, eq, default = spec.partition("=")
                value = expand(default.strip("\"'"), values) if eq else values.get(name, "")
                values[name] = build_args.get(name, value)
        elif keyword == "FROM":
            rest = [w for w in words[1:] if not w.startswith("--")]
            name = rest[2].lower() if len(rest) >= 3 and rest[1].upper() == "AS" else ""
            stages.append(_Stage(name, [expand(rest[0], values)] if rest else []))
        elif keyword in ("COPY", "ADD", "RUN") and stages:
            stages[-1].refs += [expand(m.group(1).strip("\"'"), values)
                                for m in [*_FROM_FLAG.finditer(line), *_MOUNT_FROM.finditer(line)]]
    return stages


def image_refs(text: str, build_args: dict[str, str] | None = None, target: str = "") -> ImageRefs:
    """The external images (FROM, COPY --from, RUN --mount from, after ARG expansion) that building
    ``target`` (default: the last stage) needs, as BuildKit builds only the stages it depends on."""
    build_args = build_args or {}
    stages = _stages(text, dict(_PREDEFINED), build_args)
    names = [s.name for s in stages]

    def stage_of(ref: str, before: int) -> int | None:
        if ref.isdigit() and int(ref) < before:
            return int(ref)
        hits = [i for i, n in enumerate(names[:before]) if n and n == ref.lower()]
        return hits[-1] if hits else None

    start = names.index(target.lower()) if target and target.lower() in names else len(stages) - 1
    external: list[str] = []
    seen: set[int] = set()
    todo = [start] if stages else []
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        for ref in stages[i].refs:
            dep = stage_of(ref, i)
            if dep is not None:
                todo.append(dep)
            elif ref.lower() != "scratch" and ref not in external:
                external.append(ref)
    order = {ref: min(i for i, s in enumerate(stages) if ref in s.refs) for ref in external}
    return ImageRefs(tuple(sorted(external, key=lambda r: order[r])), tuple(n for n in names if n))


def substitute_bases(text: str, mapping: dict[str, str], build_args: dict[str, str] | None = None) -> str:
    """The Dockerfile with every FROM image whose resolved name (digest ignored) is a key of
    ``mapping`` replaced by its value; everything else keeps its bytes."""
    if not mapping:
        return text
    values = dict(_PREDEFINED)
    build_args = build_args or {}
    for line in logical_lines(text):
        words = line.split()
        if words and words[0].upper() == "FROM":
            break
        if words and words[0].upper() == "ARG":
            for spec in words[1:]:
                name, eq, default = spec.partition("=")
                values[name] = build_args.get(name, expand(default.strip("\"'"), values) if eq else "")

    def one(m: re.Match[str]) -> str:
        ref = expand(m.group("image"), values)
        for key in (ref, strip_digest(ref)):
            if key in mapping:
                return m.group("lead") + mapping[key]
        return m.group(0)

    return _FROM.sub(one, text)

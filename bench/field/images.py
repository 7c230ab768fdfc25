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
    external: tuple[str, ...]  # images from outside the file, as BuildKit would resolve them
    stages: tuple[str, ...]


def image_refs(text: str, build_args: dict[str, str] | None = None) -> ImageRefs:
    """External images (FROM, COPY --from, RUN --mount from) after ARG expansion; stage names."""
    values = dict(_PREDEFINED)
    build_args = build_args or {}
    stages: list[str] = []
    external: list[str] = []
    seen_from = False

    def add(ref: str) -> None:
        if ref.isdigit() or ref.lower() in stages or ref.lower() == "scratch":
            return
        if ref not in external:
            external.append(ref)

    for line in logical_lines(text):
        words = line.split()
        if not words:
            continue
        keyword = words[0].upper()
        if keyword == "ARG" and not seen_from:
            for spec in words[1:]:
                name, eq, default = spec.partition("=")
                values[name] = build_args.get(name, default.strip("\"'") if eq else values.get(name, ""))
        elif keyword == "FROM":
            seen_from = True
            rest = [w for w in words[1:] if not w.startswith("--")]
            if not rest:
                continue
            ref = expand(rest[0], values)
            add(ref)
            if len(rest) >= 3 and rest[1].upper() == "AS":
                stages.append(rest[2].lower())
        elif keyword in ("COPY", "ADD", "RUN"):
            for m in [*_FROM_FLAG.finditer(line), *_MOUNT_FROM.finditer(line)]:
                add(expand(m.group(1).strip("\"'"), values))
    return ImageRefs(tuple(external), tuple(stages))


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
                values[name] = build_args.get(name, default.strip("\"'") if eq else "")

    def one(m: re.Match[str]) -> str:
        ref = expand(m.group("image"), values)
        for key in (ref, strip_digest(ref)):
            if key in mapping:
                return m.group("lead") + mapping[key]
        return m.group(0)

    return _FROM.sub(one, text)

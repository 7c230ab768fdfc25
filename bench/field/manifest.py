"""bench/field/manifest.tsv: which Dockerfiles of which repository snapshots the bench runs.

One row per Dockerfile, tab-separated, with a header naming the columns.  ``-`` (or nothing)
stands for an empty field.

repo        owner/name of the public repository
commit      the snapshot's commit (40 hex digits); the checkout must be at it
dockerfile  path of the Dockerfile inside the repository
context     build context directory inside the repository (``.`` for the root)
lang        what the image is about: python, node, go, ruby, java, php, apt
smoke       command run in the built image (words split as a shell does; the first word
            becomes the entrypoint); empty: the liveness probe runs the image's own command
target      build target stage
build_args  NAME=VALUE pairs separated by ``;``
substitute  base image substitutions for the builds, ``FROM=TO`` separated by ``;`` (applied to
            the original and the rewrites alike, in scratch copies only)
blocker     why the file cannot be built on this machine, when that is known before building
            (e.g. ``needs the Go module proxy``); empty: the bench tries
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("repo", "commit", "dockerfile", "context", "lang", "smoke", "target", "build_args", "substitute",
           "blocker")
REQUIRED = ("repo", "commit", "dockerfile", "context", "lang")
LANGS = ("python", "node", "go", "ruby", "java", "php", "apt")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ManifestError(ValueError):
    """A malformed manifest row; the message reads ``file:line:column: what``."""


@dataclass(frozen=True)
class Entry:
    repo: str
    commit: str
    dockerfile: str
    context: str
    lang: str
    smoke: str = ""
    target: str = ""
    build_args: dict[str, str] = field(default_factory=dict)
    substitute: dict[str, str] = field(default_factory=dict)
    blocker: str = ""
    line: int = 0

    @property
    def checkout_name(self) -> str:
        """Directory name of the checkout under the field root: ``owner+name``."""
        return self.repo.replace("/", "+")

    @property
    def key(self) -> str:
        """Stable name of this file in reports: ``owner/name:path``."""
        return f"{self.repo}:{self.dockerfile}"


def _pairs(text: str, what: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq or not name.strip() or (not value.strip() and what == "substitute"):
            raise ManifestError(f"{where}: {what} needs {'FROM=TO' if what == 'substitute' else 'NAME=VALUE'} "
                                f"pairs separated by ';', not {part!r}")
        if what == "build_args" and not _ARG_NAME.match(name):
            raise ManifestError(f"{where}: build argument name {name!r} is not a valid name")
        out[name.strip()] = value.strip()
    return out


def parse_manifest(text: str, path: str = "manifest.tsv") -> list[Entry]:
    """Rows of the manifest, checked; ManifestError on the first bad one."""
    lines = text.splitlines()
    if not lines:
        raise ManifestError(f"{path}:1:1: empty manifest (a header line naming the columns is needed)")
    header = lines[0].split("\t")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ManifestError(f"{path}:1:1: header lacks column(s) {', '.join(missing)}")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise ManifestError(f"{path}:1:1: unknown column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(lines[1:], start=2):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if len(cells) != len(header):
            raise ManifestError(f"{path}:{lineno}:1: {len(cells)} fields, the header has {len(header)}")
        entry = _entry(header, cells, f"{path}:{lineno}", lineno)
        if entry.key in seen:
            col = 1 + sum(len(c) + 1 for c in cells[: header.index("dockerfile")])
            raise ManifestError(f"{path}:{lineno}:{col}: {entry.key} is listed twice (first on line {seen[entry.key]})")
        seen[entry.key] = lineno
        entries.append(entry)
    return entries


def _entry(header: list[str], cells: list[str], at: str, lineno: int) -> Entry:
    row = {name: ("" if cell.strip() == "-" else cell.strip()) for name, cell in zip(header, cells, strict=True)}

    def where(column: str) -> str:
        return f"{at}:{1 + sum(len(c) + 1 for c in cells[: header.index(column)])}"

    for column in REQUIRED:
        if not row[column]:
            raise ManifestError(f"{where(column)}: {column} is empty")
    if not _REPO.match(row["repo"]):
        raise ManifestError(f"{where('repo')}: repo must be owner/name, not {row['repo']!r}")
    if not _COMMIT.match(row["commit"]):
        raise ManifestError(f"{where('commit')}: commit must be 40 lowercase hex digits")
    if row["lang"] not in LANGS:
        raise ManifestError(f"{where('lang')}: lang {row['lang']!r} is not one of {', '.join(LANGS)}")
    for column in ("dockerfile", "context"):
        p = Path(row[column])
        if p.is_absolute() or ".." in p.parts:
            raise ManifestError(f"{where(column)}: {column} must be a path inside the repository")
    build_args = _pairs(row["build_args"], "build_args", where("build_args")) if "build_args" in row else {}
    substitute = _pairs(row["substitute"], "substitute", where("substitute")) if "substitute" in row else {}
    return Entry(repo=row["repo"], commit=row["commit"], dockerfile=row["dockerfile"], context=row["context"],
                 lang=row["lang"], smoke=row.get("smoke", ""), target=row.get("target", ""), build_args=build_args,
                 substitute=substitute, blocker=row.get("blocker", ""), line=lineno)


def load_manifest(path: Path) -> list[Entry]:
    return parse_manifest(path.read_text(encoding="utf-8"), str(path))

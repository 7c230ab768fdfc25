"""The edits the cache check makes to the build context, and how it undoes them.

To see which steps a change invalidates, a rebuild follows (b) an edit of a
source file and (c) an edit of a dependency manifest.  An edit appends one
line (a comment where the file's language has one, otherwise whitespace
that JSON and the like accept) carrying a fresh random token, so no earlier
build, ours or anybody's, can have the edited file in its cache.  The file
is restored byte for byte, mtime and atime included, whatever happens.
"""
from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from docker.utils.build import exclude_paths

from .build import ignore_patterns, read_dockerignore
from .features import logical_lines

# Dependency manifests, most telling first (the one a Dockerfile copies
# before installing is what an optimizer hoists).
MANIFEST_NAMES = (
    "requirements.txt", "package.json", "go.mod", "Cargo.toml", "Gemfile", "pyproject.toml",
    "Pipfile", "composer.json", "pom.xml", "build.gradle", "build.gradle.kts", "mix.exs",
    "environment.yml", "setup.py", "setup.cfg",
)
_MANIFEST_RE = re.compile(r"^requirements[\w.-]*\.txt$")
LOCK_NAMES = frozenset({
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json", "go.sum",
    "Cargo.lock", "Gemfile.lock", "poetry.lock", "Pipfile.lock", "composer.lock", "mix.lock",
    "uv.lock", "pdm.lock",
})

SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rb", ".rs",
                   ".java", ".kt", ".scala", ".c", ".cc", ".cpp", ".h", ".hpp", ".cs", ".ex",
                   ".exs", ".php", ".swift", ".sh", ".html", ".css")

_HASH_COMMENT = {".py", ".rb", ".sh", ".txt", ".toml", ".yml", ".yaml", ".cfg", ".ex", ".exs",
                 ".r", ".pl", ".conf", ".ini"}
_HASH_COMMENT_NAMES = {"Gemfile", "Pipfile", "Makefile", "Rakefile"}
_SLASH_COMMENT = {".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt",
                  ".scala", ".c", ".cc", ".cpp", ".h", ".hpp", ".cs", ".swift", ".mod", ".gradle",
                  ".kts"}


def is_manifest(rel: str) -> bool:
    base = posixpath.basename(rel)
    return base in MANIFEST_NAMES or base in LOCK_NAMES or bool(_MANIFEST_RE.match(base))


def copy_sources(text: str) -> list[str]:
    """Context sources of the COPY/ADD instructions (not --from, not URLs)."""
    out: list[str] = []
    for line in logical_lines(text):
        m = re.match(r"(?i)^(COPY|ADD)\s+(.*)$", line)
        if not m:
            continue
        rest = m.group(2).strip()
        words = rest.split()
        flags = []
        while words and words[0].startswith("--"):
            flags.append(words.pop(0))
        if any(f.startswith("--from") for f in flags):
            continue
        rest = " ".join(words)
        if rest.startswith("["):
            try:
                args = [str(a) for a in json.loads(rest)]
            except ValueError:
                args = words
        else:
            args = words
        for src in args[:-1]:
            if "://" in src or src.startswith(("git@", "<<")):
                continue
            out.append(src)
    return out


def _norm_source(src: str) -> str:
    src = src.strip()
    return "." if not src else posixpath.normpath(src.lstrip("/"))


def covered(rel: str, src: str) -> bool:
    """Whether copying `src` (a COPY source) takes the context file `rel` along."""
    s = _norm_source(src)
    if s == ".":
        return True
    if any(ch in s for ch in "*?["):
        rp, sp = rel.split("/"), s.split("/")
        return len(rp) >= len(sp) and all(fnmatch.fnmatchcase(r, p) for r, p in zip(rp, sp, strict=False))
    return rel == s or rel.startswith(s + "/")


def context_files(context_dir: Path, ignore_text: str | None = None) -> list[str]:
    """Regular files of the context as `docker build` sends it (.dockerignore applied, or
    `ignore_text`, the Dockerfile's own ignore file, in its place)."""
    patterns = ignore_patterns(ignore_text) if ignore_text is not None else read_dockerignore(context_dir)[0]
    paths = exclude_paths(str(context_dir), list(patterns), dockerfile=".dockerignore")
    out = []
    for rel in paths:
        full = context_dir / rel
        if full.is_file() and not full.is_symlink():
            out.append(rel.replace(os.sep, "/"))
    return sorted(out)


def detect_manifests(text: str, files: list[str]) -> list[str]:
    """The dependency manifest the Dockerfile copies (explicitly named ones first)."""
    sources = copy_sources(text)
    named = [s for s in sources if _norm_source(s) != "." and not s.endswith("/")]
    copied = [f for f in files if any(covered(f, s) for s in sources)]

    def rank(rel: str) -> tuple[bool, int, int, str]:
        base = posixpath.basename(rel)
        prio = MANIFEST_NAMES.index(base) if base in MANIFEST_NAMES else (
            0 if _MANIFEST_RE.match(base) else len(MANIFEST_NAMES))
        explicit = any(covered(rel, s) and _norm_source(s) != "." for s in named)
        return (not explicit, prio, rel.count("/"), rel)

    candidates = [f for f in copied if is_manifest(f) and posixpath.basename(f) not in LOCK_NAMES]
    return [min(candidates, key=rank)] if candidates else []


def choose_source_file(text: str, files: list[str], dockerfile_name: str) -> str | None:
    """A source file the Dockerfile copies in bulk (`COPY .` or a directory), not a manifest."""
    sources = copy_sources(text)
    files_set = set(files)
    bulk = [s for s in sources if _norm_source(s) not in files_set]
    skip = {dockerfile_name, ".dockerignore"}

    def eligible(rel: str) -> bool:
        base = posixpath.basename(rel)
        return (rel not in skip and not is_manifest(rel) and not base.startswith("Dockerfile")
                and not base.endswith(".dockerignore") and any(covered(rel, s) for s in bulk))

    pool = [f for f in files if eligible(f)]
    preferred = [f for f in pool if f.endswith(SOURCE_SUFFIXES)]
    pick = preferred or pool
    return min(pick, key=lambda f: (f.count("/"), len(f), f)) if pick else None


def edit_suffix(rel: str, data: bytes, token: str) -> bytes:
    """The line appended to `rel`: a comment with `token`, or whitespace encoding it."""
    lead = b"" if not data or data.endswith(b"\n") else b"\n"
    base = posixpath.basename(rel)
    ext = posixpath.splitext(base)[1].lower()
    if ext in _HASH_COMMENT or base in _HASH_COMMENT_NAMES:
        return lead + f"# dockopt-verify {token}\n".encode()
    if ext in _SLASH_COMMENT:
        return lead + f"// dockopt-verify {token}\n".encode()
    # JSON, XML, PHP, HTML...: a line of spaces and tabs, 48 bits of the token
    bits = int(token[:12], 16)
    return lead + bytes(0x20 if bits >> i & 1 else 0x09 for i in range(48)) + b"\n"


@contextmanager
def appended(context_dir: Path, rels: list[str], token: str) -> Iterator[None]:
    """Append an edit line to each file for the duration of the block, then restore it."""
    saved: list[tuple[Path, bytes, os.stat_result]] = []
    try:
        for rel in rels:
            path = context_dir / rel
            st = path.stat()
            data = path.read_bytes()
            saved.append((path, data, st))
            with open(path, "ab") as f:     # in place: same inode, owner and mode
                f.write(edit_suffix(rel, data, token))
        yield
    finally:
        for path, data, st in reversed(saved):
            with open(path, "r+b") as f:
                f.write(data)
                f.truncate()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

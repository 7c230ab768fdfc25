"""Which Dockerfile features a file needs from its builder.

Detection is textual on purpose: the verifier must work on files that
`dockopt.syntax` cannot parse yet, and on files that no builder here can
build (so that it can say *why*).  Everything lives in `needed_features()` so
that it can later be swapped for a walk over the real parse tree.
"""
from __future__ import annotations

import re

from ..syntax import arguments

# Feature names, with what a person should read in a report.
FEATURE_TEXT = {
    "syntax-directive": "a `# syntax=` frontend directive",
    "run-mount": "RUN --mount",
    "run-network": "RUN --network",
    "run-security": "RUN --security",
    "copy-link": "COPY/ADD --link",
    "copy-chmod": "COPY/ADD --chmod",
    "copy-parents": "COPY --parents",
    "copy-exclude": "COPY/ADD --exclude",
    "add-checksum": "ADD --checksum",
    "add-keep-git-dir": "ADD --keep-git-dir",
    "run-device": "RUN --device",
    "heredoc": "a heredoc (<<EOF)",
}

# Any of these needs BuildKit: the classic builder (the only one docker-py's
# build API drives) rejects or misreads them.
BUILDKIT_ONLY = frozenset(FEATURE_TEXT)

# The Dockerfile frontend built into Docker Engine < 23 (BuildKit 0.8, roughly
# dockerfile:1.2).  Checked on Docker 20.10.24: RUN --mount and COPY --chmod
# build; --link/--parents/--exclude fail with "Unknown flag", heredocs with
# "unknown instruction" on the heredoc body.
_UNSUPPORTED_BEFORE_23 = frozenset(
    {"copy-link", "copy-parents", "copy-exclude", "add-checksum", "add-keep-git-dir", "heredoc",
     "run-security", "run-device"}
)
# From 23.0 (BuildKit 0.11) the built-in frontend has heredocs, --link, --checksum
# and --keep-git-dir; the flags of the labs channel stay out.  Checked on Docker
# 26.1.5: --parents, --exclude, --security and --device fail with "unknown flag".
_LABS_ONLY = frozenset({"copy-parents", "copy-exclude", "run-security", "run-device"})

# The stock Dockerfile frontend images: docker/dockerfile:1, :1.7, :1.7.1, :1.7-labs, by tag or digest.
_STOCK_FRONTEND = re.compile(
    r"^(?:docker\.io/)?docker/dockerfile(?::1(?:\.\d+){0,2}(?:-labs)?)?(?:@sha256:[0-9a-f]{64})?$")
_HEREDOC = re.compile(r"<<-?\s*(?:\"[A-Za-z_]\w*\"|'[A-Za-z_]\w*'|[A-Za-z_]\w*)")
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\b(.*)$", re.DOTALL)


def _directive_lines(text: str) -> list[tuple[str, str]]:
    """(name, value) of the parser directives heading `text`, one per line, as BuildKit reads them.

    Directives are read until the first line that is not a known directive
    (an instruction, a blank line, an ordinary comment or an unknown one).
    """
    out = []
    for line in text.removeprefix("\ufeff").splitlines():
        match = arguments.RE_DIRECTIVE.match(arguments.lstrip_go(line))
        if not match or match.group(1).lower() not in arguments.KNOWN_DIRECTIVES:
            break
        out.append((match.group(1).lower(), match.group(2)))
    return out


def syntax_directive(text: str) -> tuple[int, str] | None:
    """(0-based line index, frontend image) of a `# syntax=` directive, if any."""
    for index, (name, value) in enumerate(_directive_lines(text)):
        if name == "syntax":
            return index, value
    return None


def is_stock_frontend(ref: str) -> bool:
    """Does `ref` name the stock Dockerfile frontend (docker/dockerfile:1, 1.x, 1.x.y, -labs)?"""
    return bool(_STOCK_FRONTEND.match(ref.strip()))


def without_syntax_directive(text: str) -> str:
    """`text` built by the builder's own frontend: its `# syntax=` line taken out of the directives.

    The line is moved to the end of the directive block and emptied ("#"): the
    other directives stay directives and every instruction keeps its line number.
    """
    found = syntax_directive(text)
    if found is None:
        return text
    index, _ = found
    lines = text.splitlines(keepends=True)
    bom = "\ufeff" if lines[0].startswith("\ufeff") else ""
    lines[0] = lines[0].removeprefix(bom)
    last = len(_directive_lines(text)) - 1
    removed = lines.pop(index)
    ending = removed[len(removed.rstrip("\r\n")):] or "\n"
    lines.insert(last, "#" + ending)
    return bom + "".join(lines)


def has_stage(text: str) -> bool:
    """Does the file have a FROM instruction?  (Without one there is nothing to build.)"""
    return any(re.match(r"(?i)^FROM\s", line) for line in logical_lines(text))


def logical_lines(text: str) -> list[str]:
    """Instruction lines with backslash continuations joined (comments dropped)."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continuation are removed by Docker
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        out.append(pending + stripped)
        pending = ""
    if pending:
        out.append(pending)
    return out


_RUN_FLAG_FEATURES = (("mount", "run-mount"), ("network", "run-network"),
                      ("security", "run-security"), ("device", "run-device"))
_COPY_FLAG_FEATURES = (("link", "copy-link"), ("chmod", "copy-chmod"),     # COPY and ADD
                       ("parents", "copy-parents"), ("exclude", "copy-exclude"),
                       ("checksum", "add-checksum"), ("keep-git-dir", "add-keep-git-dir"))


def _leading_flags(rest: str) -> set[str]:
    """The names of the `--flag`s before the first non-flag word; looking only there keeps
    `RUN ls --link` from counting."""
    flags = set()
    for token in rest.split():
        if not token.startswith("--"):
            break
        flags.add(token[2:].split("=", 1)[0])
    return flags


def needed_features(text: str) -> frozenset[str]:
    """The BuildKit-only features `text` uses (names are keys of FEATURE_TEXT)."""
    found: set[str] = set()
    if syntax_directive(text):
        found.add("syntax-directive")
    for line in logical_lines(text):
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        word, rest = match.group(1).upper(), match.group(2)
        if word not in {"RUN", "COPY", "ADD"}:
            continue
        flags = _leading_flags(rest)
        table = _RUN_FLAG_FEATURES if word == "RUN" else _COPY_FLAG_FEATURES
        found.update(feature for flag, feature in table if flag in flags)
        if _HEREDOC.search(rest):
            found.add("heredoc")
    return frozenset(found)


def needs_buildkit(features: frozenset[str]) -> bool:
    return bool(features & BUILDKIT_ONLY)


def unsupported_by_builtin_frontend(features: frozenset[str], engine_version: str,
                                    buildkit_version: str = "") -> frozenset[str]:
    """Features the builder's *built-in* Dockerfile frontend cannot build.

    The frontend is the one of the builder's BuildKit when its version is
    known, else the one built into the Docker Engine (docker driver).
    Flags newer than the tables here are left to the build itself to reject
    (the error is then mapped to "cannot verify" by the build module).
    """
    numbers = [int(p) for p in re.findall(r"\d+", buildkit_version or engine_version)[:2]]
    if len(numbers) < 2:
        return frozenset()
    old = tuple(numbers) < (0, 11) if buildkit_version else numbers[0] < 23
    return features & (_UNSUPPORTED_BEFORE_23 if old else _LABS_ONLY)


def describe(features: frozenset[str] | set[str]) -> str:
    return ", ".join(FEATURE_TEXT.get(f, f) for f in sorted(features))

"""Which Dockerfile features a file needs from its builder.

Detection is textual on purpose: the verifier must work on files that
`dockopt.syntax` cannot parse yet, and on files that no builder here can
build (so that it can say *why*).  Everything lives in `needed_features()` so
that it can later be swapped for a walk over the real parse tree.
"""
from __future__ import annotations

import re

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
    {"copy-link", "copy-parents", "copy-exclude", "add-checksum", "add-keep-git-dir", "heredoc"}
)

_DIRECTIVE = re.compile(r"^\s*#\s*syntax\s*=\s*(\S+)", re.IGNORECASE)
_HEREDOC = re.compile(r"<<-?\s*(?:\"[A-Za-z_]\w*\"|'[A-Za-z_]\w*'|[A-Za-z_]\w*)")
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\b(.*)$", re.DOTALL)


def syntax_directive(text: str) -> tuple[int, str] | None:
    """(0-based line index, frontend image) of a `# syntax=` directive, if any.

    Parser directives are only honoured before the first instruction, blank
    line or ordinary comment, so only that leading block is searched.
    """
    for index, line in enumerate(text.splitlines()):
        match = _DIRECTIVE.match(line)
        if match:
            return index, match.group(1)
        if not re.match(r"^\s*#\s*\w+\s*=", line):
            return None
    return None


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
        # Flags come before the first non-flag word; looking only there keeps
        # `RUN ls --link` from counting.
        flags = set()
        for token in rest.split():
            if not token.startswith("--"):
                break
            flags.add(token[2:].split("=", 1)[0])
        if word == "RUN":
            for flag, feature in (("mount", "run-mount"), ("network", "run-network"),
                                  ("security", "run-security")):
                if flag in flags:
                    found.add(feature)
        else:
            for flag, feature in (("link", "copy-link"), ("chmod", "copy-chmod"),
                                  ("parents", "copy-parents"), ("exclude", "copy-exclude"),
                                  ("checksum", "add-checksum"), ("keep-git-dir", "add-keep-git-dir")):
                if flag in flags:
                    found.add(feature)
        if _HEREDOC.search(rest):
            found.add("heredoc")
    return frozenset(found)


def needs_buildkit(features: frozenset[str]) -> bool:
    return bool(features & BUILDKIT_ONLY)


def unsupported_by_builtin_frontend(features: frozenset[str], engine_version: str) -> frozenset[str]:
    """Features the engine's *built-in* Dockerfile frontend cannot build.

    Engines from 23.0 on ship a frontend with heredocs and --link; newer flags
    there are left to the build itself to reject (the error is then mapped to
    "cannot verify" by the build module).
    """
    try:
        major = int(engine_version.split(".", 1)[0])
    except ValueError:
        return frozenset()
    if major < 23:
        return features & _UNSUPPORTED_BEFORE_23
    return frozenset()


def describe(features) -> str:
    return ", ".join(FEATURE_TEXT.get(f, f) for f in sorted(features))

"""Run the rules over one Dockerfile, honouring selection, severities and inline suppressions."""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .findings import Finding
from .passes import ALL_PASSES
from .passes.base import Context, Pass
from .suppress import (
    HADOLINT_EQUIVALENTS,
    Suppressions,
    Token,
    UnusedSuppression,
    collect,
    suppressed_codes,
    unknown_tokens,
    unused_findings,
    without_token,
)
from .syntax import Dockerfile, Flag, ParseError, parse
from .syntax.arguments import INSTRUCTIONS, Parsed, go_quote

__all__ = ["RULES", "Linter", "SuppressionError", "by_code", "check_buildable", "known_codes", "suppressed_codes"]

# every rule dockopt reports: the passes, then the rules the linter itself checks
RULES: list[Any] = [*ALL_PASSES, UnusedSuppression]


@lru_cache(maxsize=1)
def by_code() -> dict[str, Any]:
    return {rule.code: rule for rule in RULES}


def known_codes() -> list[str]:
    return list(by_code())


def default_severity(code: str) -> str:
    rule = by_code().get(code)
    return getattr(rule, "severity", "warning")


class SuppressionError(ParseError):
    """A `# dockopt: ignore=` comment naming a code that is no rule (a typo would silence nothing)."""


def check_buildable(tree: Dockerfile) -> None:
    """What BuildKit rejects beyond the grammar, raised as ParseError (file:line:column)."""
    seen_from = False
    for ins in tree.instructions:
        p = ins.parsed.sub if ins.keyword == "ONBUILD" and ins.parsed.sub else ins.parsed
        if not p.keyword:
            raise ParseError("empty instruction (a line holding only the escape character)", ins.start_line, 1)
        if p.keyword.lower() not in INSTRUCTIONS:
            raise ParseError(f"unknown instruction: {p.keyword}", ins.start_line, ins.column)
        problem = argument_error(ins.parsed)
        if problem:
            raise ParseError(problem, ins.start_line, ins.column)
        if ins.keyword == "FROM":
            seen_from = True
        elif not seen_from and ins.keyword != "ARG":
            # BuildKit: only ARG may come before the first FROM
            raise ParseError(f"no build stage in current context: {ins.keyword} before the first FROM",
                             ins.start_line, ins.column)
    if tree.instructions and not seen_from:
        first = tree.instructions[0]
        raise ParseError("the file has no FROM: no stage to build", first.start_line, first.column)


_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*")
_EXACTLY_ONE = frozenset({"USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"})
_AT_LEAST_ONE = frozenset({"ENV", "LABEL", "ARG", "EXPOSE", "VOLUME"})


# the flags some BuildKit frontend (stable or labs) takes, per instruction; another flag is refused.
# ARG, STOPSIGNAL and MAINTAINER read no flags (BuildKit takes `--x` for an argument there)
_FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount", "network", "security", "device"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "parents", "exclude"}),
    "ADD": frozenset({"chown", "chmod", "link", "keep-git-dir", "checksum", "exclude", "unpack"}),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
    **{kw: frozenset() for kw in ("WORKDIR", "ENV", "USER", "EXPOSE", "CMD", "ENTRYPOINT", "LABEL", "VOLUME", "SHELL")},
}
_REPEATABLE_FLAGS = frozenset({"mount", "exclude"})


def flag_error(p: Parsed) -> str | None:
    """BuildKit's message for a flag no BuildKit takes there, or one given twice, or None. A flag
    only a newer or the labs frontend takes (`COPY --parents`) is not refused: the project may
    build with one (`# syntax=`)."""
    known = _FLAGS.get(p.keyword.upper())
    if known is None:
        return None
    seen: set[str] = set()
    for name in (Flag.parse(raw).name for raw in p.flags):
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean --{close[0]}?)" if close else ""
            return f"unknown flag: {name}{hint}"
        if name in seen and name not in _REPEATABLE_FLAGS:
            return f"duplicate flag specified: {name}"
        seen.add(name)
    return None


def argument_error(p: Parsed) -> str | None:
    """BuildKit's message for an instruction whose arguments it refuses (as Docker 26 words it),
    or None. RUN, CMD and ENTRYPOINT may be empty."""
    flags = flag_error(p)      # (an ONBUILD trigger's flags are read when a child image builds)
    if flags:
        return flags
    kw, values = p.keyword.upper(), p.values
    special = _ARGUMENT_CHECKS.get(kw)
    if special is not None:
        return special(p)
    if kw in _EXACTLY_ONE and not values:
        return f"{kw} requires exactly one argument"
    if kw in _AT_LEAST_ONE and not values:
        return f"{kw} requires at least one argument"
    if kw == "VOLUME" and "" in values:
        return "VOLUME specified can not be an empty string"
    if kw == "ARG" and any(not word.split("=", 1)[0] for word in values):
        return "ARG names can not be blank"
    return None


def _from_error(p: Parsed) -> str | None:
    values = p.values
    if len(values) == 3 and values[1].lower() == "as":
        if not _STAGE_NAME.fullmatch(values[2].lower()):
            return f'invalid name for build stage: "{values[2]}", name can\'t start with a number or contain symbols'
        return None
    # FROM alone, FROM image AS, or words after the image (a comment after it is words too)
    return None if len(values) == 1 else "FROM requires either one or three arguments"


def _copy_error(p: Parsed) -> str | None:
    if len(p.values) >= 2:
        return None
    return (f"{p.keyword.upper()} requires at least two arguments, but only one was provided. Destination could "
            "not be determined")


def _onbuild_error(p: Parsed) -> str | None:
    trigger = p.sub.keyword.upper() if p.sub else ""
    if not trigger:
        return "ONBUILD requires at least one argument"
    if trigger == "ONBUILD":
        return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    if trigger in ("FROM", "MAINTAINER"):
        return f"{trigger} isn't allowed as an ONBUILD trigger"
    return None


def _shell_error(p: Parsed) -> str | None:
    if not p.values:
        return "SHELL requires at least one argument"
    return None if p.json else "SHELL requires the arguments to be in JSON form"


def _healthcheck_error(p: Parsed) -> str | None:
    if not p.values:
        return "HEALTHCHECK requires at least one argument"
    kind = p.values[0].upper()   # the first word, as BuildKit splits it
    if kind == "NONE":
        return "HEALTHCHECK NONE takes no arguments" if len(p.values) > 1 else None
    if kind == "CMD":
        return "Missing command after HEALTHCHECK CMD" if len(p.values) == 1 else None
    return f"Unknown type {go_quote(kind)} in HEALTHCHECK (try CMD)"


_ARGUMENT_CHECKS: dict[str, Callable[[Parsed], str | None]] = {
    "FROM": _from_error, "COPY": _copy_error, "ADD": _copy_error, "ONBUILD": _onbuild_error,
    "SHELL": _shell_error, "HEALTHCHECK": _healthcheck_error,
}


@dataclass
class Linter:
    """The rules to run and how to judge their findings.

    ``is_enabled`` says whether a code is selected (default: every rule); ``severity``
    gives a code's severity (default: the rule's own).
    """

    passes: Sequence[type[Pass]] = field(default_factory=lambda: list(ALL_PASSES))
    is_enabled: Callable[[str], bool] | None = None
    severity: Callable[[str], str] | None = None
    report_unused: bool = True   # DO900, where it is enabled

    def enabled(self, code: str) -> bool:
        return self.is_enabled is None or self.is_enabled(code)

    def active(self, tree: Dockerfile | None = None) -> list[Pass]:
        """The selected rules; with a tree, only those that can find something in it."""
        lowered = tree.source.lower() if tree is not None else None
        return [p() for p in self.passes
                if self.enabled(p.code) and (lowered is None or p.can_fire(lowered))]

    @staticmethod
    def context(tree: Dockerfile, path: Path | None = None, context_dir: Path | None = None, settings: Any = None,
                pending_files: dict[str, str] | None = None) -> Context:
        """What the rules ask about `tree`: its facts, computed on demand and kept."""
        return Context(tree, path=path, context_dir=context_dir, settings=settings,
                       pending_files=dict(pending_files or {}))

    def run(self, tree: Dockerfile, path: Path | None = None, context_dir: Path | None = None,
            settings: Any = None, pending_files: dict[str, str] | None = None,
            ctx: Context | None = None) -> list[Finding]:
        """The findings on `tree`; `ctx`, when given, is `context(tree, ...)` with these same
        arguments, made by the caller (whose facts it may have asked already)."""
        sup = collect(tree)
        for line in sup.empty:
            raise SuppressionError("`# dockopt: ignore=` names no code (give codes such as DO101, or use "
                                   "`# dockopt: ignore-file`)", line.number, line.text.find("#") + 1)
        for token in unknown_tokens(sup, lambda code: code == "ALL" or any(c.startswith(code) for c in by_code())):
            from .config import unknown_code_message

            message = unknown_code_message(token.code, known_codes(), HADOLINT_EQUIVALENTS) or ""
            raise SuppressionError(f"{message} in `# dockopt: ignore=`", token.line.number, token.column)
        if sup.whole_file:
            return []
        active = self.active(tree)
        findings = self._findings(tree, active, path, context_dir, settings, pending_files, ctx)
        out = [f for f in findings if not sup.suppressed(f)]
        if self.report_unused and self.enabled(UnusedSuppression.code):
            unused = self._unused(tree, sup, findings, active, path, context_dir, settings, pending_files)
            out += unused_findings(tree, unused)
        severity = self.severity or default_severity
        out = [replace(f, severity=severity(f.code)) for f in out]
        out.sort(key=lambda f: (f.line, f.column, f.code))
        return out

    @staticmethod
    def _findings(tree: Dockerfile, active: Sequence[Pass], path: Path | None, context_dir: Path | None,
                  settings: Any, pending_files: dict[str, str] | None, ctx: Context | None = None) -> list[Finding]:
        if ctx is None:
            ctx = Linter.context(tree, path, context_dir, settings, pending_files)
        return [f for p in active for f in p.check(ctx)]

    def _unused(self, tree: Dockerfile, sup: Suppressions, findings: list[Finding], active: Sequence[Pass],
                path: Path | None, context_dir: Path | None, settings: Any,
                pending_files: dict[str, str] | None) -> list[Token]:
        used = {id(t) for f in findings for t in sup.matching_tokens(f)}
        unused = []
        for comment in sup.comments:
            for token in comment.tokens:
                if id(token) in used:
                    continue
                rules = [p for p in active if p.code.startswith(token.code) or token.code == "ALL"]
                if not rules:
                    # a selected rule that cannot fire in this file silences nothing; one that is
                    # not selected might: whether its code is used cannot be told
                    if any(self.enabled(p.code) and (p.code.startswith(token.code) or token.code == "ALL")
                           for p in self.passes):
                        unused.append(token)
                    continue
                if not self._used_without(tree, token, rules, path, context_dir, settings, pending_files):
                    unused.append(token)
        return unused

    def _used_without(self, tree: Dockerfile, token: Token, rules: Sequence[Pass], path: Path | None,
                      context_dir: Path | None, settings: Any, pending_files: dict[str, str] | None) -> bool:
        """Whether the rules report anything else once this code is taken out of the comment.

        Not only a finding on the instruction below counts: a pass may honour the suppression
        itself (merge-runs leaves a suppressed RUN out of a merge, whose finding then sits on
        the RUN before it)."""
        probe = parse(without_token(tree.source, token))

        def seen(t: Dockerfile) -> list[tuple[str, int, int, str]]:
            found = self._findings(t, rules, path, context_dir, settings, pending_files)
            return sorted((f.code, f.line, f.column, f.message) for f in found
                          if f.code.startswith(token.code) or token.code == "ALL")

        return seen(probe) != seen(tree)

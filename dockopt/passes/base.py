"""What every pass shares: the rule description, the per-file context, and helpers for fixes."""
from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .. import ecosystems
from ..facts import FileFacts
from ..findings import Edit, Finding, Fix, Safety
from ..shell import PathUse, ToolCommand
from ..syntax import Dockerfile, Instruction

DOC_HEADINGS = ("What it does", "Why is this bad?", "Example", "Fix safety")


@dataclass(frozen=True)
class MayChange:
    """What a pass's fix may change in the built image, for `--verify` to allow and nothing more.

    `config`: image config fields (as the image JSON names them: "User", "Env", "Cmd", ...).
    `paths`: globs on absolute paths in the image (fnmatch: `*` also matches `/`), of files the
    fix may add, remove or change.  Caches, docs, logs and temp files are never compared."""

    config: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()


# where a package manager installs, for the fixes that change which packages are installed
PACKAGE_TREE = ("/usr/*", "/etc/*", "/var/lib/*", "/lib/*", "/lib64/*", "/bin/*", "/sbin/*", "/opt/*",
                "/run/*")   # what maintainer scripts leave there (adduser's /run/adduser)


class Pass:
    """One rule: subclasses set `code`, `name`, `summary` and implement `check`.

    The module docstring of the pass holds its documentation under the headings in
    DOC_HEADINGS; `--explain CODE` and docs/rules.md print it."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    needs_context: ClassVar[bool] = False   # reads the build context directory
    severity: ClassVar[str] = "warning"     # "info", "warning" or "error"; a config may change it
    # lower-case words one of which the file's text must hold for the rule to find anything
    # (the package managers it reads); empty: it always runs
    fires_on: ClassVar[tuple[str, ...]] = ()
    # what the fix may change in the image (config fields, path globs); --verify allows that only
    may_change: ClassVar[MayChange] = MayChange()
    # its fix is applied by --unsafe-fixes only when --verify proves it (or when forced per code)
    needs_proof: ClassVar[bool] = False
    # rules whose fix on the same instruction this rule's fix makes unneeded (a cache mount instead
    # of deleting the cache): when both would apply in one round, only this one is applied, so that
    # no later round undoes an edit the report would list as made
    supersedes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def can_fire(cls, lowered_text: str) -> bool:
        return not cls.fires_on or any(word in lowered_text for word in cls.fires_on)

    def check(self, ctx: Context) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def docs(cls) -> str:
        module = inspect.getmodule(cls)
        return inspect.cleandoc(module.__doc__ or "") if module else ""

    # helpers so passes read alike
    def finding(self, ins: Instruction, message: str, fix: Fix | None = None, **extra: Any) -> Finding:
        return Finding(self.code, message, ins.start_line, ins.column, ins.end_line, fix, extra)


@dataclass(eq=False)
class Context(FileFacts):
    """Everything a pass may ask about one Dockerfile: the facts (`dockopt.facts`), computed once
    and on demand, and the run's settings."""

    settings: Any = None

    @property
    def text(self) -> str:
        return self.tree.source

    def read_side_file(self, path: Path) -> str | None:
        """The text a side file has, or will have once this run's fixes are written (its line
        endings kept)."""
        key = str(path)
        if key in self.pending_files:
            return self.pending_files[key]
        try:
            return Path(path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def installer_effects(self, tool: ToolCommand, cwd: str | None, env: dict[str, str | None]
                          ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
        return ecosystems.installer_effects(tool, cwd, env)


def newline_of(tree: Dockerfile) -> str:
    for line in tree.lines:
        if line.text.endswith("\r\n"):
            return "\r\n"
        if line.text.endswith("\n"):
            return "\n"
    return "\n"


def safe_fix(title: str, *edits: Edit) -> Fix:
    return Fix(title, Safety.SAFE, tuple(edits))


def unsafe_fix(title: str, *edits: Edit) -> Fix:
    return Fix(title, Safety.UNSAFE, tuple(edits))

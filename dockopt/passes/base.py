"""What every pass shares: the rule description, the per-file context, and helpers for fixes."""
from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..findings import Edit, Finding, Fix, Safety
from ..syntax import Dockerfile, Instruction, Stage
from ..syntax.rules import Parsed

if TYPE_CHECKING:  # pragma: no cover
    from ..context import BuildContext

DOC_HEADINGS = ("What it does", "Why is this bad?", "Example", "Fix safety")


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
    def finding(self, ins: Instruction, message: str, fix: Fix | None = None, **extra) -> Finding:
        return Finding(self.code, message, ins.start_line, ins.column, ins.end_line, fix, extra)


@dataclass(frozen=True)
class RunScript:
    """The shell script a RUN executes, and where its text sits in the file."""

    text: str
    kind: str                  # "shell" (shell form) or "heredoc" (a `RUN <<EOF` body)
    ins: Instruction
    offset_in_logical: int     # for "shell": where `text` starts in ins.logical

    def span(self, start: int, end: int) -> tuple[int, int]:
        """File span of text[start:end]."""
        if self.kind == "heredoc":
            base = self.ins.heredocs[0].body_start
            return base + start, base + end
        return self.ins.logical_span(self.offset_in_logical + start, self.offset_in_logical + end)


_EXEC_SHELLS_POSIX = re.compile(r"(^|/)(sh|bash|dash|ash|zsh|ksh|busybox)$")


@dataclass
class Context:
    """Everything a pass may ask about one Dockerfile. Expensive facts are computed once."""

    tree: Dockerfile
    path: Path | None = None
    context_dir: Path | None = None
    settings: object | None = None
    # files other fixes of this run will write (path -> text); passes that write a side file
    # read it from here before the disk, so the fix loop settles
    pending_files: dict = field(default_factory=dict)
    _scripts: dict = field(default_factory=dict)

    def read_side_file(self, path: Path) -> str | None:
        """The text a side file has, or will have once this run's fixes are written."""
        key = str(path)
        if key in self.pending_files:
            return self.pending_files[key]
        try:
            return path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
            return None

    @property
    def text(self) -> str:
        return self.tree.source

    @cached_property
    def build_context(self) -> BuildContext | None:
        if self.context_dir is None or not Path(self.context_dir).is_dir():
            return None  # e.g. stdin named after a file that is not on disk
        from ..context import BuildContext

        try:
            return BuildContext(self.context_dir, dockerfile=self.path)
        except TypeError:  # older signature without the Dockerfile path
            return BuildContext(self.context_dir)

    # -- stages and shells ----------------------------------------------------------------
    @cached_property
    def stage_of_instruction(self) -> dict[int, Stage]:
        out = {}
        for st in self.tree.stages:
            out[id(st.from_)] = st
            for ins in st.instructions:
                out[id(ins)] = st
        return out

    def stage(self, ins: Instruction) -> Stage | None:
        return self.stage_of_instruction.get(id(ins))

    @cached_property
    def _shells(self) -> dict[int, tuple[str, ...]]:
        """The SHELL in force for each instruction (inherited from a stage built FROM another)."""
        by_name: dict[str, tuple[str, ...]] = {}
        out: dict[int, tuple[str, ...]] = {}
        for st in self.tree.stages:
            shell = by_name.get(st.base.lower(), ("/bin/sh", "-c"))
            for ins in st.instructions:
                out[id(ins)] = shell
                if ins.keyword == "SHELL" and ins.is_json and ins.values:
                    shell = tuple(ins.values)
            if st.name:
                by_name[st.name.lower()] = shell
            by_name[str(st.index)] = shell
        return out

    def shell_of(self, ins: Instruction) -> tuple[str, ...]:
        return self._shells.get(id(ins), ("/bin/sh", "-c"))

    def posix_shell(self, ins: Instruction) -> bool:
        shell = self.shell_of(ins)
        return bool(shell) and bool(_EXEC_SHELLS_POSIX.search(shell[0]))

    def run_script(self, ins: Instruction) -> tuple[RunScript | None, str]:
        """The script a RUN runs in a POSIX shell, or None and the reason it is skipped."""
        if ins.keyword != "RUN":
            return None, "not a RUN"
        if ins.is_json:
            return None, "exec form: no shell runs it"
        if not self.posix_shell(ins):
            return None, f"SHELL {list(self.shell_of(ins))} is not a POSIX shell"
        if ins.heredocs:
            cmd = ins.args.strip()
            h = ins.heredocs[0]
            if len(ins.heredocs) == 1 and re.fullmatch(r"<<-?\s*['\"]?" + re.escape(h.name) + r"['\"]?", cmd):
                return RunScript(h.content, "heredoc", ins, 0), ""
            return None, "a heredoc feeds a command: its text is not the RUN's script"
        return RunScript(ins.args, "shell", ins, ins.args_offset), ""

    def script(self, ins: Instruction):
        """The parsed shell script of a RUN (dockopt.shell), cached; None when skipped."""
        key = id(ins)
        if key not in self._scripts:
            rs, _reason = self.run_script(ins)
            parsed = None
            if rs is not None:
                from ..shell import parse_script

                parsed = parse_script(rs.text)
            self._scripts[key] = parsed
        return self._scripts[key]


def replace_instruction(ins: Instruction, text: str) -> Edit:
    """An edit that swaps the instruction's own lines for `text` (keeping its final newline)."""
    had = ins.lines[-1].newline
    body = text.rstrip("\r\n")
    return Edit(ins.start, ins.end, body + had if had else body)


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


def runs_in(stage: Stage) -> Iterator[Instruction]:
    return (i for i in stage.instructions if i.keyword == "RUN")


def arg_env_pairs(parsed: Parsed) -> Iterator[tuple[str, str | None]]:
    """The (key, value) pairs an ARG or ENV sets; an ARG without a default has value None."""
    kw = parsed.keyword.lower()
    if kw == "env":
        yield from zip(parsed.values[::2], parsed.values[1::2])
    elif kw == "arg":
        for word in parsed.values:
            key, eq, value = word.partition("=")
            yield key, value if eq else None


_REFERENCE = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")


def variable_reference(word: str) -> str | None:
    """The variable's name when `word` is nothing but `$NAME` or `${NAME}`."""
    m = _REFERENCE.fullmatch(word)
    return (m.group(1) or m.group(2)) if m else None


def stage_chain(tree: Dockerfile, stage: Stage) -> list[Stage]:
    """`stage` and the stages of this file it is built FROM (by name), the first one first."""
    chain = [stage]
    while True:
        base = chain[0].base.lower()
        parent = next((st for st in tree.stages[: chain[0].index] if st.name and st.name.lower() == base), None)
        if parent is None:
            return chain
        chain.insert(0, parent)

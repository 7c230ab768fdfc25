"""The shell script a RUN executes, and where its text sits in the file."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..shell import ShellKind
from ..syntax import Instruction

__all__ = ["RunScript", "run_script"]


@dataclass(frozen=True)
class RunScript:
    """The script of a RUN that a POSIX shell runs, and the way back to file offsets."""

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


def run_script(ins: Instruction, shell: ShellKind) -> tuple[RunScript | None, str]:
    """The script a RUN runs in a POSIX shell, or None and the reason it is not read."""
    if ins.keyword != "RUN":
        return None, "not a RUN"
    if ins.is_json:
        return None, "exec form: no shell runs it"
    if not shell.posix:
        return None, f"the SHELL is not a POSIX shell ({shell.reason})"
    if ins.heredocs:
        command = ins.args.strip()
        heredoc = ins.heredocs[0]
        alone = r"<<-?\s*['\"]?" + re.escape(heredoc.name) + r"['\"]?"
        if len(ins.heredocs) == 1 and re.fullmatch(alone, command):
            return RunScript(heredoc.content, "heredoc", ins, 0), ""
        return None, "a heredoc feeds a command: its text is not the RUN's script"
    return RunScript(ins.args, "shell", ins, ins.args_offset), ""

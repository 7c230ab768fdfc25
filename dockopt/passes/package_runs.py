"""What the package-manager passes (DO102-DO112) share: the RUNs they can read and edit, the
RUNs whose apt commands read lists an earlier layer fetched, and edits that keep a script's meaning.

Every edit here is an insertion or a replacement of a few words of one RUN's script, mapped back
to the file through `RunScript.span`, so continuation lines, indentation and line endings stay
as they were.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..ecosystems.system import APT_CACHE_QUERIES, APT_CONSUMERS, APT_LISTS, APT_PROGRAMS
from ..facts import RunScript
from ..facts.paths import removes as path_removes
from ..findings import Edit, Fix
from ..shell import AND, BACKGROUND, Script, SimpleCommand, ToolCommand, parse_rm, parse_tool
from ..shell.model import Scope
from ..syntax import Instruction, Stage
from .base import Context, safe_fix

# skipped scopes: the command may not run, or runs in a shell whose text is not ours to edit
_UNREACHABLE = frozenset({Scope.COMMAND_SUBSTITUTION, Scope.PROCESS_SUBSTITUTION, Scope.FUNCTION})


@dataclass
class RunInfo:
    """One RUN the package passes can read: its script, parsed, and the tools it runs."""

    ins: Instruction
    rs: RunScript
    script: Script
    commands: tuple[SimpleCommand, ...]   # commands that run as part of the RUN ($( ) excluded)
    tools: tuple[ToolCommand, ...]
    editable: bool                        # offsets map back to the file one to one

    # -- apt -------------------------------------------------------------------------------
    def apt(self, *subcommands: str) -> list[ToolCommand]:
        return [t for t in self.tools if t.command.program in APT_PROGRAMS
                and (not subcommands or t.subcommand in subcommands)]

    @property
    def apt_updates(self) -> list[ToolCommand]:
        return self.apt("update")

    @property
    def apt_consumers(self) -> list[SimpleCommand]:
        """Commands that read the package lists (apt-get install, apt-cache policy, ...)."""
        out = [t.command for t in self.apt(*APT_CONSUMERS)]
        out += [c for c in self.commands if c.program == "apt-cache" and c.args
                and c.args[0].text in APT_CACHE_QUERIES]
        return sorted(out, key=lambda c: c.start)

    def updated_before(self, command: SimpleCommand) -> bool:
        return any(u.command.start < command.start for u in self.apt_updates)

    @property
    def consumers_without_update(self) -> list[SimpleCommand]:
        """Consumers that rely on package lists left by an earlier RUN."""
        return [c for c in self.apt_consumers if not self.updated_before(c)]

    @property
    def cleans_apt_lists(self) -> bool:
        return self.removes(APT_LISTS)

    def removes(self, directory: str) -> bool:
        """An `rm` of the RUN deletes `directory`, a directory above it (`rm -rf /var/lib/apt`), or
        what is in it."""
        for command in self.commands:
            rm = parse_rm(command)
            if rm is None:
                continue
            for text in rm.path_texts:
                if text is not None and (path_removes(text, directory) or text.startswith(directory + "/")):
                    return True
        return False

    def last_top_level_ends_run(self) -> bool:
        """The script's last list ends the shell on its success path (`...; exit 0`, `exec x`):
        nothing appended after it would run. `a || exit 1` is fine: exit runs only on failure."""
        chain = self.script.chain
        if not chain:
            return True
        for c in chain[-1].commands:
            if c.program in ("exit", "exec", "return", "logout") and c.prev_operator != "||":
                return True
        return False


def run_info(ctx: Context, ins: Instruction) -> RunInfo | None:
    """The RUN as the package passes read it; None for exec form, a non-POSIX SHELL, a heredoc
    that feeds a command, ONBUILD, or a script that does not parse."""
    cache = ctx.memo("run_info")
    key = id(ins)
    if key in cache:
        cached: RunInfo | None = cache[key]
        return cached
    info = None
    rs, _reason = ctx.run_script(ins)
    if rs is not None:
        script = ctx.script(ins)
        if script is not None and not script.has_error and script.text.strip():
            commands = tuple(c for c in script.commands if not (set(c.scopes) & _UNREACHABLE))
            tools = tuple(t for t in (parse_tool(c) for c in commands) if t is not None)
            editable = not (rs.kind == "heredoc" and ins.heredocs[0].chomp)
            info = RunInfo(ins, rs, script, commands, tools, editable)
    cache[key] = info
    return info


def run_infos(ctx: Context, shipping: bool = False) -> Iterator[tuple[Stage, RunInfo]]:
    """The RUNs the package passes can read, stage by stage; `shipping`: only in stages whose
    layers reach an image (a size rule has nothing to save in a builder stage)."""
    for stage in ctx.tree.stages:
        if shipping and not ctx.graph.ships(stage):
            continue
        for ins in stage.instructions:
            if ins.keyword == "RUN":
                info = run_info(ctx, ins)
                if info is not None:
                    yield stage, info


# -- edits ---------------------------------------------------------------------------------

def insert(info: RunInfo, pos: int, text: str) -> Edit:
    at = info.rs.span(pos, pos)[0]
    return Edit(at, at, text)


def add_flag(info: RunInfo, tools: Iterable[ToolCommand], flag: str) -> Fix | None:
    """The safe fix that adds `flag` after each tool's subcommand; None when the RUN cannot be edited."""
    edits = [insert(info, t.flag_insert_at, " " + flag) for t in tools] if info.editable else []
    return safe_fix(f"Add {flag}", *edits) if edits else None


def replace(info: RunInfo, start: int, end: int, text: str) -> Edit | None:
    """Replace script[start:end]; None when that text does not sit in the file as it is
    (it crosses a continuation line)."""
    a, b = info.rs.span(start, end)
    offset = info.ins.start
    if b - a != end - start or info.ins.source[a - offset:b - offset] != info.script.text[start:end]:
        return None
    return Edit(a, b, text)


def delete(info: RunInfo, start: int, end: int) -> Edit:
    """Delete script[start:end] (may cross continuation lines: what sits between goes too)."""
    a, b = info.rs.span(start, end)
    return Edit(a, b, "")


def can_append(info: RunInfo) -> bool:
    """` && cmd` can go at the end of the script: it then runs once everything before it has
    succeeded, and the RUN fails exactly when it failed before (or when cmd fails)."""
    if not info.editable:
        return False
    chain = info.script.chain
    if not chain or chain[-1].operator == BACKGROUND:
        return False
    return not info.last_top_level_ends_run()


def append_command(info: RunInfo, command: str) -> Edit | None:
    if not can_append(info):
        return None
    return insert(info, info.script.append_at, f" {AND} {command}")


def wrappers_text(info: RunInfo, command: SimpleCommand) -> str:
    """`sudo ` of `sudo apt-get install`: what to put before a command added next to it."""
    if not command.wrappers or command.name_word is None:
        return ""
    return info.script.text[command.argv[0].start:command.name_word.start]


def can_prefix(command: SimpleCommand) -> bool:
    """`new && ` can go right before the command without changing what else runs."""
    if set(command.scopes) & (_UNREACHABLE | {Scope.CONDITION, Scope.BACKGROUND, Scope.NEGATION}):
        return False
    return command.prev_operator in (None, AND, ";", "\n")


def prefix_apt_update(info: RunInfo, command: SimpleCommand) -> Edit | None:
    """`apt-get update && ` in front of an apt command that uses lists no RUN of its own fetched."""
    if not info.editable or not can_prefix(command):
        return None
    start = command.assignments[0].start if command.assignments else command.argv[0].start
    return insert(info, start, f"{wrappers_text(info, command)}apt-get update {AND} ")

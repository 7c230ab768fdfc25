"""Who reads the package index (apt's lists, apk's index) that an earlier layer fetched.

A fix that removes the index (DO104's `rm -rf /var/lib/apt/lists/*`, DO107 dropping `apk
update`) must know every later step that installs from it without fetching it again: the RUNs of
the stage and of the stages built `FROM` it, the scripts those RUNs run, and the `ONBUILD RUN`
triggers that run in a child image. A script copied from the build context is read (when the
context is at hand) and its commands are looked at like a RUN's; a script dockopt cannot read, and
an `ONBUILD RUN` that installs or runs a script, block the fix: the index stays.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..ecosystems.system import APK_CACHES, APT_CACHE_QUERIES, APT_CONSUMERS, APT_LISTS, APT_PROGRAMS
from ..facts.paths import is_under, join
from ..shell import Script, SimpleCommand, ToolCommand, parse_script, parse_tool
from ..syntax import Instruction
from .base import Context
from .package_runs import RunInfo, run_info

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})
_SOURCE = frozenset({".", "source"})
# a script only looked at as text (not a shell script): does it name the manager at all?
_MENTIONS = {"apt": re.compile(r"\bapt(?:-get|itude)?\b"), "apk": re.compile(r"\bapk\b")}


@dataclass(frozen=True)
class Index:
    """A package manager's index: which commands fetch it and which read it."""

    name: str                                  # for messages: "the apt lists"
    key: str                                   # "apt" or "apk"
    path: str                                  # where it lives in the image
    fetches: Callable[[ToolCommand], bool]
    reads: Callable[[ToolCommand], bool]


def _apt_tool(t: ToolCommand) -> bool:
    return t.command.program in APT_PROGRAMS


APT = Index("the apt lists", "apt", APT_LISTS, lambda t: _apt_tool(t) and t.subcommand == "update",
            lambda t: _apt_tool(t) and t.subcommand in APT_CONSUMERS)
APK = Index("the apk index", "apk", APK_CACHES[0],
            lambda t: t.manager == "apk" and (t.subcommand == "update" or t.has_flag("-U", "--update-cache")),
            lambda t: t.manager == "apk" and t.subcommand == "add" and not t.has_flag("--no-cache"))


def _reads_apt_cache(command: SimpleCommand) -> bool:
    return command.program == "apt-cache" and bool(command.args) and command.args[0].text in APT_CACHE_QUERIES


@dataclass
class Readers:
    """The later steps that read the index without fetching it."""

    fixable: list[tuple[RunInfo, SimpleCommand]] = field(default_factory=list)   # a fetch can go before it
    blockers: list[tuple[Instruction, str]] = field(default_factory=list)        # why the index must stay

    @property
    def lines(self) -> str:
        ins = [info.ins for info, _c in self.fixable] + [i for i, _r in self.blockers]
        return ", ".join(str(n) for n in sorted({i.start_line for i in ins}))


def later_readers(ctx: Context, ins: Instruction, index: Index = APT) -> Readers:
    """The steps after `ins` (its stage, then the stages built FROM it) that read `index` without a
    fetch of their own, up to a RUN that fetches it again."""
    out = Readers()
    stage = ctx.stage(ins)
    if stage is None or deletes_index(ctx, ins, index):
        return out          # the RUN deletes the index itself: nothing after it reads this one
    rest = list(stage.instructions)
    rest = rest[next(i for i, x in enumerate(rest) if x is ins) + 1:]
    if _collect(ctx, rest, index, out):
        return out          # the stage fetches the index again: what is built on it reads that one
    for st in ctx.graph.descendants(stage):
        _collect(ctx, st.instructions, index, out)
    return out


def _collect(ctx: Context, instructions: Iterable[Instruction], index: Index, out: Readers) -> bool:
    """Add the steps that read the earlier index; True when a RUN fetches it again."""
    for later in instructions:
        if later.keyword == "ONBUILD":
            reason = _onbuild_reads(later, index)
            if reason:
                out.blockers.append((later, reason))
            continue
        if later.keyword != "RUN":
            continue
        info = run_info(ctx, later)
        if info is None:
            continue
        first, unknown = first_reader(ctx, info, index)
        if unknown:
            out.blockers.append((later, unknown))
        elif first is not None:
            out.fixable.append((info, first))
        if any(index.fetches(t) for t in info.tools) or deletes_index(ctx, later, index):
            return True     # fetched again, or gone: what follows does not read the earlier one
    return False


def deletes_index(ctx: Context, ins: Instruction, index: Index) -> bool:
    """The instruction deletes the index (`rm -rf /var/cache/apk/*`, `rm -rf /var/lib/apt/lists`)."""
    for d in ctx.effects(ins).deletes:
        path = d.path
        while path.endswith(("/*", "/")) and len(path) > 1:
            path = path[:-2] if path.endswith("/*") else path[:-1]
        if is_under(index.path, path):
            return True
    return False


def first_reader(ctx: Context, info: RunInfo, index: Index) -> tuple[SimpleCommand | None, str]:
    """(the first command of the RUN that reads the index before the RUN fetches it, "") or
    (None, why dockopt cannot tell: a script it cannot read)."""
    for command in info.commands:
        tool = parse_tool(command)
        if tool is not None and index.fetches(tool):
            return None, ""
        if (tool is not None and index.reads(tool)) or (index is APT and _reads_apt_cache(command)):
            return command, ""
        verdict = script_reads(ctx, info, command, index)
        if verdict is True:
            return command, ""
        if isinstance(verdict, str):
            return None, verdict
    return None, ""


def script_reads(ctx: Context, info: RunInfo, command: SimpleCommand, index: Index) -> bool | str | None:
    """Whether the script `command` runs reads the index before fetching it: True, False, a reason
    when it cannot be told, None when `command` runs no script."""
    target = _script_of(command)
    if target is None:
        return _on_path(ctx, info, command, index)
    kind, value = target
    if kind == "inline":
        return _text_reads(value, index, f"`{command.program} -c`")
    cwd = next((s.cwd for s in ctx.steps(info.ins) if s.command.start == command.start), None)
    path = join(cwd, value)
    origin = ctx.context_origin(info.ins, path) if path is not None else None
    return _read_origin(ctx, info, origin, index)


def _on_path(ctx: Context, info: RunInfo, command: SimpleCommand, index: Index) -> bool | str | None:
    """A command found on PATH that the build copied there from the context (`install-deps.sh`
    copied to /usr/local/bin)."""
    name = command.name
    if name is None or "/" in name or parse_tool(command) is not None:
        return None
    for directory in (ctx.state(info.ins).value("PATH") or "").split(":"):
        path = join("/", f"{directory}/{name}") if directory.startswith("/") else None
        origin = ctx.context_origin(info.ins, path) if path is not None else None
        if origin is not None:
            return _read_origin(ctx, info, origin, index)
    return None


def _read_origin(ctx: Context, info: RunInfo, origin: str | None, index: Index) -> bool | str | None:
    if origin is None:
        return None          # not a file of the build context (the base image's own programs)
    text = ctx.files.sent_text(origin)
    if text is None:
        return f"line {info.ins.start_line} runs {origin} from the build context, which dockopt cannot read"
    return _text_reads(text, index, origin)


def _script_of(command: SimpleCommand) -> tuple[str, str] | None:
    """("file", path) of the script a command runs (`./x.sh`, `sh x.sh`, `. x`), ("inline", text)
    for `sh -c TEXT`, None for anything else."""
    name = command.name
    if name is None:
        return None
    if "/" in name and command.program not in SHELLS:
        return "file", name
    words = [w.text for w in command.args]
    if command.program in _SOURCE:
        return ("file", words[0]) if words and words[0] else None
    if command.program not in SHELLS:
        return None
    for i, w in enumerate(words):
        if w is None:
            return None
        if w == "-c" or (w.startswith("-") and not w.startswith("--") and "c" in w[1:]):
            text = words[i + 1] if i + 1 < len(words) else None
            return ("inline", text) if text else None
        if not w.startswith("-"):
            return "file", w
    return None


def _text_reads(text: str, index: Index, what: str) -> bool | str:
    """Whether a script's text reads the index before fetching it; a reason when dockopt cannot
    tell (not a shell script, or it runs further scripts)."""
    first = text.splitlines()[0] if text else ""
    if first.startswith("#!") and not any(sh in first for sh in SHELLS):
        return f"{what} is not a shell script and mentions {index.key}" if _MENTIONS[index.key].search(text) \
            else False
    script = parse_script(text)
    if script.has_error:
        return f"{what} does not parse as a shell script" if _MENTIONS[index.key].search(text) else False
    return _script_reads(script, index, what)


def _script_reads(script: Script, index: Index, what: str) -> bool | str:
    for command in script.commands:
        tool = parse_tool(command)
        if tool is not None and index.fetches(tool):
            return False
        if (tool is not None and index.reads(tool)) or (index is APT and _reads_apt_cache(command)):
            return True
        target = _script_of(command)
        if target is not None and target[0] == "file":
            return f"{what} runs {target[1]}, which dockopt does not follow"
    return False


def _onbuild_reads(ins: Instruction, index: Index) -> str:
    """Why an `ONBUILD RUN` may read the index in a child image ("" when it does not)."""
    sub = ins.onbuild
    if sub is None or sub.keyword.upper() != "RUN":
        return ""
    text = " ".join(sub.values) if sub.json else sub.args
    verdict = _text_reads(text, index, f"the ONBUILD RUN on line {ins.start_line}")
    if verdict is True:
        return f"the ONBUILD RUN on line {ins.start_line} installs from {index.name} in every child image"
    if isinstance(verdict, str):
        return verdict
    script = parse_script(text)
    if any(_script_of(c) is not None for c in script.commands):
        return f"the ONBUILD RUN on line {ins.start_line} runs a script in every child image"
    return ""

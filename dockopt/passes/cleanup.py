"""Where a cache cleanup goes in a RUN, and when the RUN already cleans up by hand.

A cleanup command (`npm cache clean --force`, `dnf clean all`) runs the tool it cleans, so it goes
right after the last command of the RUN that uses that tool: a later command of the same RUN may
remove the tool (`apt-get purge -y npm`, `apk del`, `npm uninstall -g yarn`), change directory or
user, or end the shell. Where it cannot go there (the last use sits in a pipeline, a condition, a
background job), it goes at the end of the script, unless a later command removes the tool: then
there is no fix.

A RUN also counts as cleaning a cache when a command after the last install deletes the cache
directory by hand (`rm -rf ~/.npm`, `rm -rf /root/.cache/pip`).
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from ..ecosystems.system import REMOVING, removed_again
from ..facts.paths import clean, is_under
from ..findings import Edit
from ..shell import AND, NEWLINE, OR, SEMICOLON, SimpleCommand, parse_rm, parse_tool
from ..shell.model import Scope
from .base import Context
from .package_runs import RunInfo, append_command, insert

# a command in one of these scopes may not run, runs elsewhere, or shares its output: nothing can follow it
_BLOCKING = frozenset({Scope.PIPELINE, Scope.BACKGROUND, Scope.CONDITION, Scope.NEGATION,
                       Scope.COMMAND_SUBSTITUTION, Scope.PROCESS_SUBSTITUTION, Scope.FUNCTION})
_HOME_WORDS = ("${HOME}", "$HOME", "~")
# subcommands that remove a package: the system managers' and the language managers' (`npm uninstall -g yarn`)
_REMOVING = REMOVING | {"uninstall"}


@dataclass(frozen=True)
class Placement:
    edit: Edit | None
    reason: str          # why there is no edit ("" when there is one)


def place(info: RunInfo, last_use: SimpleCommand, command: str, tool: str,
          packages: Iterable[str] = ()) -> Placement:
    """The edit that runs `command` right after `last_use`, or at the end of the script when it
    cannot follow it there and nothing after it removes `tool` (its packages: `packages`)."""
    if not info.editable:
        return Placement(None, "the RUN's text cannot be edited in place")
    text = _follow(info, last_use, command)
    if text is not None:
        return Placement(insert(info, last_use.append_at, text), "")
    removal = tool_removed(info, last_use, tool, packages)
    if removal is not None:
        return Placement(None, f"`{removal}` removes {tool} later in this RUN, and the cleanup cannot "
                               "go right after the last command that uses it")
    edit = append_command(info, command)
    if edit is None:
        return Placement(None, "nothing can be added at the end of this RUN (it ends the shell or "
                               "runs in the background)")
    return Placement(edit, "")


def _follow(info: RunInfo, last: SimpleCommand, command: str) -> str | None:
    """The text that runs `command` right after `last` with the same outcome for the RUN, or None.

    After `&&` (or at the end of its list) ` && cmd` keeps the list's meaning; before `;` or a
    newline `; cmd` does (with `set -e`, a failing command still stops the shell before it)."""
    if set(last.scopes) & _BLOCKING:
        return None
    if last.next_operator in (None, AND):
        if _or_follows(info, last):
            return None       # `a && b || c`: a failing cleanup would run c
        return f" {AND} {command}"
    if last.next_operator in (SEMICOLON, NEWLINE):
        return f"; {command}"
    return None


def _or_follows(info: RunInfo, last: SimpleCommand) -> bool:
    """An `||` follows `last` in its and-or list."""
    for c in info.commands:
        if c.start <= last.start or c.scopes != last.scopes:
            continue
        if c.prev_operator == OR:
            return True
        if c.prev_operator != AND:
            return False      # the list ended: `;`, a newline, `&`, or another list
    return False


def tool_removed(info: RunInfo, after: SimpleCommand, tool: str, packages: Iterable[str] = ()) -> str | None:
    """The text of a command after `after` that removes `tool` (a package of `packages`, the
    program itself with `rm`), or None."""
    names = {tool, *packages}
    later = [c for c in info.commands if c.start > after.start]
    gone = removed_again(info.commands)
    for c in later:
        t = parse_tool(c)
        if t is not None and t.subcommand in _REMOVING and (
                {p.name for p in t.packages} & names or (t.subcommand == "autoremove" and gone & names)):
            return info.script.text[c.start:c.end]
        if t is not None and gone & names and t.has_flag("--auto-remove", "--autoremove"):
            return info.script.text[c.start:c.end]
        rm = parse_rm(c)
        if (rm is not None and any(p is not None and _names_tool(p, names) for p in rm.path_texts)) \
                or _erases(c, names):
            return info.script.text[c.start:c.end]
    return None


def _erases(command: SimpleCommand, names: set[str]) -> bool:
    """`rpm -e dnf`, `dpkg --purge npm`: the low-level tools removing one of the packages."""
    if command.program not in ("rpm", "dpkg"):
        return False
    words = [w.text or "" for w in command.args]
    erase = any(w in ("--erase", "--remove", "--purge") or (
        w.startswith("-") and not w.startswith("--") and set(w[1:]) & {"e", "r", "P"}) for w in words)
    return erase and bool(names & set(words))


def _names_tool(path: str, names: set[str]) -> bool:
    parts = clean(path.rstrip("/*") or "/").split("/")
    return bool(parts) and (parts[-1] in names or (len(parts) > 1 and parts[-2] == "node_modules"
                                                   and parts[-1] in names))


def home(ctx: Context, info: RunInfo) -> str:
    """The home directory the RUN's commands see: $HOME when set, else that of the USER in force."""
    state = ctx.state(info.ins)
    value = state.value("HOME")
    if value:
        return value
    user = (state.user or "root").split(":")[0]
    return "/root" if user in ("root", "0") else f"/home/{user}"


def removed_by_hand(ctx: Context, info: RunInfo, after: int, directories: Iterable[str]) -> bool:
    """An `rm` after offset `after` deletes one of `directories`, what holds it, or what is in it
    (`rm -rf ~/.npm`, `rm -rf /root/.cache`, `rm -rf /root/.cache/pip/*`)."""
    dirs = list(directories)
    where = home(ctx, info)
    for c in info.commands:
        if c.start <= after:
            continue
        rm = parse_rm(c)
        if rm is None:
            continue
        for word in rm.paths:
            path = _rm_path(word.raw, word.text, where)
            if path is not None and any(is_under(d, path) or is_under(path, d) for d in dirs):
                return True
    return False


def _rm_path(raw: str, text: str | None, where: str) -> str | None:
    """An rm operand as an absolute path (`~` and `$HOME` are the home), its trailing `/*` or `/`
    dropped; None when it is not known."""
    raw = raw.strip("'\"")
    for word in _HOME_WORDS:
        if raw == word or raw.startswith(word + "/"):
            raw = where + raw[len(word):]
            break
    else:
        if text is None:
            return None
        raw = text
    if not raw.startswith("/") or "$" in raw:
        return None
    while raw.endswith(("/*", "/")) and len(raw) > 1:
        raw = raw[:-2] if raw.endswith("/*") else raw[:-1]
    cleaned = clean(raw)
    return None if any(ch in cleaned for ch in "*?[") else posixpath.normpath(cleaned)

"""What each instruction reads and writes: build-context paths, image paths, packages, variables.

Image paths are resolved against the working directory each command runs in (a RUN's `cd`
included). An instruction whose effects are not all known is *not modelled* (`modelled` is
False, `unmodelled` says why): its read and write sets are then incomplete, and a caller must
treat it as touching anything.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..shell import CommandEffects, PathUse, Script, SimpleCommand, ToolCommand
from ..shell.model import Scope, Word
from ..shell.words import literal_prefix
from ..syntax import Instruction
from .mounts import NOT_KEPT, Mount
from .paths import is_under, join
from .paths import removes as path_removes
from .state import State
from .variables import references

__all__ = ["Access", "ContextRead", "Effects", "PackageChange", "Step", "copy_operands", "run_steps", "uses_cwd"]

_INSTALLING = frozenset({"install", "add", "reinstall", "global add", "pip install", "groupinstall",
                         "group install", "in", "localinstall"})
_REMOVING = frozenset({"remove", "purge", "del", "erase", "uninstall", "autoremove", "rm", "pip uninstall"})
# instructions that touch no file
_METADATA = frozenset({"ARG", "ENV", "USER", "SHELL", "EXPOSE", "LABEL", "CMD", "ENTRYPOINT", "HEALTHCHECK",
                       "STOPSIGNAL", "VOLUME", "MAINTAINER", "ONBUILD", "FROM"})


@dataclass(frozen=True)
class Access:
    """An image path an instruction uses."""

    path: str              # absolute (or under BASE_WORKDIR); a deletion may hold a glob
    via: str               # the program, `redirect`, `COPY`, ...
    what: str = ""         # for messages
    tree: bool = False     # the directory and everything in it


@dataclass(frozen=True)
class ContextRead:
    """A COPY/ADD source or a bind mount of the build context."""

    source: str                               # as written, cleaned, relative to the context root
    matches: tuple[str, ...] | None = None    # the sent paths it names (None without a context)


@dataclass(frozen=True)
class PackageChange:
    manager: str           # apt-get, apk, pip, npm, ...
    name: str
    installed: bool        # False: removed


@dataclass(frozen=True)
class Step:
    """One command of a RUN, where it runs, and what it does to files."""

    command: SimpleCommand
    cwd: str | None                            # the directory it runs in (None: unknown)
    env: Mapping[str, str | None]              # the variables it sees (prefix assignments included)
    effects: CommandEffects                    # paths as the command names them
    reads: tuple[Access, ...] = ()
    writes: tuple[Access, ...] = ()
    deletes: tuple[Access, ...] = ()
    unresolved: bool = False                   # a path it names could not be resolved
    # variables an earlier command of the script set to a directory or file `mktemp` made
    temporary: frozenset[str] = frozenset()
    home: str | None = None                    # where `~` leads (None: unknown)

    def word_path(self, word: Word) -> str | None:
        """The image path `word` names when the facts know it all: its text (`~` expanded), or a
        variable with a known value followed by plain text (`$HOME/.cache/pip`). None otherwise.
        Unlike `deletes`, a path under a mount is a path too."""
        if word.text is not None:
            return join(self.cwd, expand_tilde(word.text, self.home))
        found = _VARIABLE_THEN_TEXT.fullmatch(word.raw)
        if found is None:
            return None
        value = self._value(found.group(1) or found.group(2))
        return join(self.cwd, value + (found.group(3) or "")) if value else None

    def path_start(self, word: Word) -> str | None:
        """What the path `word` names surely starts with, as an image path: its literal start
        against the directory the command runs in, the value of a variable it starts with when
        that is known (`$JAVA_HOME/legal`), or the temporary directory for a variable `mktemp`
        set (`"$GNUPGHOME"/x`). None when nothing is known of it."""
        prefix = literal_prefix(word)
        if prefix.startswith("~"):
            return None
        if prefix:
            return self._start(prefix)
        variable = _VARIABLE_THEN_TEXT.match(word.raw)
        if variable is None:
            return None
        name = variable.group(1) or variable.group(2)
        value = self._value(name)
        if value is not None and name not in self.temporary:
            # the value, then the plain text after it (`${HOME}/.cache/pip/*`: /root/.cache/pip/)
            return self._start(value + (variable.group(3) or "")) if value else None
        if name not in self.temporary:
            return None
        tmpdir = self.env.get("TMPDIR", "/tmp") if "TMPDIR" in self.env else "/tmp"
        return None if tmpdir is None else tmpdir.rstrip("/") + "/"

    def _value(self, name: str) -> str | None:
        """A variable's value where the command runs (HOME: the user's home)."""
        return self.home if name == "HOME" else self.env.get(name)

    def _start(self, prefix: str) -> str | None:
        """`prefix` as an image path, keeping its last `/` (`/var/lib/apt/` is not `/var/lib/aptx`)."""
        start = join(self.cwd, prefix)
        return start + "/" if start is not None and prefix.endswith("/") and not start.endswith("/") else start


# `$NAME/rest`, `"${NAME}"/rest`, `"$NAME/rest"`: a variable, then text without expansions or globs
_VARIABLE_THEN_TEXT = re.compile(r'"?\$(?:([A-Za-z_]\w*)|\{([A-Za-z_]\w*)\})"?(/[^$`*?\[\]"\'\\\s]*)?"?')
# a fresh temporary path: `$(mktemp)`, `"$(mktemp -d)"`, `$(mktemp -d -t name.XXXXXX)` (not one
# made elsewhere with -p, --tmpdir or a template that holds a directory)
_MKTEMP = re.compile(r'"?\$\(\s*mktemp(?:\s+(?:-[dqtu]+|--directory|--quiet|--dry-run))*(?:\s+[^\s/"$`)-][^\s/"$`)]*)?'
                     r'\s*\)"?')
_DECLARATIONS = frozenset({"export", "declare", "typeset", "readonly", "local"})


def _variables_set(command: SimpleCommand) -> list[tuple[str, str, str | None]]:
    """(name, value as written, value or None when only known at build time) of each variable
    the command sets: a command of assignments alone, or `export NAME=value` (declare, ...)."""
    if command.name_index is None:
        return [(a.name, a.value.raw if a.value is not None else "", a.value_text) for a in command.assignments]
    if command.program not in _DECLARATIONS:
        return []
    out: list[tuple[str, str, str | None]] = []
    for word in command.args:
        name, eq, raw = word.raw.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_]\w*", name):
            out.append((name, raw, word.text.partition("=")[2] if word.text is not None else None))
    return out


@dataclass(frozen=True)
class Effects:
    """What one instruction reads and writes."""

    ins: Instruction
    context_reads: tuple[ContextRead, ...] = ()
    stage_reads: tuple[tuple[str, str], ...] = ()     # (stage or image of --from, path)
    reads: tuple[Access, ...] = ()
    writes: tuple[Access, ...] = ()
    deletes: tuple[Access, ...] = ()
    packages: tuple[PackageChange, ...] = ()
    env_reads: frozenset[str] = frozenset()
    unmodelled: tuple[str, ...] = ()
    steps: tuple[Step, ...] = field(default=(), repr=False)
    # a RUN names a path relative to the directory it runs in (or runs where that is unknown):
    # what it does depends on the working directory
    uses_cwd: bool = False
    # a COPY/ADD: directories above its destination it may create (not the standard ones, nor
    # the working directory and those above it, which exist); a later write into one needs it
    created: tuple[str, ...] = ()

    @property
    def modelled(self) -> bool:
        return not self.unmodelled

    def removes(self, path: str) -> Access | None:
        """A deletion of the instruction that removes `path` itself (it or a directory above
        it), which a mount there would make fail ('Device or resource busy')."""
        return next((d for d in self.deletes if path_removes(d.path, path)), None)

    def touches(self, path: str) -> bool:
        """Reads, writes or deletes `path` or something under or above it (True when not modelled)."""
        if not self.modelled:
            return True
        return any(is_under(a.path, path) or is_under(path, a.path)
                   for a in self.reads + self.writes + self.deletes)


# --------------------------------------------------------------------------- COPY / ADD

def copy_operands(ins: Instruction) -> tuple[tuple[str, ...], str] | None:
    """Sources and destination of a COPY/ADD, as written (None for heredocs or too few operands)."""
    if ins.keyword not in ("COPY", "ADD") or ins.heredocs:
        return None
    values = ins.values
    if len(values) < 2:
        return None
    return tuple(values[:-1]), values[-1]


# --------------------------------------------------------------------------- RUN

def run_steps(script: Script, state: State
              ) -> list[tuple[SimpleCommand, str | None, dict[str, str | None], frozenset[str]]]:
    """Each command of the script with the directory it runs in, the variables it sees, and
    those of them that hold a path `mktemp` made.

    A `cd` of the main shell moves the directory for what follows; one inside a condition, a
    function or with an argument only known at run time leaves it unknown. An assignment alone
    (`X=1`) sets the variable for the rest of the main shell."""
    out = []
    cwd = state.cwd
    env = state.values
    temporary: frozenset[str] = frozenset()
    tracking = True
    for command in script.commands:
        own = dict(env)
        for a in command.assignments:
            own[a.name] = a.value_text
        out.append((command, cwd, own, temporary))
        # a subshell's `G=$(mktemp -d)` counts for the commands after it too: those in the same
        # subshell see it, and for the others G is what it was, which no `mktemp` path can
        # endanger (another value of G, anywhere, ends the tracking)
        variables = _variables_set(command)
        if any(name == "TMPDIR" for name, _raw, _value in variables):
            tracking = False    # mktemp's directory is no longer the one the environment says
        if variables:
            fresh = {name: _MKTEMP.fullmatch(raw) is not None for name, raw, _value in variables}
            kept = (n for n in temporary | fresh.keys() if fresh.get(n, True))
            temporary = frozenset(kept) if tracking else frozenset()
        if command.runs_in_subshell:
            continue
        if command.program == "cd":
            args = [w.text for w in command.args]
            static = len(args) == 1 and args[0] not in (None, "-")
            movable = not command.in_conditional and Scope.FUNCTION not in command.scopes
            cwd = join(cwd, args[0]) if static and movable else None
        elif variables:
            # one that may or may not run (in a condition or a function) leaves the value unknown
            sure = not command.in_conditional and Scope.FUNCTION not in command.scopes
            env = {**env, **{name: value if sure else None for name, _raw, value in variables}}
    return out


def resolve_uses(uses: tuple[PathUse, ...], cwd: str | None, mounts: tuple[Mount, ...], home: str | None = None
                 ) -> tuple[tuple[Access, ...], bool]:
    """The image paths of `uses` run in `cwd` by a user whose home is `home` (None: unknown; the
    shell expands `~` to it), those under a cache or tmpfs mount left out, and whether one could
    not be resolved."""
    out = []
    unresolved = False
    for use in uses:
        path = join(cwd, expand_tilde(use.path, home)) if use.path else None
        if path is None:
            unresolved = True
            continue
        if any(m.covers(path, NOT_KEPT) for m in mounts):
            continue
        out.append(Access(path, use.via, use.what, use.tree))
    return tuple(out), unresolved


def expand_tilde(path: str, home: str | None) -> str | None:
    """`path` with a leading `~` or `~/` replaced by `home` (None when that is unknown, or for
    another user's `~name`)."""
    if not path.startswith("~"):
        return path
    if home is None or not (path == "~" or path.startswith("~/")):
        return None
    return home if path == "~" else home.rstrip("/") + path[1:]


def package_changes(tool: ToolCommand) -> tuple[PackageChange, ...]:
    sub = tool.subcommand or ""
    if sub in _INSTALLING:
        installed = True
    elif sub in _REMOVING:
        installed = False
    else:
        return ()
    return tuple(PackageChange(tool.manager, p.name, installed) for p in tool.packages)


def uses_cwd(steps: tuple[Step, ...]) -> bool:
    """Some command names a path relative to the directory it runs in, changes to one (`cd x`), or
    runs where the directory is unknown."""
    for step in steps:
        uses = step.effects.reads + step.effects.writes + step.effects.deletes
        if step.cwd is None or any(not u.path.startswith("/") for u in uses):
            return True
        if step.command.program == "cd" and any(not (w.text or "").startswith(("/", "-")) for w in step.command.args):
            return True
    return False


def owner_reads(ins: Instruction) -> tuple[Access, ...]:
    """A COPY/ADD `--chown` that names a user or group (not numeric ids) looks it up in the
    image's /etc/passwd and /etc/group when it runs."""
    flag = ins.flag("chown")
    if flag is None or not flag.value:
        return ()
    if all(part.isdigit() for part in flag.value.split(":") if part):
        return ()
    what = f"{ins.keyword} --chown={flag.value}"
    return (Access("/etc/passwd", ins.keyword, what), Access("/etc/group", ins.keyword, what))


def describe_metadata(ins: Instruction) -> bool:
    """The instruction only changes the image's configuration, no file."""
    return ins.keyword in _METADATA


def env_references(ins: Instruction) -> frozenset[str]:
    """The variables an instruction's text refers to."""
    if ins.keyword == "RUN" and ins.heredocs:
        return references(ins.args) | frozenset().union(*(references(h.body) for h in ins.heredocs))
    return references(ins.logical)


def destination_is_directory(sources: tuple[str, ...], dest: str) -> bool:
    """BuildKit copies into `dest` as a directory when it ends in '/' or there are several sources."""
    return (dest.endswith(("/", "/.", "/..")) or len(sources) > 1 or dest in (".", ".."))

"""What the ecosystem readers share: a project copied into the image, the manifests an install
reads from it, what the readers answer, and the reasons they give when they cannot."""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..facts.files import ContextFiles
from ..facts.paths import clean, is_under, join, relative
from ..shell import SimpleCommand, ToolCommand

__all__ = ["CannotTell", "Install", "InstallSite", "Manifests", "Project", "ProjectCopy", "Reject", "command_text",
           "opening", "read_json", "read_toml", "relative_reads", "table", "toml_text", "what"]


class CannotTell(Exception):
    """What a build produces cannot be told from the Dockerfile and the context; the message says why."""


class Reject(Exception):
    """An install reads more than its manifests (or cannot be read): it must not be hoisted."""

    def __init__(self, reason: str, show: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.show = show      # report it as a finding without a fix


@dataclass
class Install:
    """What an install reads and writes, as far as hoisting it above the source copy goes."""

    what: str                                   # `npm ci`
    manifests: list[tuple[str, str]]            # (context path, image path)
    outputs: list[str] = field(default_factory=list)    # image dirs the install writes into
    unsafe: list[str] = field(default_factory=list)
    dup: bool = False                           # the original stays after the source copy too
    inserts: list[tuple[int, str]] = field(default_factory=list)   # script offset, text
    added: bool = False                         # a download step the Dockerfile did not have


@dataclass(frozen=True)
class ProjectCopy:
    """A whole directory of the build context copied to one image directory (`COPY . /app`)."""

    src: str              # context-relative directory
    dest: str             # image directory (may be under the unknown base WORKDIR)
    files: ContextFiles

    def context_entry(self, image_path: str | None) -> str | None:
        """The context path the copy puts at `image_path` (None when the path is not under it)."""
        if image_path is None or not is_under(image_path, self.dest):
            return None
        rel = relative(image_path, self.dest)
        return clean(self.src + "/" + rel) if self.src != "." else clean(rel)

    def context_file(self, image_path: str | None) -> str | None:
        """The context file the copy puts at `image_path`, if it exists and is sent."""
        entry = self.context_entry(image_path)
        return entry if entry is not None and self.files.sent_file(entry) else None

    def sent_directory(self, image_dir: str) -> str | None:
        """The non-empty context directory the copy puts at `image_dir`."""
        entry = self.context_entry(image_dir)
        fs = self.files
        if entry is not None and fs.is_dir(entry) and fs.is_sent(entry):
            listed = fs.list_sent(entry, cap=1)
            if listed is None or listed:
                return entry
        return None


@dataclass(frozen=True)
class InstallSite:
    """Where an install runs: the project copy it reads from, its directory, and whether an earlier
    RUN of the stage (above the copy) runs a command the predicate accepts."""

    copy: ProjectCopy
    cwd: str | None
    earlier: Callable[[Callable[[ToolCommand], bool]], bool]
    env: Mapping[str, str | None] = field(default_factory=dict)   # the variables the install sees

    def earlier_run(self, manager: str, subcommands: set[str] | frozenset[str]) -> bool:
        return self.earlier(lambda t: t.manager == manager and (t.subcommand or "") in subcommands)


class Manifests:
    """Collects the manifests one install reads, as (context path, image path) pairs."""

    def __init__(self, site: InstallSite):
        self.copy = site.copy
        self.cwd = site.cwd
        self.found: list[tuple[str, str]] = []

    @property
    def files(self) -> ContextFiles:
        return self.copy.files

    def img(self, name: str) -> str | None:
        return join(self.cwd, name)

    def get(self, name: str, add: bool = True) -> str | None:
        """The context file at `name` (relative to the install's directory), recorded when `add`."""
        img = self.img(name)
        c = self.copy.context_file(img)
        if c is not None and img is not None and add and all(i != img for _, i in self.found):
            self.found.append((c, img))
        return c

    def exists_any(self, name: str) -> str | None:
        """Context path of `name` (file or directory) when the source copy sends it."""
        c = self.copy.context_entry(self.img(name))
        return c if c is not None and self.files.sent(c) else None

    def add_tree(self, name: str, cap: int = 50) -> None:
        c = self.exists_any(name)
        base = self.img(name)
        if c is None or base is None:
            return
        listed = self.files.list_sent(c, cap=cap) if self.files.is_dir(c) else [c]
        if listed is None:
            raise Reject(f"{name} holds too many files to copy one by one")
        for f in listed:
            rel = f[len(c) + 1:] if f != c else ""
            img = base + "/" + rel if rel else base
            if all(i != img for _, i in self.found):
                self.found.append((f, img))


@dataclass(frozen=True)
class Project:
    """The build context as one stage's commands see it."""

    files: ContextFiles
    context_path: Callable[[str], str | None]    # the context path a COPY put at an image path
    env: Mapping[str, str | None]                # the stage's variables at its end


def opening(tool: ToolCommand, site: InstallSite, subcommands: tuple[str, ...], dir_flags: tuple[str, ...],
            manifest: str) -> tuple[Manifests, str] | None:
    """What most install readers check first: the subcommand, no flag that points the tool at
    another directory, no earlier install by the same tool in the stage, and the manifest the
    install reads. (the manifest lookup, its path) or None."""
    if tool.subcommand not in subcommands or tool.has_flag(*dir_flags):
        return None
    if site.earlier_run(tool.manager, set(subcommands)):
        return None
    M = Manifests(site)
    path = M.get(manifest)
    return None if path is None else (M, path)


def command_text(command: SimpleCommand) -> str:
    """The command as written."""
    return " ".join(w.raw for w in command.argv)


def what(tool: ToolCommand) -> str:
    """The command as written, shortened for a message."""
    cmd = tool.command
    text = " ".join(w.raw for w in cmd.argv[cmd.name_index or 0:])
    return text if len(text) <= 50 else text[:47] + "..."


def read_json(fs: ContextFiles, c: str) -> dict[str, Any]:
    try:
        data = json.loads(fs.text(c) or "")
    except ValueError:
        raise Reject(f"{c} does not parse") from None
    if not isinstance(data, dict):
        raise Reject(f"{c} is not a JSON object")
    return data


def read_toml(fs: ContextFiles, c: str) -> dict[str, Any]:
    data = toml_text(fs.text(c) or "")
    if data is None:
        raise Reject(f"{c} does not parse")
    return data


def toml_text(text: str) -> dict[str, Any] | None:
    """The table a TOML text holds, None when it does not parse."""
    if sys.version_info >= (3, 11):  # imported here: only a project with a TOML manifest needs it
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return None
    return data


def table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a table (a JSON object), {} for anything else."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def relative_reads(files: ContextFiles, ctx_dir: str | None, suffixes: tuple[str, ...], reader: re.Pattern[str],
                   limit: int = 500) -> list[str]:
    """`file: path` for each file the sources under a context directory open at run time by a
    relative path (`reader`'s first group), which resolves against the directory the program runs in."""
    if ctx_dir is None or not files.available:
        return []
    found: list[str] = []
    sources = [rel for suffix in suffixes for rel in files.sent_files(ctx_dir, suffix)][:limit]
    for rel in sources:
        text = files.sent_text(rel) or ""
        found += [f"{rel}: {m.group(1)}" for m in reader.finditer(text)]
    return found

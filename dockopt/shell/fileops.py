"""Models of the file commands passes care about: ``rm``, ``chown``/``chgrp`` and ``chmod``."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import SimpleCommand, Word
from .options import Flag, OptionSpec, parse_arguments

__all__ = ["ChmodCommand", "ChownCommand", "RemoveCommand", "parse_chmod", "parse_chown", "parse_rm"]


@dataclass(frozen=True, slots=True)
class RemoveCommand:
    command: SimpleCommand
    flags: tuple[Flag, ...]
    recursive: bool
    force: bool
    paths: tuple[Word, ...]        # as written: `/var/lib/apt/lists/*` keeps its glob

    @property
    def path_texts(self) -> tuple[str | None, ...]:
        return tuple(w.text for w in self.paths)


@dataclass(frozen=True, slots=True)
class ChownCommand:
    """``chown [-R] owner[:group] paths`` (and ``chgrp group paths``, with owner None)."""

    command: SimpleCommand
    flags: tuple[Flag, ...]
    recursive: bool
    owner: str | None              # None: unchanged (``:group``, chgrp) or not static
    group: str | None              # None: unchanged; '' for ``user:`` (the user's login group)
    spec_word: Word | None         # the ``owner:group`` word; None with --reference
    reference: str | None          # --reference=FILE copies owner and group from FILE
    targets: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class ChmodCommand:
    command: SimpleCommand
    flags: tuple[Flag, ...]
    recursive: bool
    mode: str | None               # '755', 'u+x,g-w', '-x' ... None when not static
    mode_word: Word | None         # None with --reference
    reference: str | None
    targets: tuple[Word, ...]

    @property
    def is_numeric(self) -> bool:
        return self.mode is not None and self.mode.isdigit()


_RM = OptionSpec()
_CHOWN = OptionSpec(frozenset({"--from", "--reference"}))
_CHMOD = OptionSpec(frozenset({"--reference"}))
# a chmod symbolic mode can begin with '-' (chmod -x file): tell it from an option
_SYMBOLIC_MODE = re.compile(r"^[ugoa]*([-+=]([rwxXst]*|[ugo]))+(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*$")
_CHMOD_OPTION_LETTERS = frozenset("Rcfv")


def parse_rm(command: SimpleCommand) -> RemoveCommand | None:
    if command.program != "rm":
        return None
    parsed = parse_arguments(command.args, _RM)
    names = {f.name for f in parsed.flags}
    return RemoveCommand(
        command, parsed.flags,
        recursive=bool(names & {"-r", "-R", "--recursive"}),
        force=bool(names & {"-f", "--force"}),
        paths=parsed.operands)


def parse_chown(command: SimpleCommand) -> ChownCommand | None:
    program = command.program
    if program not in ("chown", "chgrp"):
        return None
    parsed = parse_arguments(command.args, _CHOWN)
    names = {f.name for f in parsed.flags}
    reference = next((f.value for f in parsed.flags if f.name == "--reference"), None)
    operands = parsed.operands
    owner = group = None
    spec_word = None
    if reference is None and operands:
        spec_word, operands = operands[0], operands[1:]
        spec = spec_word.text
        if spec is not None:
            if program == "chgrp":
                group = spec
            else:
                # GNU chown also accepts the old `user.group` form when there is no ':'
                separator = ":" if ":" in spec else ("." if "." in spec else None)
                if separator is None:
                    owner = spec
                else:
                    owner_text, _, group = spec.partition(separator)
                    owner = owner_text or None
    return ChownCommand(command, parsed.flags, bool(names & {"-R", "--recursive"}),
                        owner, group, spec_word, reference, operands)


def parse_chmod(command: SimpleCommand) -> ChmodCommand | None:
    if command.program != "chmod":
        return None
    # pull out symbolic modes that look like options (-x, -w,u+x) before reading options
    args = list(command.args)
    mode_word: Word | None = None
    for index, word in enumerate(args):
        text = word.text
        if text is None or text == "--":
            break
        if text.startswith("-") and not text.startswith("--") and (
                not set(text[1:]) <= _CHMOD_OPTION_LETTERS) and _SYMBOLIC_MODE.match(text):
            mode_word = word
            del args[index]
            break
        if not text.startswith("-"):
            break
    parsed = parse_arguments(args, _CHMOD)
    names = {f.name for f in parsed.flags}
    reference = next((f.value for f in parsed.flags if f.name == "--reference"), None)
    operands = parsed.operands
    if mode_word is None and reference is None and operands:
        mode_word, operands = operands[0], operands[1:]
    return ChmodCommand(command, parsed.flags, bool(names & {"-R", "--recursive"}),
                        mode_word.text if mode_word is not None else None, mode_word, reference,
                        operands)

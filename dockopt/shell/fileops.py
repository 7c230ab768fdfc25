"""Models of the commands whose files dockopt follows: ``rm``, ``chown``/``chgrp``, ``chmod``,
``cp``/``mv``/``install``/``ln``, and what downloads and unpacking (``curl``, ``wget``,
``git clone``, ``tar -x``, ``unzip``) and a C compiler (``cc -o``) write. Every reader takes its
options from one table, :data:`dockopt.shell.options.SPECS`."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from .model import SimpleCommand, Word
from .options import SPECS, Flag, ParsedArguments, parse_arguments

__all__ = ["ChmodCommand", "ChownCommand", "CopyCommand", "RemoveCommand", "Written", "compiler_output",
           "extracted_archive", "parse_chmod", "parse_chown", "parse_copy", "parse_rm", "url_name", "written_files"]


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


# a chmod symbolic mode can begin with '-' (chmod -x file): tell it from an option
_SYMBOLIC_MODE = re.compile(r"^[ugoa]*([-+=]([rwxXst]*|[ugo]))+(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*$")
_CHMOD_OPTION_LETTERS = frozenset("Rcfv")


def parse_rm(command: SimpleCommand) -> RemoveCommand | None:
    if command.program != "rm":
        return None
    parsed = parse_arguments(command.args, SPECS["rm"])
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
    parsed = parse_arguments(command.args, SPECS["chown"])
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
    parsed = parse_arguments(args, SPECS["chmod"])
    names = {f.name for f in parsed.flags}
    reference = next((f.value for f in parsed.flags if f.name == "--reference"), None)
    operands = parsed.operands
    if mode_word is None and reference is None and operands:
        mode_word, operands = operands[0], operands[1:]
    return ChmodCommand(command, parsed.flags, bool(names & {"-R", "--recursive"}),
                        mode_word.text if mode_word is not None else None, mode_word, reference,
                        operands)


# `install file <dir>`: destinations that are directories by convention
_INSTALL_DIRS = frozenset({"bin", "sbin", "lib", "lib64", "libexec"})


@dataclass(frozen=True, slots=True)
class CopyCommand:
    """``cp``/``mv``/``install``/``ln`` with static operands: what goes where, as written."""

    command: SimpleCommand
    flags: tuple[Flag, ...]
    pairs: tuple[tuple[str, str], ...]     # (source, destination file or directory entry)

    @property
    def program(self) -> str:
        return self.command.program or ""


def parse_copy(command: SimpleCommand) -> CopyCommand | None:
    """The (source, destination) pairs of a copy, move, install or link; None when an operand is
    only known at run time or the command copies nothing (`install -d`)."""
    program = command.program
    if program not in ("cp", "mv", "install", "ln"):
        return None
    parsed = parse_arguments(command.args, SPECS[program])
    if any(w.text is None for w in parsed.operands):
        return None
    names = {f.name for f in parsed.flags}
    if program == "install" and names & {"-d", "--directory"}:
        return None
    operands = [w.text or "" for w in parsed.operands]
    target = next((f.value for f in parsed.flags if f.name in ("-t", "--target-directory")), None)
    if target is not None:
        pairs = [(s, posixpath.join(target, posixpath.basename(s.rstrip("/")))) for s in operands]
        return CopyCommand(command, parsed.flags, tuple(pairs))
    if len(operands) < 2:
        return CopyCommand(command, parsed.flags, ())
    *sources, dest = operands
    into = dest.endswith("/") or len(sources) > 1 or (
        program == "install" and "-D" not in names and posixpath.basename(dest) != posixpath.basename(sources[0])
        and posixpath.basename(dest.rstrip("/")) in _INSTALL_DIRS)
    pairs = [(s, posixpath.join(dest, posixpath.basename(s.rstrip("/"))) if into else dest) for s in sources]
    return CopyCommand(command, parsed.flags, tuple(pairs))


@dataclass(frozen=True, slots=True)
class Written:
    """A file or directory a command brings into the image, as the command names it."""

    path: str          # relative to the command's directory unless absolute
    what: str          # how it got there, for messages: `curl -o x`
    tree: bool = False  # a directory tree (a clone, an extraction)


def url_name(url: str) -> str | None:
    """The file name a download of `url` gets by default."""
    name = posixpath.basename(url.split("?")[0].split("#")[0].rstrip("/"))
    return name or None


def written_files(command: SimpleCommand) -> tuple[Written, ...]:
    """What a download, a clone or an extraction writes (nothing when a word is only known at run
    time)."""
    program = command.program
    texts = [w.text for w in command.args]
    if program not in _WRITERS or any(t is None for t in texts):
        return ()
    return tuple(_WRITERS[program](command))


def _curl(command: SimpleCommand) -> list[Written]:
    parsed = parse_arguments(command.args, SPECS["curl"])
    outputs = [f.value or "" for f in parsed.flags if f.name in ("-o", "--output")]
    outdir = next((f.value for f in reversed(parsed.flags) if f.name == "--output-dir"), None)
    remote = any(f.name in ("-O", "--remote-name") for f in parsed.flags)
    urls = [f.value for f in parsed.flags if f.name == "--url" and f.value]
    urls += [w.text for w in parsed.operands if w.text and "://" in w.text]
    out = [Written(_under(outdir, o), f"`curl -o {o}`") for o in outputs if o and o != "-"]
    if remote:
        out += [Written(_under(outdir, name), f"`curl -O {u}`") for u in urls if (name := url_name(u))]
    return out


def _wget(command: SimpleCommand) -> list[Written]:
    parsed = parse_arguments(command.args, SPECS["wget"])
    output = next((f.value for f in reversed(parsed.flags) if f.name in ("-O", "--output-document")), None)
    prefix = next((f.value for f in reversed(parsed.flags) if f.name in ("-P", "--directory-prefix")), None)
    if output == "-":
        return []
    if output:
        return [Written(output, f"`wget -O {output}`")]
    urls = [w.text for w in parsed.operands if w.text and "://" in w.text]
    return [Written(_under(prefix, name), f"`wget {u}`") for u in urls if (name := url_name(u))]


def _git(command: SimpleCommand) -> list[Written]:
    args = command.args
    if not args or args[0].text != "clone":
        return []
    operands = [w.text or "" for w in parse_arguments(args[1:], SPECS["git clone"]).operands]
    if not operands:
        return []
    target = operands[1] if len(operands) > 1 else (url_name(operands[0]) or "").removesuffix(".git")
    return [Written(target, f"`git clone {operands[0]}`", tree=True)] if target else []


def _tar_arguments(command: SimpleCommand) -> ParsedArguments:
    words = list(command.args)
    if words and words[0].text and not words[0].text.startswith("-"):
        # tar's traditional form: `tar xzf archive` bundles the options in the first word
        first = words[0]
        words[0] = Word(first.raw, "-" + (first.text or ""), first.start, first.end)
    return parse_arguments(words, SPECS["tar"])


def _tar(command: SimpleCommand) -> list[Written]:
    parsed = _tar_arguments(command)
    names = {f.name for f in parsed.flags}
    if not names & {"-x", "--extract", "--get"}:
        return []
    target = next((f.value for f in reversed(parsed.flags) if f.name in ("-C", "--directory")), None)
    return [Written(target, f"`tar -x -C {target}`", tree=True)] if target else []


def _unzip(command: SimpleCommand) -> list[Written]:
    parsed = parse_arguments(command.args, SPECS["unzip"])
    target = next((f.value for f in reversed(parsed.flags) if f.name == "-d"), None)
    return [Written(target, "`unzip -d`", tree=True)] if target else []


def extracted_archive(command: SimpleCommand) -> str | None:
    """The archive file an extraction reads (`tar -xf x.tgz`, `unzip x.zip`); None when it reads
    none (a tar fed by a pipe) or the command extracts nothing."""
    program = command.program
    if program == "tar":
        parsed = _tar_arguments(command)
        archive = next((f.value for f in reversed(parsed.flags) if f.name in ("-f", "--file")), None)
        return archive if archive and archive != "-" else None
    if program == "unzip":
        operands = parse_arguments(command.args, SPECS["unzip"]).operands
        return operands[0].text if operands and operands[0].text else None
    return None


def _under(directory: str | None, name: str) -> str:
    return posixpath.join(directory, name) if directory else name


_WRITERS = {"curl": _curl, "wget": _wget, "git": _git, "tar": _tar, "unzip": _unzip}

_CC = frozenset({"gcc", "cc", "g++", "c++", "clang", "clang++", "tcc", "musl-gcc"})
_CC_NO_LINK = frozenset({"-c", "-S", "-E", "-M", "-MM", "--version", "-v", "-dumpversion"})
_C_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".o")


def compiler_output(command: SimpleCommand) -> str | None:
    """The program a C/C++ compiler links (`-o`, else `a.out` when it compiles sources); None when
    it links nothing (`-c`, `-E`, `--version`) or is no compiler. `$` when only known at run time."""
    if command.program not in _CC:
        return None
    parsed = parse_arguments(command.args, SPECS["cc"])
    if any(f.name in _CC_NO_LINK for f in parsed.flags):
        return None
    output = next((f for f in reversed(parsed.flags) if f.name == "-o"), None)
    if output is not None:
        return output.value if output.value is not None else "$"
    if any((w.text or "").endswith(_C_SOURCES) for w in parsed.operands):
        return "a.out"
    return None

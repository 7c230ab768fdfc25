"""Set the owner (or mode) in the COPY instead of a RUN chown (chmod) after it.

## What it does
Finds a `RUN chown -R user:group <path>` (and nothing else in that RUN) whose path was just
created by the `COPY`/`ADD` instructions before it, and moves the ownership into them:
`COPY --chown=user:group ...`, removing the RUN. Likewise `RUN chmod [-R] <octal> <path>`
becomes `COPY --chmod=<octal>` when the file opts into BuildKit's Dockerfile syntax with a
`# syntax=` directive. Only `ENV`, `ARG`, `LABEL`, `USER`, `EXPOSE` and similar instructions,
or copies to other paths, may sit between the copies and the RUN.

## Why is this bad?
`chown`/`chmod` in a later layer rewrites every file it touches: the image then holds each
copied file twice (once as copied, once with the new owner or mode), doubling the size of what
was copied, and the extra layer costs build time.

## Example
```dockerfile
COPY app.jar /opt/app/app.jar
RUN chown -R app:app /opt/app/app.jar
```
Use instead:
```dockerfile
COPY --chown=app:app app.jar /opt/app/app.jar
```

## Fix safety
Safe only when the chown covers exactly what the COPY created: one COPY of one regular file
(checked in the build context) and the RUN names that file. Unsafe (the reason is in the
message) when the path is a directory or holds several copies: `chown -R` also changed the
directory itself and whatever the base image or earlier layers had put there, which
`COPY --chown` leaves alone; and when the source cannot be checked (no build context, a
`COPY --from` another stage). `user` alone (no group) is not rewritten: `chown user` keeps the
group while `--chown=user` sets the group to the user's id. Symbolic modes (`chmod +x`), a RUN
that does more than the one chown/chmod, wrappers (`sudo`) and RUN flags are left alone.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from ..facts.files import ContextFiles
from ..facts.paths import clean, is_remote, is_under, join, overlaps
from ..findings import Edit, Finding, Fix, Safety
from ..shell import ChownCommand, Script, SimpleCommand, Word, parse_chmod, parse_chown
from ..syntax import Instruction
from .base import Context, Pass
from .copies import CopyOp, archive_name, copy_op, dest_is_dir
from .edits import flag_span, keyword_span

_QUIET = frozenset({"ENV", "ARG", "LABEL", "USER", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK",
                    "STOPSIGNAL", "SHELL", "MAINTAINER"})
_CHOWN_FLAGS = frozenset({"-R", "--recursive", "-v", "--verbose", "-c", "--changes", "-f", "--silent",
                          "--quiet"})
_CHMOD_FLAGS = _CHOWN_FLAGS
_OCTAL = re.compile(r"^[0-7]{3,4}$")
_CHANGES_OWNER = re.compile(r"\bch(own|mod)\b")
_OWNER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$")

_Copy = tuple[Instruction, CopyOp, str]                   # a copy, what it copies, its absolute destination
_Change = tuple[str, str, bool, tuple[Word, ...]]         # flag, value, recursive, targets


class CopyChown(Pass):
    code = "DO202"
    name = "copy-chown"
    summary = "RUN chown/chmod after COPY duplicates the files: use COPY --chown/--chmod"

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not any(i.keyword in ("COPY", "ADD") for i in ctx.tree.instructions):
            return
        for stage in ctx.tree.stages:
            instrs = stage.instructions
            for idx, run in enumerate(instrs):
                if run.keyword != "RUN" or run.flags or not _CHANGES_OWNER.search(run.args):
                    continue
                finding = self._one(ctx, instrs, idx, run)
                if finding is not None:
                    yield finding

    def _one(self, ctx: Context, instrs: tuple[Instruction, ...], idx: int, run: Instruction) -> Finding | None:
        script = ctx.script(run)
        cmd = _sole_command(script)
        change = _change(cmd, bool(ctx.tree.syntax)) if cmd is not None else None
        if script is None or change is None:
            return None
        flag, value, recursive, targets = change
        if len(targets) != 1 or targets[0].text is None or any(ch in targets[0].text for ch in "*?["):
            return None
        path = join(ctx.state(run).cwd, targets[0].text)
        if path is None:
            return None
        copies = self._feeding_copies(ctx, instrs[:idx], path)
        if not copies or not all(_movable(x, op) for x, op, _dest in copies):
            return None
        safety, reason = self._safety(ctx.files, copies, path, recursive)
        if safety is None:
            return None
        edits = [self._flag_edit(x, flag, value) for x, _op, _d in copies]
        edits.append(self._remove(run))
        n = len(copies)
        where = ", ".join(str(x.start_line) for x, _o, _d in copies)
        message = (f"`{cmd_text(script)}` rewrites {'the files' if n > 1 else 'what'} the "
                   f"{'copies' if n > 1 else 'COPY'} at line{'s' if n > 1 else ''} {where} "
                   f"created, storing them twice: use --{flag}={value} on the "
                   f"{'copies' if n > 1 else 'COPY'}")
        if reason:
            message += f" (unsafe: {reason})"
        return Finding(self.code, message, run.start_line, run.column, run.end_line,
                       Fix(f"Use COPY --{flag}={value} and drop the RUN", safety, tuple(edits)))

    def _feeding_copies(self, ctx: Context, before: tuple[Instruction, ...], path: str) -> list[_Copy]:
        """The copies that created what the RUN changes, walking back over quiet instructions."""
        copies: list[_Copy] = []
        for x in reversed(before):
            if x.keyword in _QUIET:
                continue
            if x.keyword not in ("COPY", "ADD"):
                break
            op = copy_op(x)
            dest = join(ctx.state(x).cwd, op.dest) if op else None
            if op is None or dest is None:
                break
            if is_under(dest, path) or (dest_is_dir(op) and self._lands_at(ctx.files, op, dest) == path):
                copies.append((x, op, dest))
                continue
            if overlaps(dest, path):
                break
        copies.reverse()
        return copies

    @staticmethod
    def _lands_at(fs: ContextFiles, op: CopyOp, dest: str) -> str | None:
        """For one file source copied into a directory: the image path of the file."""
        if len(op.sources) != 1:
            return None
        src = op.sources[0]
        if not op.from_stage and fs.is_file(src):
            return clean(dest + "/" + posixpath.basename(src.rstrip("/")))
        return None

    @staticmethod
    def _safety(fs: ContextFiles, copies: list[_Copy], path: str, recursive: bool) -> tuple[Safety | None, str]:
        if len(copies) > 1:
            return (Safety.UNSAFE if recursive else None,
                    f"chown -R also changed {path} itself and anything earlier layers put there")
        _x, op, dest = copies[0]
        if len(op.sources) != 1:
            return (Safety.UNSAFE if recursive else None,
                    f"{path} holds several copied sources and may hold files of earlier layers")
        src = op.sources[0]
        file_dest = clean(dest + "/" + posixpath.basename(src.rstrip("/"))) if dest_is_dir(op) else dest
        if op.from_stage:
            if not op.dest.endswith("/") and file_dest == path and not any(ch in src for ch in "*?["):
                return Safety.UNSAFE, f"could not check that {src} of stage {op.from_stage} is a file"
            return (Safety.UNSAFE if recursive else None,
                    f"{path} may be a directory that also holds files of earlier layers")
        if not fs.available:
            return (Safety.UNSAFE if (recursive or file_dest == path) else None,
                    f"no build context to check that {src} is a single file")
        if fs.is_file(src) and not fs.is_symlink(src) and file_dest == path:
            return Safety.SAFE, ""
        if not recursive:
            return None, ""
        return Safety.UNSAFE, (f"{path} is a directory: chown -R also changed it and anything earlier "
                               "layers put there, which COPY --chown leaves as it was")

    @staticmethod
    def _flag_edit(ins: Instruction, flag: str, value: str) -> Edit:
        span = flag_span(ins, flag)
        if span is not None:
            return Edit(span[0], span[1], f"--{flag}={value}")
        _start, end = keyword_span(ins)
        return Edit(end, end, f" --{flag}={value}")

    @staticmethod
    def _remove(run: Instruction) -> Edit:
        leading = list(run.leading)
        start = run.start
        while leading and leading[-1].kind == "COMMENT":
            start = leading.pop().start
        return Edit(start, run.end, "")


def _sole_command(script: Script | None) -> SimpleCommand | None:
    """The one plain command of a RUN that runs nothing else, None for any other RUN."""
    if script is None or script.has_error or len(script.commands) != 1 or len(script.chain) != 1:
        return None
    cmd = script.commands[0]
    if cmd.assignments or cmd.redirects or cmd.wrappers or not cmd.at_top_level:
        return None
    if script.chain[0].operator not in (None, ";"):
        return None
    return cmd


def _change(cmd: SimpleCommand, has_syntax: bool) -> _Change | None:
    """(flag, value, recursive, targets) of a chown or chmod that COPY's flags can say."""
    chown = parse_chown(cmd)
    if chown is not None:
        return _chown_change(cmd, chown)
    chmod = parse_chmod(cmd)
    if chmod is None or chmod.reference or not chmod.mode or not _OCTAL.match(chmod.mode):
        return None
    if not {f.name for f in chmod.flags} <= _CHMOD_FLAGS or not has_syntax:
        return None
    return "chmod", chmod.mode, chmod.recursive, chmod.targets


def _chown_change(cmd: SimpleCommand, chown: ChownCommand) -> _Change | None:
    if cmd.program != "chown" or chown.reference or not chown.owner or not chown.group:
        return None
    if chown.spec_word is None or ":" not in (chown.spec_word.text or ""):
        return None
    if not (_OWNER.match(chown.owner) and _OWNER.match(chown.group)):
        return None
    if not {f.name for f in chown.flags} <= _CHOWN_FLAGS:
        return None
    return "chown", f"{chown.owner}:{chown.group}", chown.recursive, chown.targets


def _movable(x: Instruction, op: CopyOp) -> bool:
    """Whether the flag can go on this copy: no heredoc, no remote or archive ADD source."""
    if x.keyword == "ADD" and any(is_remote(s) or archive_name(s) for s in op.sources):
        return False
    return not x.heredocs


def cmd_text(script: Script) -> str:
    text = script.text.strip()
    return text if len(text) <= 50 else text[:47] + "..."

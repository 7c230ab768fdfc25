"""Set the owner (or mode) in the COPY instead of a RUN chown (chmod) after it.

## What it does
Finds a `RUN chown -R user:group <path>` whose path was just created by the `COPY`/`ADD`
instructions before it, and moves the ownership into them: `COPY --chown=user:group ...`,
removing the RUN. Likewise `RUN chmod [-R] <mode> <path>` becomes `COPY --chmod=<mode>` when the
file builds with BuildKit (the `target` setting, `"buildkit"` by default, or BuildKit-only
syntax) and its frontend reads the mode: an octal mode (`755`) with any BuildKit frontend
(dockerfile 1.2+), a symbolic one (`+x`, `u+x,go-w`) only with a `# syntax=` directive naming
dockerfile 1.14 or newer (`docker/dockerfile:1`; 1.10 as `-labs`). The chown/chmod may be the
whole RUN or the first command of a `&&` / `;` list, which then loses it and keeps the rest.
Only `ENV`, `ARG`, `LABEL`, `USER`, `EXPOSE` and similar instructions, or copies to other
paths, may sit between the copies and the RUN.

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
Safe only when the chown/chmod covers exactly what the COPY created: one COPY of one regular
file (checked in the build context) and the RUN names that file. Unsafe (the reason is in the
message) when the path is a directory or holds several copies: `chown -R` / `chmod -R` also
changed the directory itself and whatever the base image or earlier layers had put there, which
`COPY --chown` leaves alone; and when the source cannot be checked (no build context, a
`COPY --from` another stage). `user` alone (no group) is not rewritten: `chown user` keeps the
group while `--chown=user` sets the group to the user's id. A symbolic mode without a who
(`chmod +x`) leaves the umask's bits alone; a RUN's umask is 022, so the flag spells it out
(`--chmod=a+x`, `+w` as `u+w`); `=` without a who, and `s`/`t` bits, are left alone. A chown
or chmod after another command of the RUN is left alone (that command saw the old owner or
mode), as are wrappers (`sudo`), redirections and RUN flags. With `target = "classic"` and no
BuildKit syntax in the file, chmod is left alone: the classic builder has no `COPY --chmod`.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from ..facts.files import ContextFiles
from ..facts.frontend import frontend_supports
from ..facts.paths import clean, is_remote, is_under, join, overlaps
from ..findings import Edit, Finding, Fix, Safety
from ..shell import AND, ChownCommand, Script, SimpleCommand, Word, parse_chmod, parse_chown
from ..syntax import Instruction
from .base import Context, Pass
from .cache_mounts import targets_buildkit
from .copies import CopyOp, archive_name, copy_op, dest_is_dir
from .edits import flag_span, keyword_span

_QUIET = frozenset({"ENV", "ARG", "LABEL", "USER", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK",
                    "STOPSIGNAL", "SHELL", "MAINTAINER"})
_CHOWN_FLAGS = frozenset({"-R", "--recursive", "-v", "--verbose", "-c", "--changes", "-f", "--silent",
                          "--quiet"})
_CHMOD_FLAGS = _CHOWN_FLAGS
_OCTAL = re.compile(r"^[0-7]{3,4}$")
# one clause of a symbolic mode: who, operator, permissions (`u+x`, `go-w`, `a=rX`, `+x`)
_SYMBOLIC_CLAUSE = re.compile(r"^([ugoa]*)([-+=])([rwxX]*)$")
# dockerfile releases with COPY --chmod: octal modes since 1.2 (in the built-in frontend of
# every BuildKit engine), symbolic ones since 1.14 (1.10 as a labs feature)
_CHMOD_OCTAL = (1, 2)
_CHMOD_SYMBOLIC = (1, 14)
_CHMOD_SYMBOLIC_LABS = (1, 10)
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
        cmd, rest = leading_command(script)
        change = _change(ctx, cmd) if cmd is not None else None
        if script is None or cmd is None or change is None:
            return None
        removal = self._remove(run) if rest is None else self._drop_first(ctx, run, rest)
        if removal is None:
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
        edits.append(removal)
        n = len(copies)
        where = ", ".join(str(x.start_line) for x, _o, _d in copies)
        shown = cmd_text(script) if rest is None else _short(script.text[cmd.start:cmd.end])
        message = (f"`{shown}` rewrites {'the files' if n > 1 else 'what'} the "
                   f"{'copies' if n > 1 else 'COPY'} at line{'s' if n > 1 else ''} {where} "
                   f"created, storing them twice: use --{flag}={value} on the "
                   f"{'copies' if n > 1 else 'COPY'}")
        if reason:
            message += f" (unsafe: {reason})"
        title = (f"Use COPY --{flag}={value} and drop the RUN" if rest is None else
                 f"Use COPY --{flag}={value} and drop the {cmd.program} from the RUN")
        return Finding(self.code, message, run.start_line, run.column, run.end_line,
                       Fix(title, safety, tuple(edits)))

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
    def _drop_first(ctx: Context, run: Instruction, rest: int) -> Edit | None:
        """Delete the script's first command and the operator after it: the rest of the RUN stays."""
        rs, _reason = ctx.run_script(run)
        if rs is None or (rs.kind == "heredoc" and run.heredocs and run.heredocs[0].chomp):
            return None
        start, end = rs.span(0, rest)
        return Edit(start, end, "")

    @staticmethod
    def _remove(run: Instruction) -> Edit:
        leading = list(run.leading)
        start = run.start
        while leading and leading[-1].kind == "COMMENT":
            start = leading.pop().start
        return Edit(start, run.end, "")


def leading_command(script: Script | None) -> tuple[SimpleCommand | None, int | None]:
    """The plain command a RUN starts with, when it is the whole RUN (rest None) or the first
    link of a `&&` / `;` list (rest: where the next link starts). Nothing in the RUN runs before
    it, so moving it into the COPY changes nothing the other commands see."""
    if script is None or script.has_error or not script.chain:
        return None, None
    first = script.chain[0]
    if len(first.commands) != 1:
        return None, None
    cmd = first.commands[0]
    if cmd.assignments or cmd.redirects or cmd.wrappers or not cmd.at_top_level:
        return None, None
    if len(script.chain) == 1:
        if len(script.commands) != 1 or first.operator not in (None, ";"):
            return None, None
        return cmd, None
    if first.operator not in (AND, ";") or script.text[:first.start].strip():
        return None, None
    return cmd, script.chain[1].start


def _change(ctx: Context, cmd: SimpleCommand) -> _Change | None:
    """(flag, value, recursive, targets) of a chown or chmod that COPY's flags can say: a chmod
    only when the file builds with BuildKit and its frontend reads the mode."""
    chown = parse_chown(cmd)
    if chown is not None:
        return _chown_change(cmd, chown)
    chmod = parse_chmod(cmd)
    if chmod is None or chmod.reference or not chmod.mode or cmd.program != "chmod":
        return None
    if not {f.name for f in chmod.flags} <= _CHMOD_FLAGS or not targets_buildkit(ctx):
        return None
    syntax = ctx.tree.syntax
    if _OCTAL.match(chmod.mode):
        if not frontend_supports(syntax, _CHMOD_OCTAL):
            return None
        return "chmod", chmod.mode, chmod.recursive, chmod.targets
    mode = symbolic_mode(chmod.mode)
    if mode is None or not frontend_supports(syntax, _CHMOD_SYMBOLIC, _CHMOD_SYMBOLIC_LABS, builtin=False):
        return None
    return "chmod", mode, chmod.recursive, chmod.targets


def symbolic_mode(mode: str) -> str | None:
    """A symbolic chmod mode as `COPY --chmod` reads it the same way, None when it cannot.

    `chmod` without a who (`+x`) leaves the bits of the umask alone; a RUN's umask is 022, so
    `+x` is `a+x` and `+w` is `u+w`. Every clause gets its who spelled out, so that the
    result never depends on how the frontend treats a missing one; `=` without a who is left
    alone (it would clear bits the umask guards)."""
    out: list[str] = []
    for clause in mode.split(","):
        m = _SYMBOLIC_CLAUSE.match(clause)
        if m is None:
            return None
        who, op, perms = m.groups()
        if who:
            out.append(clause)
            continue
        if op == "=" or not perms:
            return None
        rest = "".join(p for p in perms if p != "w")
        if rest:
            out.append(f"a{op}{rest}")
        if "w" in perms:
            out.append(f"u{op}w")
    return ",".join(out)


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
    return _short(script.text)


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 50 else text[:47] + "..."

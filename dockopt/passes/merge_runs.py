r"""Merge consecutive RUN instructions of a stage into one.

## What it does
Finds runs of consecutive `RUN` instructions in one stage (only comments and blank lines between
them) and joins them into a single `RUN`, each command on its own line in
the file's continuation style (`&& \` at the end of a line, or `&&` leading the next one), each
comment kept above its command inside the merged `RUN`.

The merge is the default (safe) fix when it saves something: a later `RUN` deletes or rewrites
(`chmod`, `chown`, `sed -i`) what an earlier one wrote, an `apt-get update` or `apk update` sits
apart from the install that reads it, a later `clean` or `purge` undoes what an earlier install
left, or every `RUN` only does small bookkeeping (`mkdir`, `ln`, `echo > file`, `useradd`, ...),
cheap to re-run, so a layer of its own costs more than it saves (unless a blank line keeps them
apart: the author grouped them, and the merge would drop the line). Otherwise each `RUN` already
leaves only what it means to, and merging saves no bytes while an edit to one step would re-run
them all: the finding offers the merge only with `--unsafe-fixes`.

## Why is this bad?
Every `RUN` is a layer. Files one layer writes stay in the image even when a later layer deletes
them (package lists, caches, build trees), and every layer costs a little in pull time and
metadata. One `RUN` per logical step keeps the image small and its history readable.

Cache trade-off: merging means the steps are cached, and re-run, together. Consecutive `RUN`s
have no `COPY`/`ADD` between them, so no step depends on a build-context file that the others
do not; a slow, stable step is never glued onto a volatile one by this rule.

## Example
```dockerfile
RUN apt-get update
RUN apt-get install -y curl
```
Use instead:
```dockerfile
RUN apt-get update && \
    apt-get install -y curl
```

## Fix safety
Safe when it saves bytes or layers (see above), else offered with `--unsafe-fixes` only: the
merged command does exactly what the separate ones did, but they are cached, and re-run, together.
Each `RUN` runs in a fresh shell, so a command whose effect would leak into the next one when they share a shell (`cd`,
`export`, `set`, `umask`, `source`, `exec`, `exit`, `trap`, `alias`, variable assignments,
function definitions) is isolated in a subshell `( ... )`; a command list that is not a plain
`&&` chain is grouped `{ ...; }` so that a failure still stops the build. RUNs are left apart
when their flags differ (`--mount`, `--network`, `--security`), when either is in exec form or
uses a heredoc, when the `SHELL` is not a POSIX shell, or when a script does not parse.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..ecosystems.system import INSTALLING, REMOVING
from ..facts.paths import is_under, overlaps
from ..findings import Edit, Finding
from ..shell import Script, leaks_state, parse_tool
from ..suppress import suppressed_codes
from ..syntax import Instruction
from .base import Context, Pass, safe_fix, unsafe_fix
from .edits import continuation_indent, leading_and
from .list_readers import APK, APT

_GROUPABLE_OPERATORS_FIRST = {"&&", "||"}
# programs that rewrite a file an earlier layer wrote (the layer then holds a second copy)
_REWRITERS = frozenset({"chmod", "chown", "chgrp", "sed", "perl", "setfacl", "strip", "truncate", "patch"})
# small bookkeeping: a layer of its own costs more than re-running it
_BOOKKEEPING = frozenset({
    "mkdir", "ln", "chmod", "chown", "chgrp", "touch", "echo", "printf", "rm", "rmdir", "unlink", "cp", "mv",
    "useradd", "groupadd", "adduser", "addgroup", "usermod", "groupmod", "sed", "tee", "true", "test", "[",
    "ldconfig", "update-alternatives", "install", "mkfifo", "cd", "export", "set", "id", "ls", "cat"})
# package-manager subcommands that remove what an earlier install left
_CLEANING = REMOVING | {"clean", "cache", "cache clean", "cache purge", "cache remove", "autoclean"}


class MergeRuns(Pass):
    code = "DO101"
    name = "merge-runs"
    summary = "Consecutive RUN instructions can be merged into one layer"
    severity = "info"

    def check(self, ctx: Context) -> Iterable[Finding]:
        for group in self._groups(ctx):
            yield self._finding(ctx, group)

    # -- which RUNs go together --------------------------------------------------------------
    def _groups(self, ctx: Context) -> Iterator[list[Instruction]]:
        for stage in ctx.tree.stages:
            group: list[Instruction] = []
            for ins in stage.instructions:
                if self._mergeable(ctx, ins) and (not group or self._joinable(group[-1], ins)):
                    group.append(ins)
                    continue
                if len(group) > 1:
                    yield group
                group = [ins] if self._mergeable(ctx, ins) else []
            if len(group) > 1:
                yield group

    def _mergeable(self, ctx: Context, ins: Instruction) -> bool:
        if ins.keyword != "RUN" or ins.is_json or ins.heredocs or not ins.args.strip():
            return False
        if self.code in suppressed_codes(ins):
            return False
        if ins.lines[-1].kind not in ("INSTR", "CONT_LAST"):
            return False  # continued into the end of the file
        script = ctx.script(ins)
        # a shell comment would swallow whatever is joined after it
        return script is not None and not script.has_error and not _has_comment(script)

    @staticmethod
    def _joinable(prev: Instruction, ins: Instruction) -> bool:
        return sorted(prev.parsed.flags) == sorted(ins.parsed.flags)

    # -- the merged instruction --------------------------------------------------------------
    def _finding(self, ctx: Context, group: list[Instruction]) -> Finding:
        text = ctx.text
        first = group[0]
        indent = continuation_indent(ctx.tree)
        nl = "\r\n" if first.lines[0].text.endswith("\r\n") else "\n"
        head_end = first.logical_to_offset(first.args_offset)
        merged = text[first.start:head_end]
        leading = leading_and(ctx.tree)
        for i, ins in enumerate(group):
            script = ctx.script(ins)
            assert script is not None          # _mergeable read it
            body = _without_terminator(text[ins.logical_to_offset(ins.args_offset):_content_end(ins)])
            is_last = i == len(group) - 1
            if not is_last and _leaks(script):
                body = f"( {body} )"
            elif not _plain_chain(script, first=(i == 0), last=is_last):
                body = f"{{ {body}; }}"
            if i == 0:
                merged += body
                continue
            # each comment stays above its command, inside the merged RUN
            comments = "".join(indent + ln.text.strip() + nl for ln in ins.leading if ln.kind == "COMMENT")
            if leading:
                merged += f" {first.escape}{nl}{comments}{indent}&& {body}"
            else:
                merged += f" && {first.escape}{nl}{comments}{indent}{body}"
        last = group[-1]
        edit = Edit(first.start, last.end, merged + last.lines[-1].newline)
        lines = ", ".join(str(i.start_line) for i in group)
        message = f"{len(group)} consecutive RUN instructions (lines {lines}) can be one layer"
        title = f"Merge {len(group)} RUN instructions"
        saving = _saving(ctx, group)
        if saving:
            fix = safe_fix(title, edit)
            message += f" ({saving})"
        else:
            fix = unsafe_fix(title, edit)
            message += (": merging saves nothing (no step removes or rewrites what another wrote) and an "
                        "edit to one would re-run them all")
        return Finding(self.code, message, first.start_line, first.column, last.end_line, fix)


def _blank_before(ins: Instruction) -> bool:
    """A blank line sits between `ins` and the instruction before it: the author kept them apart
    (a merge saves nothing but a layer, and would drop the line: not the default fix)."""
    return any(ln.kind == "BLANK" for ln in ins.leading)


def _saving(ctx: Context, group: list[Instruction]) -> str:
    """What merging the group saves, for the message ("" when nothing)."""
    for j, later in enumerate(group):
        effects = ctx.effects(later)
        rewrites = [a for a in effects.writes if a.via in _REWRITERS] + list(effects.deletes)
        for earlier in group[:j]:
            before = ctx.effects(earlier)      # a program dockopt does not model may have written it
            for a in rewrites:
                hits = [w for w in before.writes if overlaps(a.path, w.path)]
                if before.modelled and not hits:
                    continue
                verb = "deletes" if a in effects.deletes else "rewrites"
                # a write of the path, of something in it or of a directory that holds it (apk's
                # /var/cache/apk); a top-level tree (a package's files go anywhere in /usr, /root,
                # ...) or a program dockopt does not model only may have written it
                wrote = "wrote" if any(is_under(w.path, a.path) or w.path.count("/") >= 2 for w in hits) \
                    else "may have written"
                return f"line {later.start_line} {verb} {a.path}, which line {earlier.start_line} {wrote}"
    update = _index_split(ctx, group) or _cleaned_later(ctx, group)
    if update:
        return update
    if all(_bookkeeping(ctx, ins) for ins in group) and not any(_blank_before(ins) for ins in group[1:]):
        return f"{len(group)} layers of small bookkeeping"
    return ""


def _index_split(ctx: Context, group: list[Instruction]) -> str:
    """An update of a package index in one RUN, read by an install in a later one."""
    for index in (APT, APK):
        fetched = None
        for ins in group:
            tools = [t for c in ctx.steps(ins) if (t := parse_tool(c.command)) is not None]
            if fetched is not None and any(index.reads(t) for t in tools):
                return f"the install on line {ins.start_line} reads {index.name} line {fetched.start_line} fetched"
            if any(index.fetches(t) for t in tools):
                fetched = ins
    return ""


def _cleaned_later(ctx: Context, group: list[Instruction]) -> str:
    """A package manager's clean or removal in a later RUN of what an earlier one installed with it
    (`yum clean all`, `apt-get purge`, `npm cache clean`)."""
    used: dict[str, Instruction] = {}
    for ins in group:
        for t in (t for c in ctx.steps(ins) if (t := parse_tool(c.command)) is not None):
            earlier = used.get(t.manager)
            if earlier is not None and earlier is not ins and t.subcommand in _CLEANING:
                return (f"line {ins.start_line} runs `{t.manager} {t.subcommand}` on what line "
                        f"{earlier.start_line} installed")
            if t.subcommand in INSTALLING or t.subcommand == "install":
                used.setdefault(t.manager, ins)
    return ""


def _bookkeeping(ctx: Context, ins: Instruction) -> bool:
    effects = ctx.effects(ins)
    steps = ctx.steps(ins)
    return effects.modelled and not effects.packages and bool(steps) and all(
        s.command.program in _BOOKKEEPING for s in steps)


def _without_terminator(body: str) -> str:
    """A script's trailing `;` ends its last command and nothing more; joined after `&&` or
    inside `{ ...; }` it would be a syntax error. (`find ... \\;` keeps its escaped `;`.)"""
    body = body.rstrip(" \t")
    while body.endswith(";") and not body.endswith("\\;"):
        body = body[:-1].rstrip(" \t")
    return body


def _content_end(ins: Instruction) -> int:
    last = ins.lines[-1]
    return last.start + len(last.content)


def _leaks(script: Script) -> bool:
    return bool(leaks_state(script))


def _has_comment(script: Script) -> bool:
    return bool(script.comments)


def _plain_chain(script: Script, first: bool, last: bool) -> bool:
    """Whether the script can sit in an `a && b` chain without braces.

    `&&` and `||` bind alike and from the left, so the first script may hold `||`; a later one
    may not (`A && b || c` would run c when A fails) and none may hold `;`, `&` or newlines."""
    ops = [link.operator for link in script.chain[:-1]]
    allowed = _GROUPABLE_OPERATORS_FIRST if first else {"&&"}
    return all(op in allowed for op in ops)

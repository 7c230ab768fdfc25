r"""Merge consecutive RUN instructions of a stage into one.

## What it does
Finds runs of consecutive `RUN` instructions in one stage (only comments and blank lines between
them) and joins them into a single `RUN`, each command on its own line after `&& \`.

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
Safe: the merged command does exactly what the separate ones did. Each `RUN` runs in a fresh
shell, so a command whose effect would leak into the next one when they share a shell (`cd`,
`export`, `set`, `umask`, `source`, `exec`, `exit`, `trap`, `alias`, variable assignments,
function definitions) is isolated in a subshell `( ... )`; a command list that is not a plain
`&&` chain is grouped `{ ...; }` so that a failure still stops the build. RUNs are left apart
when their flags differ (`--mount`, `--network`, `--security`), when either is in exec form or
uses a heredoc, when the `SHELL` is not a POSIX shell, or when a script does not parse.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..findings import Edit, Finding
from ..shell import Script, leaks_state
from ..suppress import suppressed_codes
from ..syntax import Instruction
from .base import Context, Pass, safe_fix
from .edits import continuation_indent

_GROUPABLE_OPERATORS_FIRST = {"&&", "||"}


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
        parts: list[str] = []
        moved_comments: list[str] = []
        for i, ins in enumerate(group):
            script = ctx.script(ins)
            assert script is not None          # _mergeable read it
            body = _without_terminator(text[ins.logical_to_offset(ins.args_offset):_content_end(ins)])
            is_last = i == len(group) - 1
            if not is_last and _leaks(script):
                body = f"( {body} )"
            elif not _plain_chain(script, first=(i == 0), last=is_last):
                body = f"{{ {body}; }}"
            parts.append(body)
            if i:
                moved_comments += [ln.text for ln in ins.leading if ln.kind == "COMMENT"]
        merged = text[first.start:head_end] + (f" && {first.escape}" + nl + indent).join(parts)
        last = group[-1]
        replacement = merged + last.lines[-1].newline
        # comments that sat between the RUNs move above the merged RUN
        comments = "".join(c if c.endswith("\n") else c + nl for c in moved_comments)
        edit = Edit(first.start, last.end, comments + replacement)
        lines = ", ".join(str(i.start_line) for i in group)
        return Finding(
            self.code, f"{len(group)} consecutive RUN instructions (lines {lines}) can be one layer",
            first.start_line, first.column, last.end_line,
            safe_fix(f"Merge {len(group)} RUN instructions", edit),
        )


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

"""Use COPY, not ADD, for local files that are not archives.

## What it does
Finds `ADD` instructions whose sources are all local files or directories of the build context
that ADD would copy as they are, and rewrites the keyword to `COPY`. Remote sources (URLs, git
repositories), archives (by name: `.tar`, `.tar.gz`, `.tgz`, `.gz`, `.bz2`, `.xz`, `.zst`...,
and by content when the build context is at hand: a tar header or a gzip/bzip2/xz/zstd
signature), sources with variables, heredocs and the flags only ADD has (`--checksum`,
`--keep-git-dir`, `--unpack`) keep `ADD`. A `.zip` (or `.jar`, `.whl`) is not unpacked by ADD,
so it is fine to COPY. An instruction the build would reject is left alone: several sources
with a destination that does not end in `/`, or a flag written without its value
(`--chmod 644`).

A destination relative to a working directory nobody set (no `WORKDIR` in the stage or the
stages it is built from) is made absolute when the path is certain: a stage built from
`scratch` works in `/`, so `ADD . .` becomes `COPY . /`. Built from another image, the base
sets the directory, so the finding comes without a fix: set a `WORKDIR` or write the
destination out, then use COPY. Several sources into `.` become `./` (the same directory).

## Why is this bad?
ADD does more than copy: it fetches URLs and unpacks local archives. When neither happens,
`COPY` says what the instruction does and cannot start unpacking a file that later turns into
an archive. Docker's best practices recommend COPY for local files.

## Example
```dockerfile
ADD greet.sh /opt/app/greet.sh
```
Use instead:
```dockerfile
COPY greet.sh /opt/app/greet.sh
```

## Fix safety
Safe when every source is a directory, or a file that is no archive: checked in the build
context, or, without one, when its name ends in an extension that is no archive (`.sh`, `.py`,
`.json`, `.conf`, `.zip`, ...). ADD recognises archives by their content, not their name, so a
file the context does not show with an unknown extension (or none) is an unsafe fix. For a
directory source both copy the tree as it is (ADD never unpacks archives inside a directory).
A destination made absolute (`.` as `/` under `scratch`) or `.` written `./` names the same
path.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from ..facts.effects import destination_is_directory
from ..facts.files import ContextFiles
from ..facts.paths import has_vars, has_wildcards, is_remote, join, known
from ..findings import Edit, Finding, Fix, Safety
from .base import Context, Pass
from .copies import CopyOp, archive_content, archive_name, copy_op
from .edits import keyword_span, last_operand_span

_ADD_ONLY_FLAGS = frozenset({"checksum", "keep-git-dir", "unpack"})
_SHARED_FLAGS = frozenset({"chown", "chmod", "link", "exclude"})
_PLAIN_EXTENSIONS = frozenset("""
sh bash zsh ksh py pyc js mjs cjs ts tsx jsx json jsonc yaml yml toml ini cfg conf config cnf txt md rst
html htm css scss xml xsl properties env jar war ear zip whl so a pem crt cer key pub cert csr p12 rb go
java php pl pm lua sql csv tsv service socket timer list repo png jpg jpeg gif svg ico webp lock mod sum
gradle kts rs c h cc cpp hpp ps1 bat cmd exe dll nginx j2 jinja tpl tmpl template sample dist example
desktop rules policy acl lst dat bin? patch diff sed awk vim el erb ejs hbs mustache php5 phar htaccess
htpasswd crontab cron
""".replace("bin?", "").split())


class AddToCopy(Pass):
    code = "DO203"
    name = "add-to-copy"
    summary = "ADD of local files that are not archives: use COPY"

    def check(self, ctx: Context) -> Iterable[Finding]:
        adds = [i for i in ctx.tree.instructions if i.keyword == "ADD"]
        if not adds:
            return
        fs = ctx.files
        for ins in adds:
            op = copy_op(ins)
            if op is None or op.from_stage:
                continue
            names = op.flag_names
            if names & _ADD_ONLY_FLAGS or not names <= _SHARED_FLAGS or not _builds(op):
                continue
            verdicts = [self._source(fs, s) for s in op.sources]
            if any(v == "keep" for v in verdicts):
                continue
            unknown = [s for s, v in zip(op.sources, verdicts, strict=True) if v == "unknown"]
            start, end = keyword_span(ins)
            kw = ins.parsed.keyword
            word = "COPY" if kw.isupper() else "copy" if kw.islower() else "Copy"
            noun = "files" if len(op.sources) > 1 else "file"
            dest = _dest(ctx, op)
            if isinstance(dest, str):
                yield self.finding(ins, (f"ADD of local {noun} {', '.join(op.sources)}: use COPY, after a "
                                         f"WORKDIR or with an absolute destination (not fixed: {dest})"))
                continue
            edits = (Edit(start, end, word), *dest)
            if unknown:
                reason = ("no build context to check" if not fs.available else "not found in the build context")
                message = (f"ADD of local {noun} {', '.join(op.sources)}: use COPY unless it is an archive "
                           f"(unsafe: ADD unpacks archives by their content and {', '.join(unknown)} "
                           f"could not be checked: {reason})")
                safety = Safety.UNSAFE
            else:
                message = f"ADD of local {noun} {', '.join(op.sources)} that ADD copies as is: use COPY"
                safety = Safety.SAFE
            yield self.finding(ins, message, Fix("Replace ADD with COPY", safety, edits))

    @staticmethod
    def _source(fs: ContextFiles, source: str) -> str:
        """'ok' (copied as is), 'keep' (ADD does more: leave it) or 'unknown'."""
        if is_remote(source) or has_vars(source):
            return "keep"
        base = posixpath.basename(source.rstrip("/"))
        if archive_name(base):
            return "keep"
        if fs.available:
            verdict = _context_verdict(fs, source)
            if verdict is not None:
                return verdict
        if source in (".", "./") or source.endswith("/"):
            return "ok"
        if has_wildcards(base) and (has_wildcards(base.rsplit(".", 1)[-1]) or "." not in base):
            return "keep"  # `data*` may match data.tar.gz
        ext = base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""
        if ext in _PLAIN_EXTENSIONS:
            return "ok"
        return "unknown"


def _context_verdict(fs: ContextFiles, source: str) -> str | None:
    """'ok' or 'keep' from the files the source matches in the context; None when it matches none."""
    norm = ContextFiles.norm(source)
    matches = fs.glob(source) if has_wildcards(source) else ([norm] if norm and fs.sent(source) else [])
    if not matches:
        return None
    for m in matches:
        if archive_name(m) or (not fs.is_dir(m) and archive_content(fs.head(m, 512))):
            return "keep"
    return "ok"


_STRING_FLAGS = frozenset({"chown", "chmod", "exclude"})


def _builds(op: CopyOp) -> bool:
    """Whether BuildKit accepts the instruction: no flag that takes a value is written bare (it
    stops with "missing a value on flag"), and several sources go into a directory (`dir/`;
    `.` is one too)."""
    if any(f.value is None for f in op.ins.flags if f.name.lower() in _STRING_FLAGS):
        return False
    return len(op.sources) == 1 or op.dest.endswith("/") or op.dest == "."


def _dest(ctx: Context, op: CopyOp) -> tuple[Edit, ...] | str:
    """Edits to the destination that COPY needs to say the same as clearly (none, or `.` as
    `./` after several sources, or a relative path made absolute); or why it cannot be fixed."""
    dest = op.dest
    cwd = ctx.state(op.ins).cwd
    workdir_set = any(i.keyword == "WORKDIR" for i in ctx.graph.before(op.ins))
    if dest.startswith(("/", "\\")) or has_vars(dest) or _WINDOWS_ABS.match(dest) or workdir_set:
        new = "./" if dest == "." and len(op.sources) > 1 else dest
    elif known(cwd):
        # nobody set a WORKDIR, but the base image's is known (scratch and the official images)
        new = join(cwd, dest) or "/"
        if new != "/" and destination_is_directory(op.sources, dest):
            new += "/"
    else:
        return f"`{dest}` is relative to the base image's WORKDIR, which this file does not set"
    if new == dest:
        return ()
    span = last_operand_span(op.ins)
    return f"the destination `{dest}` would have to be written `{new}`" if span is None else (
        Edit(span[0], span[1], new),)


_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]")

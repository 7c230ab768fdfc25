"""Use COPY, not ADD, for local files that are not archives.

## What it does
Finds `ADD` instructions whose sources are all local files or directories of the build context
that ADD would copy as they are, and rewrites the keyword to `COPY`. Remote sources (URLs, git
repositories), archives (by name: `.tar`, `.tar.gz`, `.tgz`, `.gz`, `.bz2`, `.xz`, `.zst`...,
and by content when the build context is at hand: a tar header or a gzip/bzip2/xz/zstd
signature), sources with variables, heredocs and the flags only ADD has (`--checksum`,
`--keep-git-dir`, `--unpack`) keep `ADD`. A `.zip` (or `.jar`, `.whl`) is not unpacked by ADD,
so it is fine to COPY.

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
"""
from __future__ import annotations

import posixpath
from typing import Iterable

from ..context import has_wildcards
from ..findings import Edit, Finding, Fix, Safety
from . import _deps as D
from .base import Context, Pass

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
        fs = D.files(ctx)
        for ins in adds:
            op = D.copy_op(ins)
            if op is None or op.from_stage:
                continue
            names = op.flag_names
            if names & _ADD_ONLY_FLAGS or not names <= _SHARED_FLAGS:
                continue
            verdicts = [self._source(fs, s) for s in op.sources]
            if any(v == "keep" for v in verdicts):
                continue
            unknown = [s for s, v in zip(op.sources, verdicts) if v == "unknown"]
            start, end = D.keyword_span(ins)
            kw = ins.parsed.keyword
            word = "COPY" if kw.isupper() else "copy" if kw.islower() else "Copy"
            noun = "files" if len(op.sources) > 1 else "file"
            if unknown:
                reason = ("no build context to check" if fs is None else "not found in the build context")
                message = (f"ADD of local {noun} {', '.join(op.sources)}: use COPY unless it is an archive "
                           f"(unsafe: ADD unpacks archives by their content and {', '.join(unknown)} "
                           f"could not be checked: {reason})")
                safety = Safety.UNSAFE
            else:
                message = f"ADD of local {noun} {', '.join(op.sources)} that ADD copies as is: use COPY"
                safety = Safety.SAFE
            yield self.finding(ins, message, Fix("Replace ADD with COPY", safety, (Edit(start, end, word),)))

    @staticmethod
    def _source(fs: D.Files | None, source: str) -> str:
        """'ok' (copied as is), 'keep' (ADD does more: leave it) or 'unknown'."""
        if D.is_remote(source) or D.has_vars(source):
            return "keep"
        base = posixpath.basename(source.rstrip("/"))
        if D.archive_name(base):
            return "keep"
        if fs is not None:
            matches = fs.bc.glob(source) if has_wildcards(source) else (
                [D.Files.norm(source)] if D.Files.norm(source) and fs.available(source) else [])
            if matches:
                for m in matches:
                    if D.archive_name(m):
                        return "keep"
                    if not fs.is_dir(m) and D.archive_content(fs.head(m, 512)):
                        return "keep"
                return "ok"
        if source in (".", "./") or source.endswith("/"):
            return "ok"
        if has_wildcards(base) and (has_wildcards(base.rsplit(".", 1)[-1]) or "." not in base):
            return "keep"  # `data*` may match data.tar.gz
        ext = base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""
        if ext in _PLAIN_EXTENSIONS:
            return "ok"
        return "unknown"

"""`gem install` without `--no-document`.

## What it does
Finds `gem install` without `--no-document` (`-N`, or the legacy `--no-ri`/`--no-rdoc`).

## Why is this bad?
RubyGems generates ri and RDoc documentation for every gem it installs: it slows the install
down and adds megabytes nobody reads in a container.

## Example
```dockerfile
RUN gem install bundler
```
Use instead:
```dockerfile
RUN gem install --no-document bundler
```

## Fix safety
Safe: only the documentation is skipped; the gems installed are the same.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import package_runs
from .base import Context, MayChange, Pass


class GemNoDocument(Pass):
    code = "DO111"
    may_change = MayChange(paths=("*/gems/*/doc/*", "/usr/local/bundle/doc/*"))
    name = "gem-no-document"
    summary = "gem install without --no-document generates documentation"
    fires_on = ("gem",)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for _stage, info in package_runs.run_infos(ctx, shipping=True):
            tools = [t for t in info.tools if t.manager == "gem" and t.subcommand == "install"
                     and not t.has_flag("--no-document", "-N", "--no-ri", "--no-rdoc", "--document")]
            if not tools:
                continue
            yield self.finding(info.ins, "`gem install` without `--no-document` generates ri and RDoc documentation",
                               package_runs.add_flag(info, tools, "--no-document"))

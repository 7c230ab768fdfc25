"""Where DO206 fires in corpus/ and what a source edit re-runs before and after (static model).

    .venv/bin/python -m bench.do206_corpus

For each case (its Dockerfile and expert.Dockerfile) where DO206 reports something: the number
of findings, and the build steps a rebuild re-runs after an edit of the case's `source_file`
(`facts.rebuild`), for the original, the rewrite by DO206 alone, and the rewrite by every safe fix.
"""
from __future__ import annotations

import sys
from pathlib import Path

from dockopt import parse
from dockopt.facts import FileFacts
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.scheduler import Scheduler

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def steps(text: str, dockerfile: Path, source: str, files: dict[str, str] | None = None) -> int:
    return FileFacts(parse(text), dockerfile, dockerfile.parent, dict(files or {})).rebuild.steps(source)


def main() -> None:
    for case in sorted(CORPUS.glob("*/case.toml")):
        source = tomllib.loads(case.read_text(encoding="utf-8"))["source_file"]
        for name in ("Dockerfile", "expert.Dockerfile"):
            dockerfile = case.parent / name
            if not dockerfile.exists():
                continue
            text = dockerfile.read_text(encoding="utf-8")
            alone = fix_text(text, Linter([Scheduler]), path=dockerfile, context_dir=case.parent)
            fired = [f for f in alone.findings if f.code == "DO206"]
            if not fired:
                continue
            every = fix_text(text, Linter(), path=dockerfile, context_dir=case.parent)
            print(f"{case.parent.name}/{name}: {len(fired)} DO206 findings ({sum(1 for f in fired if f.fix)} safe); "
                  f"steps re-run after editing {source}: original {steps(text, dockerfile, source)}, "
                  f"DO206 alone {steps(alone.text, dockerfile, source)}, "
                  f"all safe fixes {steps(every.text, dockerfile, source, every.files)}")


if __name__ == "__main__":
    main()

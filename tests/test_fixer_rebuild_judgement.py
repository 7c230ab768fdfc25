"""The fixer judges the whole fix set (DESIGN.md invariant 6): a rewrite never makes a rebuild
after a source edit re-run more build steps than the original. A fix that would is left out,
the others are applied, and the left-out one is reported without a fix, with the reason."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from test_pass_do2_common import d, make_context

from dockopt import parse
from dockopt.facts import FileFacts
from dockopt.findings import Edit, Finding
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.apt_lists_cleanup import AptListsCleanup
from dockopt.passes.base import Context, Pass, safe_fix
from dockopt.passes.merge_runs import MergeRuns
from dockopt.passes.scheduler import Scheduler


class CopyContextFirst(Pass):
    """A rewrite that looks tidy and is bad for the cache: it puts the copy of the whole context
    first in its stage (as a 'group the COPYs' rule might), above the installs."""

    code = "DO990"
    name = "copy-context-first"
    summary = "test rule"

    def check(self, ctx: Context) -> Iterable[Finding]:
        for stage in ctx.tree.stages:
            body = stage.instructions
            for k, ins in enumerate(body):
                if k == 0 or ins.keyword != "COPY" or ins.values[:1] != (".",):
                    continue
                first = body[0]
                at = first.leading_start
                fix = safe_fix("Copy the context first", Edit(at, at, ins.full_source),
                               Edit(ins.leading_start, ins.end, ""))
                yield self.finding(ins, "the context copy could come first", fix)


ORIGINAL = d("""\
    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y --no-install-recommends curl
    COPY . /app
    CMD ["/app/run.sh"]
    """)


def steps(text: str, source: str, context: Path | None = None) -> int:
    return FileFacts(parse(text), None, context).rebuild.steps(source)


def test_a_fix_that_makes_the_rebuild_worse_is_left_out_and_reported() -> None:
    res = fix_text(ORIGINAL, Linter([CopyContextFirst, AptListsCleanup]))
    # the apt lists cleanup is applied; the copy stays where it was
    assert res.text == ORIGINAL.replace("curl\n", "curl && rm -rf /var/lib/apt/lists/*\n")
    (refused,) = [f for f in res.findings if f.code == "DO990"]
    assert refused.fix is None and "not fixed" in refused.message
    assert "re-run 2 build steps instead of 1" in refused.message
    assert [f.code for f in res.applied] == ["DO104"]
    (left,) = [f for f in res.remaining if f.code == "DO990"]
    assert left.fix is None
    # a second run changes nothing (the refused fix stays refused)
    assert fix_text(res.text, Linter([CopyContextFirst, AptListsCleanup])).text == res.text


def test_with_a_context_the_source_files_are_those_no_copy_names(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"run.sh": "echo hi\n", "requirements.txt": "x\n"})
    text = d("""\
        FROM python:3.11
        COPY requirements.txt /app/
        RUN pip install -r /app/requirements.txt
        COPY . /app
        """)
    res = fix_text(text, Linter([CopyContextFirst]), context_dir=ctx)
    assert res.text == text
    assert "an edit of run.sh would re-run 3 build steps instead of 1" in res.findings[0].message


def test_a_normal_fix_set_is_untouched() -> None:
    text = d("""\
        FROM debian:bookworm-slim
        WORKDIR /app
        COPY . .
        RUN apt-get update
        RUN apt-get install -y --no-install-recommends curl
        CMD ["./run.sh"]
        """)
    res = fix_text(text, Linter([MergeRuns, AptListsCleanup, Scheduler]))
    assert res.refused == {}
    assert all(f.fix is not None for f in res.findings)
    assert res.text.index("apt-get install") < res.text.index("COPY . .")
    assert steps(res.text, "run.sh") < steps(text, "run.sh")


def test_the_facts_of_each_text_of_the_fix_loop_are_computed_once(monkeypatch, tmp_path):
    """The rules' context and the rebuild judge's facts of one text are one object: a round
    lints with what the previous round's judgement computed for its result."""
    made: list[str] = []
    context = Linter.context

    def counting(*args, **kwargs):
        ctx = context(*args, **kwargs)
        made.append(ctx.tree.source)
        return ctx

    monkeypatch.setattr(Linter, "context", staticmethod(counting))
    (tmp_path / "app.py").write_text("print(1)\n")
    text = ("FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends jq\n"
            "RUN rm -rf /var/lib/apt/lists/*\nCOPY app.py /app/\n")
    res = fix_text(text, Linter(), path=tmp_path / "Dockerfile", context_dir=tmp_path)
    assert res.changed and len(res.rounds) >= 1
    assert len(made) == len(set(made)), made

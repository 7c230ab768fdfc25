"""Rules that cannot fire are not run; skipping them never loses a finding."""
from __future__ import annotations

from dockopt import parse
from dockopt.lint import Linter, check_buildable
from dockopt.passes import ALL_PASSES

GATED = [p for p in ALL_PASSES if p.fires_on]


class Ungated(Linter):
    def active(self, tree=None):
        return super().active(None)


def test_package_rules_declare_their_words():
    assert {p.code for p in GATED} >= {"DO102", "DO103", "DO104", "DO105", "DO106", "DO107", "DO108", "DO109",
                                       "DO110", "DO111", "DO112"}
    assert all(w == w.lower() for p in GATED for w in p.fires_on)


def test_a_file_without_package_managers_runs_none_of_them():
    tree = parse("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n")
    assert not {p.code for p in Linter().active(tree)} & {p.code for p in GATED}
    assert {p.code for p in Linter().active(parse("FROM debian\nRUN apt-get install -y x\n"))} >= {"DO103", "DO106"}


def test_gating_loses_no_finding_on_the_corpus(realworld):
    gated, ungated = Linter(GATED), Ungated(GATED)
    for name, text in realworld:
        try:
            tree = parse(text)
            check_buildable(tree)
        except Exception:
            continue
        key = [(f.code, f.line, f.message) for f in gated.run(tree)]
        assert key == [(f.code, f.line, f.message) for f in ungated.run(tree)], name

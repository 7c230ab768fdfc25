"""Findings of later fix rounds are located in the input: the position map and the fix loop."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dockopt.findings import Edit
from dockopt.fixer import Lines, PositionMap, fix_text
from dockopt.lint import Linter

APT = ("FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y jq\nRUN apt-get install -y bc\n"
       "RUN apt-get clean\nRUN rm -rf /var/lib/apt/lists/*\nCOPY report.sh /usr/local/bin/report\n"
       "CMD [\"jq\", \"--version\"]\n")


def apply(text: str, edits: list[Edit]) -> str:
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        out += [text[pos:e.start], e.text]
        pos = e.end
    return "".join(out) + text[pos:]


def test_offsets_outside_edits_map_back_exactly():
    text = "0123456789"
    edits = [Edit(2, 4, "ABCDEF"), Edit(7, 7, "++")]
    new = apply(text, edits)  # "01ABCDEF456++789"
    back = PositionMap(edits)
    for old in (0, 1, 4, 5, 6, 7, 8, 9, 10):
        moved = new.index(text[old]) if old < 10 else len(new)
        assert back.back(moved) == old
    # inside replaced text: its start, or its end for the end of a span
    assert back.back(new.index("C")) == 2 and back.back(new.index("C"), end=True) == 4


@given(st.text(alphabet="abc\n", min_size=1, max_size=40), st.data())
def test_every_unedited_character_maps_to_itself(text, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), min_size=0, max_size=6, unique=True)))
    pairs = zip(cuts[::2], cuts[1::2], strict=False)
    edits = [Edit(a, b, data.draw(st.text(alphabet="XY", max_size=4))) for a, b in pairs]
    new = apply(text, edits)
    back = PositionMap(edits)
    pos = 0
    kept = []  # (old offset, new offset) of every character no edit touched
    shift = 0
    for e in sorted(edits, key=lambda e: e.start):
        kept += [(i, i + shift) for i in range(pos, e.start)]
        shift += len(e.text) - (e.end - e.start)
        pos = e.end
    kept += [(i, i + shift) for i in range(pos, len(text))]
    for old, moved in kept:
        assert new[moved] == text[old] and back.back(moved) == old


def test_lines_positions_round_trip():
    lines = Lines("a\nbc\r\n\nd")
    assert lines.position(lines.offset(2, 2)) == (2, 2)
    assert lines.offset(4, 1) == len("a\nbc\r\n\n") and lines.line_end(2) == len("a\nbc\r")


def test_second_round_findings_point_at_the_input():
    res = fix_text(APT, Linter(), unsafe=True)
    assert len(res.rounds) >= 2  # DO106 waits for the merge of round one
    lines = APT.splitlines()
    installs = [f for f in res.applied if f.code == "DO106"]
    assert installs and all(lines[f.line - 1].startswith("RUN") and f.end_line == 6 for f in installs)
    assert all(f.fix is not None and f.fix.edits == () for f in installs)  # edits of an intermediate text
    input_codes = {(f.code, f.line) for f in res.findings}
    assert ("DO106", 3) in input_codes and ("DO106", 4) in input_codes
    assert {res.findings[i].code for i in res.resolved} >= {"DO101", "DO102", "DO106", "DO302"}
    assert not res.remaining or all(f.line <= res.text.count("\n") + 1 for f in res.remaining)

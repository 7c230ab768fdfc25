"""The tree reads every corpus file exactly as BuildKit does and gives back every byte."""
from __future__ import annotations

import pytest
from conftest import BUILDKIT_NEGATIVE, REPO, need_shared, read_text
from oracle import dockopt_view, dump, oracle_view

import dockopt


def _without_nul(view):
    """The `dockerfile` wrapper hands Go strings to Python as C strings, so a value holding
    "\\u0000" arrives cut at the NUL; compare dockopt's value cut the same way."""
    def cut(v):
        return v.split("\x00", 1)[0] if isinstance(v, str) else v
    return [tuple(tuple(cut(x) for x in f) if isinstance(f, tuple) else cut(f) for f in row) for row in view]


def test_realworld_round_trip_is_exact(realworld):
    bad = [name for name, text in realworld if dockopt.parse(text).to_source() != text]
    assert len(realworld) >= 2980
    assert bad == []


def test_realworld_agrees_with_buildkit(realworld):
    """Same instructions, lines, flags, values, JSON form and heredocs as BuildKit's parser."""
    differ = []
    for name, text in realworld:
        if _without_nul(oracle_view(text)) != _without_nul(dockopt_view(dockopt.parse(text))):
            differ.append(name)
    assert differ == []


def test_buildkit_testfiles_round_trip_and_match_their_ast_dumps(buildkit_cases):
    assert len(buildkit_cases) >= 33
    for case in buildkit_cases:
        text = read_text(case / "Dockerfile")
        tree = dockopt.parse(text)
        assert tree.to_source() == text, case.name
        assert dump(tree) == read_text(case / "result"), case.name
        assert _without_nul(oracle_view(text)) == _without_nul(dockopt_view(tree)), case.name


def test_buildkit_negative_cases_raise_parse_error():
    need_shared(BUILDKIT_NEGATIVE)
    cases = sorted(p for p in BUILDKIT_NEGATIVE.iterdir() if (p / "Dockerfile").exists())
    assert len(cases) >= 4
    for case in cases:
        with pytest.raises(dockopt.ParseError):
            dockopt.parse(read_text(case / "Dockerfile"))


def _own_dockerfiles():
    found = sorted((REPO / "corpus").glob("*/Dockerfile")) + sorted(
        p for p in (REPO / "tests" / "fixtures").rglob("*Dockerfile*") if "fuzz" not in p.parts)
    return [p for p in found if p.is_file()]


@pytest.mark.parametrize("path", _own_dockerfiles(), ids=lambda p: str(p.relative_to(REPO)))
def test_project_fixtures_round_trip_and_agree(path):
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    try:
        oracle = oracle_view(text)
    except Exception:
        with pytest.raises(dockopt.ParseError):
            dockopt.parse(text)
        return
    tree = dockopt.parse(text)
    assert tree.to_source().encode("utf-8") == raw
    assert _without_nul(dockopt_view(tree)) == _without_nul(oracle)

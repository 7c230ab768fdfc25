"""Big and odd inputs get correct results or clear errors (the timing is in bench/test_scaling.py)."""
from __future__ import annotations

from conftest import run_cli

import dockopt


def test_100k_lines_round_trip_and_fix():
    text = "FROM debian\n" + "".join(f"RUN echo {i}\nCOPY a{i} /b{i}\n" for i in range(50_000))
    tree = dockopt.parse(text)
    assert len(tree.instructions) == 100_001
    assert tree.to_source() == text


def test_one_megabyte_continued_run():
    body = "".join(f"&& echo {i:06d} \\\n" for i in range(60_000))
    text = "FROM debian\nRUN true " + body + "&& true\n"
    assert len(text) > 1_000_000
    tree = dockopt.parse(text)
    run = tree.instructions[1]
    assert run.start_line == 2 and run.end_line == 60_002
    assert tree.to_source() == text


def test_write_leaves_the_file_untouched_on_a_parse_error(tmp_path):
    p = tmp_path / "Dockerfile"
    raw = b"FROM x\nRUN a\nRUN b\nRUN <<EOF\nnever closed\n"
    p.write_bytes(raw)
    before = p.stat().st_mtime_ns
    r = run_cli("--write", str(p))
    assert r.returncode == 2 and b"unterminated heredoc" in r.stderr
    assert p.read_bytes() == raw and p.stat().st_mtime_ns == before
    assert [x.name for x in tmp_path.iterdir()] == ["Dockerfile"]  # no temp file left behind


def test_ten_megabyte_file_is_read(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_text("FROM debian\n" + "# padding\n" * 1_000_000 + "CMD [\"true\"]\n")
    assert p.stat().st_size > 10_000_000
    r = run_cli("--check", "--select", "DO101", str(p))
    assert r.returncode == 0, r.stderr


def test_deep_shell_chains_do_not_recurse():
    """tree-sitter nests `a && b && c` to the left; 3000 links once ended in RecursionError."""
    from dockopt.fixer import fix_text
    from dockopt.lint import Linter

    chain = "FROM debian\nRUN true" + "".join(f" && echo {i}" for i in range(3000)) + "\n"
    runs = "FROM debian\n" + "".join(f"RUN echo {i}\n" for i in range(1500))
    assert fix_text(chain, Linter()).text == chain  # nothing to fix, and no error
    merged = fix_text(runs, Linter()).text
    assert merged.count("RUN ") == 1 and merged.count("&& \\\n") == 1499

"""The command line, run as a user runs it: modes, exit codes, errors, writes."""
from __future__ import annotations

import json
import os
import stat

import pytest
from conftest import run_cli

FIVE_RUNS = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nRUN echo done\n"
CLEAN = 'FROM debian:bookworm-slim\nUSER nobody\nCMD ["echo", "hi"]\n'


@pytest.fixture
def df(tmp_path):
    def make(text: str, name: str = "Dockerfile"):
        p = tmp_path / name
        p.write_bytes(text.encode("utf-8"))
        return p
    return make


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.decode().startswith("dockopt ")


def test_clean_file_exits_zero_in_every_mode(df):
    p = df(CLEAN)
    for mode in ([], ["--check"], ["--diff"], ["--write"]):
        r = run_cli(*mode, str(p))
        assert r.returncode == 0, (mode, r.stdout, r.stderr)
    assert p.read_text() == CLEAN


def test_diff_prints_a_unified_diff_and_writes_nothing(df):
    p = df(FIVE_RUNS)
    r = run_cli("--diff", str(p))
    assert r.returncode == 1
    out = r.stdout.decode()
    assert out.startswith(f"--- {p}\n+++ {p}\n@@")
    assert "-RUN apt-get install -y curl" in out
    assert p.read_text() == FIVE_RUNS


def test_check_reports_without_writing(df):
    p = df(FIVE_RUNS)
    mtime = p.stat().st_mtime_ns
    r = run_cli("--check", str(p))
    assert r.returncode == 1
    assert p.stat().st_mtime_ns == mtime


def test_write_applies_fixes_and_a_second_run_changes_nothing(df):
    p = df(FIVE_RUNS)
    os.chmod(p, 0o640)
    r = run_cli("--write", str(p))
    assert r.returncode in (0, 1), r.stderr
    text = p.read_text()
    assert text != FIVE_RUNS and text.count("RUN") < FIVE_RUNS.count("RUN")
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    mtime = p.stat().st_mtime_ns
    r2 = run_cli("--check", str(p))
    assert r2.returncode == 0, r2.stdout
    assert p.stat().st_mtime_ns == mtime


def test_report_mode_lists_findings_with_code_and_location(df):
    p = df(FIVE_RUNS)
    r = run_cli(str(p))
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert any(line.startswith(f"{p}:2:1: DO101 ") and line.endswith("[*]") for line in lines)
    assert lines[-1].startswith("1 file would be changed") or "Found" in r.stdout.decode()


def test_parse_error_gives_path_line_column_and_exit_2(df):
    p = df("FROM x\n\nENV a=b c\n")
    r = run_cli("--diff", str(p))
    assert r.returncode == 2
    assert f"{p}:3:1: Syntax error" in r.stderr.decode()
    assert b"Traceback" not in r.stderr + r.stdout


def test_unknown_instruction_is_an_error(df):
    p = df("FROM x\nFOO bar\n")
    r = run_cli(str(p))
    assert r.returncode == 2
    assert f"{p}:2:1: unknown instruction: FOO" in r.stderr.decode()


def test_non_utf8_names_the_byte_offset(df, tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_bytes(b"FROM x\nRUN echo \xff\n")
    r = run_cli(str(p))
    assert r.returncode == 2
    assert f"{p}:2:10: not UTF-8 text: invalid byte 0xff at offset 16" in r.stderr.decode()


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_bytes(b"\x7fELF\x00\x00\x01")
    r = run_cli("--write", str(p))
    assert r.returncode == 2 and b"binary file" in r.stderr
    assert p.read_bytes() == b"\x7fELF\x00\x00\x01"


def test_missing_file_and_no_arguments(tmp_path):
    r = run_cli(str(tmp_path / "nope"))
    assert r.returncode == 2 and b"no such file" in r.stderr
    r = run_cli()
    assert r.returncode == 2


def test_stdin_with_diff_and_write(df):
    r = run_cli("--diff", "--stdin-filename", "app/Dockerfile", "-", input=FIVE_RUNS.encode())
    assert r.returncode == 1
    assert r.stdout.decode().startswith("--- a/app/Dockerfile")
    r = run_cli("--write", "--select", "DO101", "-", input=FIVE_RUNS.encode())
    assert r.stdout.decode().count("RUN") == 1


def test_directory_discovery_finds_dockerfile_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "node_modules").mkdir()
    for rel in ["Dockerfile", "a/Dockerfile.prod", "a/web.dockerfile", "node_modules/Dockerfile", "a/Dockerfile.md"]:
        (tmp_path / rel).write_text(FIVE_RUNS)
    r = run_cli("--format", "json", str(tmp_path))
    doc = json.loads(r.stdout)
    paths = sorted(os.path.relpath(f["path"], tmp_path) for f in doc["files"])
    assert paths == ["Dockerfile", "a/Dockerfile.prod", "a/web.dockerfile"]


def test_write_keeps_crlf_bom_and_missing_final_newline(df):
    text = "\ufeffFROM x\r\nRUN a\r\nRUN b"
    p = df(text)
    run_cli("--write", str(p))
    out = p.read_bytes()
    assert out.startswith(b"\xef\xbb\xbfFROM x\r\n")
    assert not out.endswith(b"\n")
    assert b"\n" not in out.replace(b"\r\n", b"")


def test_write_through_a_symlink_writes_the_target(df, tmp_path):
    target = df(FIVE_RUNS, "real.Dockerfile")
    link = tmp_path / "Dockerfile"
    link.symlink_to(target.name)
    run_cli("--write", str(link))
    assert link.is_symlink()
    assert target.read_text().count("RUN") == 1


def test_read_only_file_is_a_clear_error(df):
    p = df(FIVE_RUNS)
    os.chmod(p, 0o444)
    r = run_cli("--write", str(p))
    assert r.returncode == 2 and b"read-only" in r.stderr
    assert p.read_text() == FIVE_RUNS


def test_read_only_directory_is_a_clear_error(df, tmp_path):
    p = df(FIVE_RUNS)
    os.chmod(tmp_path, 0o555)
    try:
        r = run_cli("--write", str(p))
    finally:
        os.chmod(tmp_path, 0o755)
    assert r.returncode == 2 and b"read-only" in r.stderr
    assert p.read_text() == FIVE_RUNS
    assert sorted(x.name for x in tmp_path.iterdir()) == ["Dockerfile"]


def test_select_and_ignore(df):
    p = df(FIVE_RUNS)
    assert run_cli("--select", "DO101", "--check", str(p)).returncode == 1
    assert run_cli("--select", "DO101", "--ignore", "DO1", "--check", str(p)).returncode == 1  # more specific wins
    assert run_cli("--select", "DO1", "--ignore", "DO1", "--check", str(p)).returncode == 0  # a tie: ignore wins
    assert run_cli("--select", "DO9", "--check", str(p)).returncode == 0


def test_inline_and_file_suppressions_are_kept(df):
    p = df("FROM x\n# dockopt: ignore=DO101\nRUN a\nRUN b\n")
    r = run_cli("--write", "--select", "DO101", str(p))
    assert r.returncode == 0 and p.read_text().count("RUN") == 2
    p = df("# dockopt: ignore-file\nFROM x\nRUN a\nRUN b\n")
    assert run_cli("--check", str(p)).returncode == 0


def test_verbose_says_what_it_did_and_quiet_says_nothing(df):
    p = df(FIVE_RUNS)
    r = run_cli("--verbose", "--check", "--select", "DO101", str(p))
    assert f"{p}: " in r.stderr.decode() and " ms" in r.stderr.decode()
    r = run_cli("--quiet", "--select", "DO101", str(p))
    assert r.returncode == 1 and r.stdout == b""


def test_no_color_when_not_a_terminal(df):
    p = df(FIVE_RUNS)
    r = run_cli("--diff", "--select", "DO101", str(p), env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert b"\x1b[" not in r.stdout + r.stderr

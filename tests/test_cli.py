"""The command line, run as a user runs it (the installed `dockopt` script): modes, exit codes,
errors, writes, where findings are located, selection, output options."""
from __future__ import annotations

import json
import os
import re
import resource
import signal
import stat
import subprocess
from xml.etree import ElementTree

import pytest
from conftest import DOCKOPT, run_cli

FIVE_RUNS = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nRUN echo done\n"
CLEAN = 'FROM debian:bookworm-slim\nUSER nobody\nCMD ["echo", "hi"]\n'
# the README's example: five RUNs, two installs without --no-install-recommends, no USER
APT_FIVE = ("FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y jq\nRUN apt-get install -y bc\n"
            "RUN apt-get clean\nRUN rm -rf /var/lib/apt/lists/*\nCOPY report.sh /usr/local/bin/report\n"
            'CMD ["report"]\n')
LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) ", re.M)


@pytest.fixture
def df(tmp_path):
    def make(text: str, name: str = "Dockerfile"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))
        return p
    return make


def located(output: str) -> list[tuple[int, str]]:
    """(line, code) of every finding line of the text format."""
    return [(int(m["line"]), m["code"]) for m in LOCATION.finditer(output)]


def out(r) -> str:
    return r.stdout.decode() + r.stderr.decode()


# --------------------------------------------------------------------------- basics


def test_version_and_its_short_flag():
    for flag in ("--version", "-V"):
        r = run_cli(flag)
        assert r.returncode == 0 and r.stdout.decode().startswith("dockopt 0.")


def test_help_explains_exit_codes_environment_and_every_option():
    r = run_cli("--help")
    text = r.stdout.decode()
    assert r.returncode == 0
    for needle in ("exit status:", "  0  ", "  1  ", "  2  ", "NO_COLOR", "FORCE_COLOR", "DOCKOPT_DEBUG"):
        assert needle in text, needle
    from dockopt.cli import build_parser

    for action in build_parser()._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help"
        for flag in action.option_strings:
            assert flag in text


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
    text = r.stdout.decode()
    assert text.startswith(f"--- {p}\n+++ {p}\n@@")
    assert "-RUN apt-get install -y curl" in text
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
    assert re.fullmatch(r"Found \d+ issues in 1 file\.", lines[-2]), lines


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


# several files, as pre-commit passes them or a directory walk finds them: one with a syntax
# error, one with an unknown instruction, clean ones, ones with findings (fixable or not),
# a suppression, and a subdirectory with its own configuration
MANY = {
    "a/Dockerfile": FIVE_RUNS,
    "a/Dockerfile.broken": 'FROM debian\nRUN <<EOF\necho unterminated\n',
    "b/Dockerfile": CLEAN,
    "b/web.dockerfile": APT_FIVE,
    "c/Dockerfile": "FROM alpine:3.19\nRUN apk add curl\nRUN apk add git\n",
    "c/Dockerfile.dev": "FROM python:3.12\nRUN pip install flask\nCOPY . /app\nCMD [\"python\", \"app.py\"]\n",
    "d/Dockerfile": "FROM debian\nFROBNICATE now\n",
    "d/Containerfile": "FROM debian:bookworm\n# dockopt: ignore=DO101\nRUN apt-get update\nRUN apt-get install -y jq\n",
    "e/Dockerfile": "FROM node:20\nCOPY . .\nRUN npm install\nCMD [\"node\", \"index.js\"]\n",
    "e/.dockopt.toml": 'ignore = ["DO3"]\n',
    "f/Dockerfile": "FROM debian:bookworm-slim\nADD app.tar.gz /opt/\nUSER nobody\n",
    "g/Dockerfile": CLEAN.replace("nobody", "app"),
}


def _many(root) -> None:
    for rel, text in MANY.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.mark.parametrize("mode", [["--check"], [], ["--diff"], ["--check", "--format", "json"],
                                  ["--output-format", "full", "--statistics"], ["--format", "sarif"]])
def test_parallel_run_prints_what_a_serial_run_prints(tmp_path, mode):
    _many(tmp_path)
    serial = run_cli(*mode, "--jobs", "1", ".", cwd=tmp_path)
    parallel = run_cli(*mode, "--jobs", "2", ".", cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 2  # the broken files
    assert serial.stdout == parallel.stdout and serial.stderr == parallel.stderr
    assert b"Dockerfile.broken" in serial.stderr and b"FROBNICATE" in serial.stderr
    assert b"DO101" in serial.stdout + serial.stderr
    # the pool is really used for this many files (and not for one, nor for stdin)
    from dockopt.cli import build_parser, workers_for

    files = [str(tmp_path / rel) for rel in MANY if not rel.endswith(".toml")]
    assert workers_for(files, build_parser().parse_args([*mode, "--jobs", "2", *files])) == 2
    assert workers_for(files[:1], build_parser().parse_args([*mode, "--jobs", "2", files[0]])) == 1
    assert workers_for(["-"], build_parser().parse_args([*mode, "--jobs", "2", "-"])) == 1


def test_parallel_write_writes_what_a_serial_write_writes(tmp_path):
    runs = {}
    for jobs in ("1", "2"):
        root = tmp_path / jobs
        _many(root)
        r = run_cli("--write", "--jobs", jobs, ".", cwd=root)
        written = {rel: (root / rel).read_bytes() for rel in MANY}
        runs[jobs] = (r.returncode, r.stdout, r.stderr, written)
    assert runs["1"] == runs["2"]
    assert runs["1"][3]["a/Dockerfile"] != FIVE_RUNS.encode()  # something was written
    assert runs["1"][3]["a/Dockerfile.broken"] == MANY["a/Dockerfile.broken"].encode()


def test_a_file_named_twice_is_written_as_a_serial_run_writes_it(tmp_path):
    _many(tmp_path)
    names = [rel for rel in MANY if not rel.endswith(".toml")]
    serial = run_cli("--write", "--jobs", "1", *names, "a/Dockerfile", cwd=tmp_path)
    again = tmp_path / "again"
    _many(again)
    parallel = run_cli("--write", "--jobs", "2", *names, "a/Dockerfile", cwd=again)
    assert (serial.returncode, serial.stdout, serial.stderr) == (parallel.returncode, parallel.stdout,
                                                                 parallel.stderr)
    assert (tmp_path / "a/Dockerfile").read_bytes() == (again / "a/Dockerfile").read_bytes()


def test_parallel_write_of_files_sharing_a_context_matches_a_serial_write(tmp_path):
    # nine Dockerfiles outside one build context: the first one's fix writes the context's
    # .dockerignore, which every later one reads; a serial run fixes only the first
    runs = {}
    for jobs in ("1", "2"):
        root = tmp_path / jobs
        (root / "app" / ".git").mkdir(parents=True)
        (root / "app" / ".git" / "pack").write_bytes(bytes(range(256)) * 800)
        (root / "app" / "main.py").write_text("print(1)\n")
        (root / "docker").mkdir()
        names = []
        for i in range(9):
            name = f"docker/s{i}.Dockerfile"
            (root / name).write_text('FROM python:3.12-slim\nCOPY . /app\nUSER nobody\n'
                                     'CMD ["python", "/app/main.py"]\n')
            names.append(name)
        r = run_cli("--write", "--jobs", jobs, "--context", "app", *names, cwd=root)
        runs[jobs] = (r.returncode, r.stdout, r.stderr, (root / "app" / ".dockerignore").read_text())
    assert runs["1"] == runs["2"]
    assert ".git" in runs["1"][3] and b"1 file fixed" in runs["1"][1] + runs["1"][2]


def test_jobs_must_be_positive(df):
    r = run_cli("--jobs", "0", str(df(CLEAN)))
    assert r.returncode == 2 and b"--jobs must be at least 1" in r.stderr


def test_write_keeps_crlf_bom_and_missing_final_newline(df):
    text = "\ufeffFROM x\r\nRUN a\r\nRUN b"
    p = df(text)
    run_cli("--write", str(p))
    written = p.read_bytes()
    assert written.startswith(b"\xef\xbb\xbfFROM x\r\n")
    assert not written.endswith(b"\n")
    assert b"\n" not in written.replace(b"\r\n", b"")


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


def test_a_failed_write_leaves_the_file_whole(df, tmp_path):
    """The disk fills up (here: a file-size limit) while the fixed text is being written: the
    Dockerfile keeps its old content, whole, and no temp file is left beside it; exit 2."""
    p = df(APT_FIVE)

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    r = subprocess.run([str(DOCKOPT), "--write", str(p)], preexec_fn=small_files, capture_output=True, timeout=300)
    assert r.returncode == 2 and f"{p}: cannot write: File too large" in r.stderr.decode(), out(r)
    assert p.read_text() == APT_FIVE
    assert sorted(x.name for x in tmp_path.iterdir()) == ["Dockerfile"]


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


# --------------------------------------------------------------------------- 1. locations


def test_check_diff_and_report_list_the_same_findings_located_in_the_input(df):
    p = df(APT_FIVE)
    lines = APT_FIVE.splitlines()
    report = run_cli(str(p))
    check = run_cli("--check", str(p))
    diff = run_cli("--diff", str(p))
    listed = located(report.stdout.decode())
    assert listed == located(check.stdout.decode()) == located(diff.stderr.decode())
    assert ("DO106" in {c for _, c in listed}) and all(1 <= n <= len(lines) for n, _ in listed)
    for n, code in listed:
        # every finding sits on the instruction it is about, in the file on disk
        keyword = {"DO101": "RUN", "DO102": "RUN", "DO106": "RUN", "DO302": "FROM", "DO306": "FROM"}.get(code)
        if keyword:
            assert lines[n - 1].startswith(keyword), (n, code)
    assert [n for n, c in listed if c == "DO106"] == [3, 4]  # the two installs, not the merged RUN


def machine_located(fmt: str, text: str) -> list[tuple[int, str]]:
    """(line, code) of every finding of a machine format's report, read as its consumers read it."""
    if fmt == "json":
        return [(f["location"]["line"], f["code"]) for f in json.loads(text)["files"][0]["findings"]]
    if fmt == "sarif":
        return [(r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
                for r in json.loads(text)["runs"][0]["results"]]
    if fmt == "gitlab":
        return [(i["location"]["lines"]["begin"], i["check_name"]) for i in json.loads(text)]
    if fmt == "github":
        return [(int(m[1]), m[2]) for m in re.finditer(r"^::\w+ file=[^,]+,line=(\d+),col=\d+.*?,title=(\w+)::",
                                                       text, re.M)]
    root = ElementTree.fromstring(text.encode())
    if fmt == "checkstyle":
        return [(int(e.get("line")), e.get("source")) for e in root.iter("error")]
    assert fmt == "junit"
    return [(int(case.get("line")), failure.get("type")) for case in root.iter("testcase")
            for failure in case.iter("failure")]


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "checkstyle", "gitlab", "junit"])
def test_every_format_locates_the_same_findings_in_the_input(df, fmt):
    """Each machine format, parsed, lists the findings of the text report at the same lines of
    the file on disk, for a report, --check and --diff; with --diff the diff has stdout to itself
    and the report goes to stderr (as the text report does), so both stay readable."""
    p = df(APT_FIVE)
    expected = sorted(located(run_cli(str(p)).stdout.decode()))
    assert len(expected) == 6
    for mode in ([], ["--check"]):
        r = run_cli(*mode, "--format", fmt, str(p))
        assert r.returncode == 1 and r.stderr == b"", out(r)
        assert sorted(machine_located(fmt, r.stdout.decode())) == expected, mode
    text_diff = run_cli("--diff", str(p)).stdout
    r = run_cli("--diff", "--format", fmt, str(p))
    assert r.returncode == 1
    assert r.stdout == text_diff and r.stdout.startswith(b"--- ")  # the diff alone
    assert sorted(machine_located(fmt, r.stderr.decode())) == expected
    fixed = run_cli("--write", "--format", fmt, "-", input=APT_FIVE.encode())  # stdout: the fixed file
    assert fixed.stdout == run_cli("--write", "-", input=APT_FIVE.encode()).stdout
    assert fixed.stdout.startswith(b"FROM debian:bookworm\nRUN --mount=type=cache")


def test_unsafe_fixes_of_later_rounds_are_located_in_the_input(df):
    """With --unsafe-fixes DO106 is fixed in a second round, on the merged RUN; its location
    (and the fixed/not-fixed state) still refers to the two install lines of the input."""
    p = df(APT_FIVE)
    # (DO302's fix, which --unsafe-fixes applies only with --verify, forced here)
    check = json.loads(run_cli("--check", "--unsafe-fixes", "--force-fix", "DO302", "--format", "json",
                               str(p)).stdout)
    findings = check["files"][0]["findings"]
    assert [f["location"]["line"] for f in findings if f["code"] == "DO106"] == [3, 4]
    assert all(f["resolved"] for f in findings)  # --write --unsafe-fixes leaves none of them
    assert all(f["fix"]["applicable"] for f in findings if f["fix"] and f["code"] != "DO102")
    write = json.loads(run_cli("--write", "--unsafe-fixes", "--force-fix", "DO302", "--format", "json",
                               str(p)).stdout)
    applied = [f for f in write["files"][0]["findings"] if f["fix"] and f["fix"]["applied"]]
    lines = APT_FIVE.splitlines()
    for f in applied:  # every fix is located in the file as it was before writing
        assert 1 <= f["location"]["line"] <= len(lines)
        first = lines[f["location"]["line"] - 1]
        assert first.startswith("FROM" if f["code"] in ("DO302", "DO306") else "RUN"), f
    assert {f["code"] for f in applied} >= {"DO101", "DO106", "DO302"}


def test_fixed_state_matches_what_write_leaves(df, tmp_path):
    p = df(APT_FIVE)
    check = json.loads(run_cli("--check", "--format", "json", str(p)).stdout)["files"][0]["findings"]
    run_cli("--write", str(p))
    after = json.loads(run_cli("--format", "json", str(p)).stdout)["files"][0]["findings"]
    assert sorted({f["code"] for f in check if not f["resolved"]}) == sorted({f["code"] for f in after})
    assert {f["code"] for f in check if f["resolved"]} == {"DO101", "DO102"}


def test_write_reports_what_remains_located_in_the_written_file(df):
    p = df(APT_FIVE)
    r = run_cli("--write", str(p))
    written = p.read_text().splitlines()
    for n, code in located(r.stdout.decode()):
        assert (code == "DO106" and written[n - 1].startswith("RUN")) or code in ("DO302", "DO306")
    # the two DO106 of the input are one on the merged RUN now, which keeps apt's lists in a cache mount
    assert "1 file fixed, 2 fixes; 3 issues remaining; 3 unsafe fixes hidden" in r.stdout.decode()
    assert "--mount=type=cache,target=/var/lib/apt/lists" in "\n".join(written[1:3])


# --------------------------------------------------------------------------- 2. unknown codes


@pytest.mark.parametrize(("args", "message"), [
    (["--select", "DO999"], "unknown rule code DO999 (the nearest is DO900;"),
    (["--select", "DL3008"], "unknown rule code DL3008: that is hadolint's code, and dockopt has no rule for it"),
    (["--ignore", "SC2086"], "unknown rule code SC2086: that is ShellCheck's code, and dockopt has no rule for it"),
    (["--select", "DL3059"], "DL3059: that is hadolint's code; dockopt's equivalent is DO101"),
    (["--select", ""], "--select: selects no rule"),
    (["--select", ","], "--select: selects no rule"),
    (["--ignore", "DO1O1"], "unknown rule code DO1O1 (the nearest is DO101;"),  # a letter O for a zero
    (["--ignore", "DO-1"], "'DO-1' is not a rule code or prefix"),
    (["--extend-select", "XX1"], "unknown rule code XX1"),
    (["--per-file-ignores", "Dockerfile:DO777"], "unknown rule code DO777"),
    (["--force-fix", "DO3O2"], "force-fix: unknown rule code DO3O2 (the nearest is DO302;"),
])
def test_unknown_codes_on_the_command_line_are_errors(df, args, message):
    r = run_cli(*args, str(df(FIVE_RUNS)))
    assert r.returncode == 2, out(r)
    assert message in r.stderr.decode()
    assert b"All checks passed" not in r.stdout


def test_unknown_code_in_the_configuration_is_an_error(df, tmp_path):
    p = df(FIVE_RUNS)
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.dockopt]\nignore = ["DO1", "DO9999"]\n')
    r = run_cli(str(p))
    assert r.returncode == 2
    assert f"{config}: key 'ignore': unknown rule code DO9999 (the nearest is DO900;" in r.stderr.decode()


def test_a_suppression_comment_without_codes_is_an_error(df):
    p = df("FROM debian:bookworm\n# dockopt: ignore=\nRUN a\n")
    r = run_cli(str(p))
    assert r.returncode == 2 and f"{p}:2:1: `# dockopt: ignore=` names no code" in r.stderr.decode()


def test_unknown_code_in_a_suppression_comment_is_an_error(df):
    p = df("FROM debian:bookworm\n# dockopt: ignore=DO101,DO10l\nRUN a\nRUN b\n")
    r = run_cli(str(p))
    assert r.returncode == 2
    assert f"{p}:2:25: unknown rule code DO10L (the nearest is DO101;" in r.stderr.decode()


def test_a_directory_without_a_dockerfile_warns_and_passes(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print(1)\n")
    r = run_cli(str(tmp_path))
    assert r.returncode == 0
    assert f"dockopt: warning: no Dockerfile found under {tmp_path}" in r.stderr.decode()


# --------------------------------------------------------------------------- 3. selection


def codes_of(r) -> set[str]:
    return {code for _, code in located(r.stdout.decode())}


def test_ignore_adds_to_the_configured_ignores(df, tmp_path):
    p = df(APT_FIVE)
    (tmp_path / ".dockopt.toml").write_text('ignore = ["DO102"]\n')
    assert "DO102" not in codes_of(run_cli(str(p)))
    found = codes_of(run_cli("--ignore", "DO101", str(p)))
    assert "DO101" not in found and "DO102" not in found and "DO106" in found


def test_select_replaces_and_extend_select_adds(df, tmp_path):
    p = df(APT_FIVE)
    (tmp_path / ".dockopt.toml").write_text('select = ["DO1"]\nignore = ["DO102"]\n')
    assert codes_of(run_cli(str(p))) == {"DO101", "DO106"}
    assert codes_of(run_cli("--extend-select", "DO302", str(p))) == {"DO101", "DO106", "DO302"}
    # --select replaces the configured selection, its ignores included (as ruff does)
    assert codes_of(run_cli("--select", "DO102", str(p))) == {"DO102"}


def test_code_options_given_twice_add_up(df):
    # a second --select (or --ignore, --extend-select, --force-fix) adds to the first, as in ruff;
    # it used to replace it without a word
    p = df(APT_FIVE)
    assert codes_of(run_cli("--select", "DO101", "--select", "DO106", str(p))) == {"DO101", "DO106"}
    found = codes_of(run_cli("--ignore", "DO101", "--ignore", "DO106", str(p)))
    assert "DO101" not in found and "DO106" not in found and "DO102" in found
    assert codes_of(run_cli("--select", "DO101", "--extend-select", "DO102", "--extend-select", "DO106",
                            str(p))) == {"DO101", "DO102", "DO106"}
    go = df('FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /usr/local/bin/app .\nCMD ["app"]\n',
            "go/Dockerfile")
    forced = out(run_cli("--diff", "--unsafe-fixes", "--force-fix", "DO301", "--force-fix", "DO302", str(go)))
    assert "+FROM golang:1.22 AS build" in forced and "+USER 10001" in forced


def test_per_file_ignores_merge_and_replace(df, tmp_path):
    p = df(APT_FIVE)
    (tmp_path / ".dockopt.toml").write_text('[per-file-ignores]\n"Dockerfile" = ["DO101"]\n')
    assert "DO101" not in codes_of(run_cli(str(p)))
    merged = codes_of(run_cli("--extend-per-file-ignores", "Dockerfile:DO102", str(p)))
    assert not merged & {"DO101", "DO102"} and "DO106" in merged
    replaced = codes_of(run_cli("--per-file-ignores", "Dockerfile:DO102", str(p)))
    assert "DO101" in replaced and "DO102" not in replaced


# --------------------------------------------------------------------------- 4. ruff's and hadolint's options


def test_exit_zero(df):
    p = df(APT_FIVE)
    for mode in ([], ["--check"], ["--diff"]):
        r = run_cli(*mode, "--exit-zero", str(p))
        assert r.returncode == 0 and b"DO101" in r.stdout + r.stderr
    assert run_cli("--exit-zero", str(df("FROM x\n\nENV a=b c\n", "Broken.Dockerfile"))).returncode == 2


def test_fail_level_and_configured_severity(df, tmp_path):
    p = df(APT_FIVE)
    # DO101 and DO106 are info, DO102 and DO302 warnings: nothing reaches "error"
    r = run_cli("--fail-level", "error", str(p))
    assert r.returncode == 0 and b"DO101" in r.stdout
    assert run_cli("--fail-level", "warning", "--select", "DO101,DO106", str(p)).returncode == 0
    assert run_cli("--fail-level", "warning", str(p)).returncode == 1
    (tmp_path / ".dockopt.toml").write_text('fail-level = "error"\n[severity]\nDO1 = "error"\n')
    r = run_cli("--format", "json", str(p))
    assert r.returncode == 1
    severities = {f["code"]: f["severity"] for f in json.loads(r.stdout)["files"][0]["findings"]}
    assert severities["DO101"] == "error" and severities["DO302"] == "warning"


def test_statistics_counts_per_rule(df):
    r = run_cli("--statistics", str(df(APT_FIVE)))
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["2", "DO106", "[*?]", "apt-no-install-recommends"] or \
        lines[0].split()[:2] == ["2", "DO106"]
    assert any(line.split()[:3] == ["1", "DO101", "[*]"] for line in lines)
    assert not LOCATION.search(r.stdout.decode())  # no finding lines


def test_show_fixes_lists_each_fix_located_in_the_input(df):
    p = df(APT_FIVE)
    r = run_cli("--show-fixes", str(p))
    text = r.stdout.decode()
    assert "Fixes --write applies:" in text
    assert f"  {p}:2:1: DO101 Merge 5 RUN instructions" in text
    w = run_cli("--write", "--show-fixes", str(p)).stdout.decode()
    assert "Fixed:" in w and f"  {p}:2:1: DO101 Merge 5 RUN instructions" in w


def test_full_output_shows_the_source_lines(df):
    p = df(APT_FIVE)
    text = run_cli("--output-format", "full", str(p)).stdout.decode()
    assert "3 | RUN apt-get install -y jq\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^ DO106 (info)" in text
    assert "= unsafe fix, with --unsafe-fixes: Add --no-install-recommends" in text
    assert "2 | RUN apt-get update\n" in text  # the input's lines, not the rewrite's


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["--fail-level", "fatal"], "argument --fail-level: invalid choice: 'fatal'"),
    (["--output-format", "long"], "argument --output-format: invalid choice: 'long'"),
    (["--backend", "podman"], "argument --backend: invalid choice: 'podman'"),
    (["--liveness", "-1"], "--liveness must not be negative"),
    (["--verify-budget", "-5"], "--verify-budget must not be negative"),
    (["--timeout", "0"], "--timeout must be a positive number of seconds"),
    (["--timeout", "-5"], "--timeout must be a positive number of seconds"),
    (["--repeat", "0"], "--repeat must be 1 or more"),
    (["--repeat", "two"], "argument --repeat: invalid int value: 'two'"),
    (["--bogus-flag"], "unrecognized arguments: --bogus-flag"),
    (["--explain", ""], "--explain: give a rule code, such as DO101"),
    # the --verify options do nothing without it: an error rather than silently nothing
    (["--smoke", "true"], "--smoke only works with --verify"),
    (["--target", "app", "--build-arg", "X=1"], "--target, --build-arg only work with --verify"),
    (["--check", "--timeout", "60"], "--timeout only works with --verify"),
    (["--explain", "DO1"], "--explain: DO1 names several rules"),
])
def test_an_invalid_option_value_is_an_error(df, args, message):
    """Checked before anything is read or built: one line naming the option, exit 2."""
    r = run_cli(*args, str(df(CLEAN)))
    assert r.returncode == 2, out(r)
    assert message in r.stderr.decode() and r.stdout == b""
    assert b"Traceback" not in r.stderr


def test_full_output_of_a_crlf_file_with_a_bom_is_the_same(df):
    """Windows line ends and a byte-order mark change nothing shown: no BOM before FROM, carets
    as long as the instruction."""
    plain = run_cli("--output-format", "full", str(df(APT_FIVE, "a/Dockerfile"))).stdout
    windows = run_cli("--output-format", "full", str(df("\ufeff" + APT_FIVE.replace("\n", "\r\n"), "b/Dockerfile")))
    assert windows.stdout.replace(b"b/Dockerfile", b"a/Dockerfile") == plain
    assert b"1 | FROM debian:bookworm\n  | " + b"^" * len("FROM debian:bookworm") + b" DO302" in plain


def test_text_only_options_are_refused_with_other_formats(df):
    r = run_cli("--format", "json", "--statistics", str(df(FIVE_RUNS)))
    assert r.returncode == 2 and b"--statistics" in r.stderr


def test_force_color_and_no_color(df):
    p = df(FIVE_RUNS)
    r = run_cli("--select", "DO101", str(p), env={"FORCE_COLOR": "1"})
    assert b"\x1b[" in r.stdout
    r = run_cli("--diff", "--select", "DO101", str(p), env={"FORCE_COLOR": "1"})
    assert b"\x1b[32m+" in r.stdout  # a green addition
    r = run_cli("--diff", "--select", "DO101", str(p), env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert b"\x1b[" not in r.stdout + r.stderr
    assert b"\x1b[" not in run_cli(str(p)).stdout  # a pipe gets no colour by default


def test_unused_suppression_is_reported_and_fixed(df):
    text = ("FROM debian:bookworm-slim\n# dockopt: ignore=DO106,DO101\n"
            "RUN apt-get install -y --no-install-recommends jq\nRUN echo\nUSER nobody\n")
    p = df(text)
    r = run_cli(str(p))
    assert f"{p}:2:19: DO900 unused suppression: DO106 (no such finding below) [*]" in r.stdout.decode()
    assert "DO101" not in codes_of(r)  # DO101 is used: the two RUNs stay apart
    run_cli("--write", "--ignore", "DO102", str(p))
    assert p.read_text() == text.replace("DO106,DO101", "DO101")
    p2 = df("FROM debian:bookworm-slim\n# dockopt: ignore=DO106\nRUN echo hi\nUSER nobody\n", "b/Dockerfile")
    run_cli("--write", str(p2))
    assert p2.read_text() == "FROM debian:bookworm-slim\nRUN echo hi\nUSER nobody\n"


def test_unused_suppression_ignores_rules_that_do_not_run(df):
    p = df("FROM debian:bookworm-slim\n# dockopt: ignore=DO106\nRUN apt-get install -y jq\nUSER nobody\n")
    assert "DO900" not in codes_of(run_cli("--select", "DO101,DO900", str(p)))
    assert "DO900" not in codes_of(run_cli(str(p)))  # used
    # used although no finding sits below it: without it, merge-runs merges the RUN above too
    p2 = df("FROM debian:bookworm-slim\nRUN a\n# dockopt: ignore=DO101\nRUN b\nUSER nobody\n", "m/Dockerfile")
    assert "DO900" not in codes_of(run_cli(str(p2)))
    assert run_cli("--check", str(p2)).returncode == 0


def test_hadolint_ignore_comments_are_honoured(df):
    p = df("FROM debian:bookworm-slim\nUSER nobody\n# hadolint ignore=DL3059,DL3008\nRUN echo a\nRUN echo b\n")
    assert "DO101" not in codes_of(run_cli(str(p)))
    assert run_cli("--check", str(p)).returncode == 0  # nothing merged either
    p2 = df("# hadolint global ignore=DL3015\nFROM debian:bookworm-slim\nUSER nobody\n"
            "RUN apt-get update && apt-get install -y jq && rm -rf /var/lib/apt/lists/*\n", "g/Dockerfile")
    assert "DO106" not in codes_of(run_cli(str(p2)))


# --------------------------------------------------------------------------- 5. suppression anchors


@pytest.mark.parametrize("where", ["FROM", "USER", "last"])
def test_a_stage_finding_is_suppressed_where_people_put_it(df, where):
    lines = ["FROM debian:bookworm-slim", "COPY app /app", "USER root", 'CMD ["/app"]']
    at = {"FROM": 0, "USER": 2, "last": 3}[where]
    lines.insert(at, "# dockopt: ignore=DO302")
    p = df("\n".join(lines) + "\n")
    r = run_cli(str(p))
    assert "DO302" not in codes_of(r) and "DO900" not in codes_of(r), out(r)
    assert "DO302" in codes_of(run_cli(str(df("\n".join(lines).replace("# dockopt: ignore=DO302", "# x") + "\n",
                                              "other/Dockerfile"))))


def test_hadolint_dl3002_above_user_root_silences_do302(df):
    p = df("FROM debian:bookworm-slim\n# hadolint ignore=DL3002\nUSER root\n")
    assert "DO302" not in codes_of(run_cli(str(p)))


# --------------------------------------------------------------------------- 6. bad input that still fails


def test_500_chained_commands_and_500_runs(df):
    chained = "FROM debian:bookworm-slim\nRUN true" + "".join(f" && echo {i}" for i in range(500)) + "\nUSER nobody\n"
    runs = "FROM debian:bookworm-slim\n" + "".join(f"RUN echo {i}\n" for i in range(500)) + "USER nobody\n"
    for text in (chained, runs):
        p = df(text)
        r = run_cli("--write", str(p))
        assert r.returncode in (0, 1), out(r)
        assert b"RecursionError" not in r.stderr + r.stdout and b"internal error" not in r.stderr
    assert p.read_text().count("RUN ") == 1  # the 500 RUNs are one


def test_absurdly_deep_shell_nesting_is_a_clear_error(df):
    """300 nested command substitutions: the analysis cannot follow them; one line saying so
    (not an internal error), exit 2, the file left alone; 100 levels are analysed."""
    p = df("FROM debian\nRUN echo " + "$(echo " * 300 + "x" + ")" * 300 + "\n")
    before = p.read_bytes()
    r = run_cli("--write", str(p))
    assert r.returncode == 2 and p.read_bytes() == before
    assert f"{p}: nested too deeply to analyse" in r.stderr.decode()
    assert b"internal error" not in r.stderr and b"Traceback" not in r.stderr
    assert run_cli(str(df("FROM debian\nRUN " + "if true; then " * 100 + "true" + "; fi" * 100 + "\n",
                          "ok/Dockerfile"))).returncode != 2


def test_latin1_byte_in_a_comment_is_read_and_written_back(tmp_path):
    p = tmp_path / "Dockerfile"
    raw = b"FROM debian:bookworm\n# caf\xe9 au lait\nRUN apt-get update\nRUN apt-get install -y jq\n"
    p.write_bytes(raw)
    r = run_cli(str(p))
    assert r.returncode == 1 and b"DO101" in r.stdout
    r = run_cli("--diff", str(p))
    assert b"# caf\xe9 au lait" in r.stdout  # the diff shows the byte as it is
    run_cli("--write", "--select", "DO101", str(p))
    written = p.read_bytes()
    assert b"# caf\xe9 au lait\n" in written and written.count(b"RUN") == 1
    assert run_cli("--check", "--select", "DO101", str(p)).returncode == 0


def test_non_utf8_byte_in_a_command_round_trips(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_bytes(b"FROM x\nRUN echo \xff\nRUN echo b\n")
    r = run_cli("--format", "json", "--select", "DO101", str(p))
    assert r.returncode == 1 and json.loads(r.stdout)["files"][0]["error"] is None
    run_cli("--write", "--unsafe-fixes", "--select", "DO101", str(p))   # two echos: a merge saves nothing
    assert p.read_bytes() == b"FROM x\nRUN echo \xff && \\\n    echo b\n"


@pytest.mark.parametrize(("text", "message"), [
    ("RUN echo hi\nFROM debian\n", "1:1: no build stage in current context: RUN before the first FROM"),
    ("ARG V=1\nLABEL a=b\nFROM debian\n", "2:1: no build stage in current context: LABEL before the first FROM"),
    ("ARG V=1\n", "1:1: the file has no FROM"),
])
def test_instructions_before_from_are_errors(df, text, message):
    p = df(text)
    r = run_cli(str(p))
    assert r.returncode == 2
    assert f"{p}:{message}" in r.stderr.decode()
    assert run_cli(str(df("ARG V=1\nFROM debian:$V\nUSER nobody\n", "ok/Dockerfile"))).returncode != 2


def test_directory_walk_honours_gitignore_and_exclude(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for rel in ["Dockerfile", "build/Dockerfile", "vendor/x/Dockerfile", "docs/Dockerfile", "keep/Dockerfile.dev"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(CLEAN)
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "vendor" / ".gitignore").write_text("x/\n")

    def walked(*args):
        doc = json.loads(run_cli("--format", "json", *args, ".", cwd=tmp_path).stdout)
        return sorted(f["path"] for f in doc["files"])

    assert walked() == ["Dockerfile", "docs/Dockerfile", "keep/Dockerfile.dev"]
    assert walked("--exclude", "docs,*.dev") == ["Dockerfile"]
    assert "build/Dockerfile" in walked("--no-respect-gitignore")
    (tmp_path / ".dockopt.toml").write_text('exclude = ["keep/"]\n')
    assert walked() == ["Dockerfile", "docs/Dockerfile"]
    # a file named on the command line is read, unless --force-exclude
    named = run_cli("--format", "json", "docs/Dockerfile", "--exclude", "docs", cwd=tmp_path)
    assert named.stdout.count(b'"path"') == 1
    r = run_cli("--format", "json", "--force-exclude", "--exclude", "docs", "docs/Dockerfile", cwd=tmp_path)
    assert json.loads(r.stdout)["files"] == []


# --------------------------------------------------------------------------- 7. output contracts


def test_github_format_locates_errors_in_line_and_col(df):
    p = df("FROM x\n\nENV a=b c\n")
    r = run_cli("--format", "github", str(p))
    assert r.returncode == 2
    line = r.stdout.decode().strip()
    assert re.fullmatch(r"::error file=[^,]+,line=3,col=1,title=dockopt::Syntax error.*", line), line


def test_github_levels_follow_severity(df):
    r = run_cli("--format", "github", str(df(APT_FIVE)))
    text = r.stdout.decode()
    assert "::notice file=" in text and ",title=DO101::" in text  # info
    assert re.search(r"::warning file=[^\n]*title=DO302::", text)


def test_verify_json_belongs_to_the_schema_family(df):
    r = run_cli("--verify", "--format", "json", str(df(CLEAN)))
    assert r.returncode == 0, out(r)
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["mode"] == "verify" and doc["tool"]["name"] == "dockopt"
    [entry] = doc["files"]
    assert entry["verify"] is None and entry["message"].startswith("no fixes apply")
    assert entry["changed"] is False and entry["findings"] == []


NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def test_verify_json_without_an_engine_still_says_why(df):
    """The engine is down: --verify --format json still writes the versioned document, `verify`
    (or with --write/--diff `proof`) null and `message` why; with --diff on stderr, alone."""
    from test_report import validate_json_output

    p = df(APT_FIVE)
    r = run_cli("--verify", "--format", "json", str(p), env=NO_ENGINE)
    assert r.returncode == 2
    [entry] = validate_json_output(r.stdout.decode())["files"]
    assert entry["verify"] is None and "no Docker engine reachable" in entry["message"]
    r = run_cli("--verify", "--diff", "--format", "json", str(p), env=NO_ENGINE)
    assert r.returncode == 2 and r.stdout == b""
    doc = validate_json_output(r.stderr.decode())
    [entry] = doc["files"]
    assert doc["mode"] == "verify" and entry["proof"] is None and "no Docker engine reachable" in entry["message"]
    r = run_cli("--verify", "--write", "--format", "json", str(p), env=NO_ENGINE)
    assert r.returncode == 2 and validate_json_output(r.stdout.decode())["files"][0]["proof"] is None
    assert p.read_text() == APT_FIVE
    # nothing to verify: with --diff, the document is on stderr too
    r = run_cli("--verify", "--diff", "--format", "json", str(df(CLEAN, "clean/Dockerfile")), env=NO_ENGINE)
    assert r.returncode == 0 and r.stdout == b""
    assert validate_json_output(r.stderr.decode())["files"][0]["message"].startswith("no fixes apply")


@pytest.mark.parametrize("fmt", ["json", "sarif", "checkstyle", "junit"])
def test_a_report_on_stderr_is_all_stderr_holds(tmp_path, fmt):
    """--diff with a machine format: a file that cannot be parsed, notes about held-back fixes
    and warnings do not get mixed into the report on stderr; the error is in the report."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(APT_FIVE)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_text("FROM x\n\nENV a=b c\n")
    (tmp_path / "empty").mkdir()
    args = ("--diff", "--unsafe-fixes", "--format", fmt, str(tmp_path), str(tmp_path / "empty"))
    r = run_cli(*args)
    assert r.returncode == 2 and r.stdout.startswith(b"--- "), out(r)
    report = r.stderr.decode()
    if fmt in ("json", "sarif"):
        doc = json.loads(report)
        if fmt == "json":
            broken = doc["files"][1]
            assert broken["error"].startswith("Syntax error") and broken["error_location"]["line"] == 3
    else:
        ElementTree.fromstring(report.encode())
    assert "Syntax error" in report  # the error is reported, in the report
    # a text report keeps its notes and error lines
    text = run_cli(*args[:3], "text", *args[4:]).stderr.decode()
    assert f"{tmp_path}/b/Dockerfile:3:1: Syntax error" in text and "note: DO302" in text
    assert "warning: no Dockerfile found" in text


def test_many_files_give_the_same_results_as_one_at_a_time(tmp_path):
    """A directory of many files is checked on every CPU; the output is the same, in order."""
    texts = [FIVE_RUNS, APT_FIVE, CLEAN, "FROM x\n\nENV a=b c\n"]
    for i in range(20):
        (tmp_path / f"s{i:02d}").mkdir()
        (tmp_path / f"s{i:02d}" / "Dockerfile").write_text(texts[i % 4])
    whole = json.loads(run_cli("--format", "json", str(tmp_path)).stdout)
    assert [f["path"] for f in whole["files"]] == [str(tmp_path / f"s{i:02d}" / "Dockerfile") for i in range(20)]
    for i in (0, 1, 3):
        alone = json.loads(run_cli("--format", "json", str(tmp_path / f"s{i:02d}" / "Dockerfile")).stdout)
        assert whole["files"][i] == alone["files"][0]
    assert whole["summary"]["errors"] == 5


def test_json_applicable_and_resolved_as_documented(df):
    """A plain report plans the fixes too: `applicable` is true where --write applies the rule's
    fix, `resolved` where the finding goes away (DO102's own fix is never applied: the merge of
    DO101 makes it moot)."""
    p = df(APT_FIVE)
    report = json.loads(run_cli("--format", "json", str(p)).stdout)
    check = json.loads(run_cli("--check", "--format", "json", str(p)).stdout)
    assert report["files"] == check["files"]
    found = {f["code"]: f for f in report["files"][0]["findings"]}
    assert found["DO101"]["fix"]["applicable"] and found["DO101"]["resolved"]
    assert not found["DO102"]["fix"]["applicable"] and found["DO102"]["resolved"]
    assert not found["DO106"]["fix"]["applicable"] and not found["DO106"]["resolved"]  # unsafe: held back
    assert report["summary"]["fixable"] == 2 and report["summary"]["unsafe_fixes_hidden"] == 4

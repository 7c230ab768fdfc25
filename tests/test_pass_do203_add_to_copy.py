"""DO203 add-to-copy: ADD of local files that are not archives becomes COPY."""
from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from test_pass_do2_common import findings, fix, fix_of, make_context

from dockopt.findings import Safety
from dockopt.passes.add_to_copy import AddToCopy

P = [AddToCopy]


def _tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"hello\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_local_script_becomes_copy(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"greet.sh": "echo hi\n"})
    assert fix("FROM x\nADD greet.sh /opt/app/greet.sh\n", P, context=ctx).text == \
        "FROM x\nCOPY greet.sh /opt/app/greet.sh\n"


def test_flags_and_several_sources_and_directories(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.conf": "x", "conf.d/b.conf": "y"})
    out = fix("FROM x\nADD --chown=app:app --chmod=644 a.conf conf.d/ /etc/app/\n", P, context=ctx).text
    assert out == "FROM x\nCOPY --chown=app:app --chmod=644 a.conf conf.d/ /etc/app/\n"


def test_whole_context_and_json_form(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.py": "1\n"})
    assert fix("FROM x\nADD . /app\n", P, context=ctx).text == "FROM x\nCOPY . /app\n"
    assert fix('FROM x\nADD ["a.py", "/app/"]\n', P, context=ctx).text == 'FROM x\nCOPY ["a.py", "/app/"]\n'


def test_keyword_case_is_kept(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.sh": "x"})
    assert fix("from x\nadd a.sh /a.sh\n", P, context=ctx).text == "from x\ncopy a.sh /a.sh\n"


@pytest.mark.parametrize("line", [
    "ADD https://example.com/tool.sh /usr/local/bin/tool",
    "ADD git@github.com:moby/buildkit.git /src",
    "ADD https://github.com/moby/buildkit.git#v0.12.0 /src",
    "ADD rootfs.tar.xz /",
    "ADD app.tgz /opt/",
    "ADD data.tar /data/",
    "ADD pkg.bz2 /opt/",
    "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://e.com/x /x",
    "ADD --keep-git-dir=true https://github.com/a/b.git /src",
    "ADD $SRC /app",
])
def test_add_does_more_than_copy(tmp_path: Path, line: str) -> None:
    ctx = make_context(tmp_path, {"rootfs.tar.xz": "x", "app.tgz": "x", "data.tar": "x", "pkg.bz2": "x"})
    assert findings(f"FROM x\n{line}\n", P, context=ctx) == []


def test_archive_recognised_by_content_stays_add(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"layer": _tar_bytes(), "blob": gzip.compress(b"x" * 100),
                                  "notes": "plain text\n"})
    assert findings("FROM x\nADD layer /\n", P, context=ctx) == []
    assert findings("FROM x\nADD blob /opt/\n", P, context=ctx) == []
    [f] = findings("FROM x\nADD notes /opt/\n", P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE


def test_wildcard_sources_are_checked_file_by_file(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"a.sh": "x", "b.sh": _tar_bytes()})
    assert findings("FROM x\nADD *.sh /bin/\n", P, context=ctx) == []
    (ctx / "b.sh").write_text("echo\n")
    [f] = findings("FROM x\nADD *.sh /bin/\n", P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE


def test_zip_is_not_unpacked_by_add(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"site.zip": b"PK\x03\x04rest"})
    assert fix("FROM x\nADD site.zip /srv/\n", P, context=ctx).text == "FROM x\nCOPY site.zip /srv/\n"


def test_without_a_context_known_extensions_are_safe_and_others_unsafe() -> None:
    [f] = findings("FROM x\nADD run.sh /run.sh\n", P)
    assert fix_of(f).safety is Safety.SAFE
    [f] = findings("FROM x\nADD rootfs /\n", P)
    assert fix_of(f).safety is Safety.UNSAFE and "could not be checked" in f.message
    assert fix("FROM x\nADD rootfs /\n", P).text == "FROM x\nADD rootfs /\n"
    assert fix("FROM x\nADD rootfs /\n", P, unsafe=True).text == "FROM x\nCOPY rootfs /\n"


def test_heredoc_and_onbuild_are_left_alone() -> None:
    assert findings("FROM x\nADD <<EOF /a.txt\nhi\nEOF\n", P) == []
    assert findings("FROM x\nONBUILD ADD a.sh /a.sh\n", P) == []


def test_project_corpus_cases(tmp_path: Path) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "corpus"
    if not root.is_dir():
        pytest.skip("no corpus/")
    case = root / "28-generic-add-and-chown"
    [f] = findings((case / "Dockerfile").read_text(), P, context=case)
    assert fix_of(f).safety is Safety.SAFE
    for name in ("29-generic-files-deleted-later", "35-generic-gem-docs", "05-apt-single-run-clean"):
        assert findings((root / name / "Dockerfile").read_text(), P, context=root / name) == []


def test_without_a_context_a_wildcard_that_may_match_an_archive_stays_add() -> None:
    assert findings("FROM x\nADD archived.txt* /opt/\n", P) == []
    assert findings("FROM x\nADD data-? /opt/\n", P) == []
    [f] = findings("FROM x\nADD *.sh /usr/local/bin/\n", P)
    assert fix_of(f).safety is Safety.SAFE


@pytest.mark.parametrize("line", [
    "ADD --chmod 777 a.sh /tmp",            # BuildKit: missing a value on flag --chmod
    "ADD --chown 2367:3267 a.sh /tmp",
    "ADD a.sh b.sh /opt/app",               # several sources need a directory ending in '/'
    "ADD a.sh b.sh ..",
])
def test_instruction_buildkit_rejects_is_left_alone(line: str) -> None:
    assert findings(f"FROM x\nWORKDIR /w\n{line}\n", P) == []


def test_several_sources_into_dot_become_dot_slash() -> None:
    assert fix("FROM x\nWORKDIR /w\nADD a.sh b.sh .\n", P).text == "FROM x\nWORKDIR /w\nCOPY a.sh b.sh ./\n"


def test_relative_destination_from_scratch_is_made_absolute() -> None:
    assert fix("FROM scratch\nADD . .\nADD conf/ etc/app\nADD a.sh b\n", P).text == \
        "FROM scratch\nCOPY . /\nCOPY conf/ /etc/app\nCOPY a.sh /b\n"
    # a stage built from a scratch stage of the file starts in '/' too
    assert fix("FROM scratch AS s\nFROM s\nADD a.sh bin/\n", P).text == "FROM scratch AS s\nFROM s\nCOPY a.sh /bin/\n"


def test_relative_destination_under_an_unknown_workdir_is_reported_without_a_fix() -> None:
    [f] = findings("FROM registry.example.com/debian\nADD a.sh a.sh\n", P)
    assert f.fix is None and "relative to the base image's WORKDIR" in f.message
    # an official image whose WORKDIR dockopt knows (debian starts in /, golang in /go)
    assert fix("FROM debian\nADD a.sh a.sh\n", P).text == "FROM debian\nCOPY a.sh /a.sh\n"
    assert fix("FROM golang:1.22\nADD a.sh bin/\n", P).text == "FROM golang:1.22\nCOPY a.sh /go/bin/\n"
    [f] = findings('FROM scratch\nADD ["a.sh", "b"]\n', P)
    assert f.fix is None and "`/b`" in f.message
    # a WORKDIR in the stage, or in a stage it is built from, makes the destination clear
    assert fix("FROM debian\nWORKDIR /w\nADD a.sh a.sh\n", P).text == "FROM debian\nWORKDIR /w\nCOPY a.sh a.sh\n"
    assert fix("FROM debian AS b\nWORKDIR /w\nFROM b\nADD a.sh a.sh\n", P).text.endswith("COPY a.sh a.sh\n")
    # absolute, variable and Windows destinations are not relative
    for dest in ("/opt/a.sh", "$DEST", "C:/tools/a.sh"):
        assert fix(f"FROM debian\nADD a.sh {dest}\n", P).text == f"FROM debian\nCOPY a.sh {dest}\n"

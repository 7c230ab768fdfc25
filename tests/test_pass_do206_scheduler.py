"""DO206 stable-steps-first: a RUN that reads nothing of the build context moves above the copy of
it; what reads the copy, depends on an ENV/ARG/WORKDIR/USER in between, or runs a command the
shell model does not know stays (the last reported without fix). Over the project's corpus, the
safe rewrite never re-runs more steps after a source edit than the original."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_pass_do2_common import d, findings, fix, fix_of, make_context

from dockopt import parse
from dockopt.facts import FileFacts
from dockopt.findings import Finding, Safety
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.merge_runs import MergeRuns
from dockopt.passes.scheduler import Scheduler

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

P = [Scheduler]
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def only(text: str, context: Path | None = None) -> Finding:
    out = findings(text, P, context=context)
    assert len(out) == 1, out
    return out[0]


def rebuild_steps(text: str, source: str, context: Path | None = None) -> int:
    return FileFacts(parse(text), None, context).rebuild.steps(source)


def test_install_below_the_source_copy_moves_above_it(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"app.py": "print(1)\n", "requirements.txt": "flask==3.0.0\n"})
    text = d("""\
        FROM python:3.11-slim
        WORKDIR /app
        COPY . .
        # system libraries
        RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
            && rm -rf /var/lib/apt/lists/*
        RUN pip install -r requirements.txt
        CMD ["python", "app.py"]
        """)
    f = only(text, ctx)
    assert f.line == 5 and fix_of(f).safety is Safety.SAFE and "move it above line 3" in f.message
    out = fix(text, P, context=ctx).text
    assert out == d("""\
        FROM python:3.11-slim
        WORKDIR /app
        # system libraries
        RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
            && rm -rf /var/lib/apt/lists/*
        COPY . .
        RUN pip install -r requirements.txt
        CMD ["python", "app.py"]
        """)
    # an edit of app.py re-ran the install, the copy and pip; now the copy and pip only
    assert rebuild_steps(text, "app.py", ctx) == 3 and rebuild_steps(out, "app.py", ctx) == 2


def test_user_creation_and_fixed_downloads_move_in_their_order() -> None:
    text = d("""\
        FROM debian:bookworm-slim
        COPY . /src
        RUN useradd --create-home app
        RUN curl -fsSL -o /usr/local/bin/jq https://example.com/jq-1.7 && chmod +x /usr/local/bin/jq
        RUN pip install gunicorn==21.2.0
        CMD ["/src/run.sh"]
        """)
    assert [f.line for f in findings(text, P)] == [3, 4, 5]
    assert fix(text, P).text == d("""\
        FROM debian:bookworm-slim
        RUN useradd --create-home app
        RUN curl -fsSL -o /usr/local/bin/jq https://example.com/jq-1.7 && chmod +x /usr/local/bin/jq
        RUN pip install gunicorn==21.2.0
        COPY . /src
        CMD ["/src/run.sh"]
        """)


@pytest.mark.parametrize("run", [
    "pip install -r requirements.txt",           # reads a copied manifest
    "cp config/default.ini /etc/app.ini",         # copies a copied file
    "tar -xzf assets.tar.gz -C /srv",             # extracts a copied archive
    "cd sub",                                     # fails without the copied directory
    "mkdir -p /app/logs",                         # writes into the copied tree
    "pip install .[ssh]",                         # installs the copied project (with extras)
])
def test_a_run_that_uses_the_copied_files_stays(run: str) -> None:
    assert findings(f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {run}\n", P) == []


def test_a_run_that_the_installs_between_use_stays() -> None:
    # both write /usr: the two installs keep their order, and neither crosses the other
    text = ("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
            "RUN apt-get install -y curl\n")
    assert findings(text, P) == []


def test_env_and_arg_between_move_up_with_the_run() -> None:
    text = d("""\
        FROM debian:bookworm-slim
        WORKDIR /src
        COPY . .
        ARG CURL_VERSION=7.88.1-10
        ENV DEBIAN_FRONTEND=noninteractive
        RUN apt-get update && apt-get install -y "curl=${CURL_VERSION}"
        """)
    f = only(text)
    assert "with the ARG/ENV at line 4, 5" in f.message
    assert fix(text, P).text == d("""\
        FROM debian:bookworm-slim
        WORKDIR /src
        ARG CURL_VERSION=7.88.1-10
        ENV DEBIAN_FRONTEND=noninteractive
        RUN apt-get update && apt-get install -y "curl=${CURL_VERSION}"
        COPY . .
        """)


def test_an_env_the_copy_reads_is_not_moved_and_keeps_the_run_below() -> None:
    text = "FROM debian\nENV DEST=/opt/app\nCOPY . $DEST\nENV DEST=/srv/data\nRUN mkdir -p /srv/data\n"
    assert findings(text, P) == []


def test_an_env_a_run_between_would_see_keeps_the_run_below() -> None:
    text = ("FROM debian\nCOPY . /src\nRUN mkdir -p /var/log/app\nENV PIP_INDEX_URL=https://mirror.example/simple\n"
            "RUN pip install requests==2.31.0\n")
    # the mkdir moves first, so the ENV then crosses the COPY alone
    assert [f.line for f in findings(text, P)] == [3, 5]
    text = ("FROM debian\nCOPY . /src\nRUN mkdir -p /src/logs\nENV PIP_INDEX_URL=https://mirror.example/simple\n"
            "RUN pip install requests==2.31.0\n")
    # the mkdir writes into the copy and stays: the ENV would move above a RUN that does not see it
    assert findings(text, P) == []


def test_workdir_is_crossed_only_by_a_run_that_names_no_relative_path() -> None:
    text = d("""\
        FROM debian:bookworm-slim
        COPY . /src
        WORKDIR /build
        RUN curl -fsSLO https://example.com/tool.tgz
        RUN apt-get update && apt-get install -y make
        """)
    f = only(text)
    assert f.line == 5
    assert fix(text, P).text.splitlines()[1:4] == [
        "RUN apt-get update && apt-get install -y make", "COPY . /src", "WORKDIR /build"]


def test_user_is_never_crossed() -> None:
    assert findings("FROM debian\nCOPY . /src\nUSER nobody\nRUN mkdir -p /tmp/cache\n", P) == []


def test_an_unmodelled_command_gets_no_fix_and_says_why() -> None:
    f = only("FROM debian\nCOPY . /src\nRUN /usr/local/bin/vendor-setup --quiet\n")
    assert f.fix is None and "`vendor-setup` is not modelled" in f.message
    assert fix("FROM debian\nCOPY . /src\nRUN /usr/local/bin/vendor-setup --quiet\n", P, unsafe=True).text == \
        "FROM debian\nCOPY . /src\nRUN /usr/local/bin/vendor-setup --quiet\n"


@pytest.mark.parametrize("run", ["/src/scripts/install.sh", "npm run build", "make"])
def test_an_unmodelled_command_that_plainly_uses_the_copy_is_not_reported(run: str) -> None:
    assert findings(f"FROM node:18\nWORKDIR /src\nCOPY . .\nRUN {run}\n", P) == []


def test_a_copied_program_on_the_path_is_not_reported() -> None:
    assert findings("FROM debian\nCOPY check.sh /usr/local/bin/check\nRUN check > /etc/report.txt\n", P) == []


def test_a_chown_copy_keeps_a_useradd_below_it() -> None:
    # COPY --chown=app looks the user up: a useradd below it may not move above it
    assert findings("FROM debian\nCOPY --chown=app . /src\nRUN useradd app\n", P) == []


def test_landing_below_an_apt_install_lets_do101_merge_the_two() -> None:
    text = d("""\
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates
        COPY . /app
        RUN apt-get update && apt-get install -y --no-install-recommends curl
        CMD ["/app/run.sh"]
        """)
    out = fix_text(text, Linter([MergeRuns, Scheduler])).text
    runs = [line for line in out.splitlines() if line.startswith("RUN")]
    assert len(runs) == 1 and out.index("curl") < out.index("COPY . /app")


def test_a_run_whose_file_a_later_run_deletes_stays_for_the_merge() -> None:
    # /tmp/numbers.txt is temporary: moved above the copy, the RUN making it would be a layer of
    # its own that keeps its bytes; left in place, DO101 merges it with the RUN that deletes it.
    text = d("""\
        FROM debian:bookworm-slim
        COPY words.txt /tmp/words.txt
        RUN seq 1 300000 > /tmp/numbers.txt
        RUN awk '{ s += $1 } END { print s }' /tmp/numbers.txt > /opt/sum.txt
        RUN rm -f /tmp/numbers.txt
        CMD ["cat", "/opt/sum.txt"]
        """)
    assert findings(text, P) == []
    out = fix_text(text, Linter([MergeRuns, Scheduler])).text
    [run] = [line for line in out.splitlines() if line.startswith("RUN")]
    assert run.startswith("RUN seq 1 300000 > /tmp/numbers.txt")


@pytest.mark.parametrize("run", [
    # the shell expands a glob against what is there: above the copy it lists nothing of the source
    'for f in conf/*.conf; do echo "include $f" >> /etc/app.conf; done',
    "echo * > /etc/all-files.txt",
    # a requirements file named by a variable: pip's model cannot say which file it reads
    'for d in plugins/*; do if [ -f "$d/requirements.txt" ]; then pip install -r "$d/requirements.txt"; fi; done',
    'pip install -r "$REQS"',
])
def test_a_run_whose_files_depend_on_the_copied_tree_stays(run: str) -> None:
    text = f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
    assert all(f.fix is None for f in findings(text, P)), run
    assert fix(text, P).text == text


def test_ctfd_plugin_requirements_stay_below_the_source_copy(tmp_path: Path) -> None:
    # CTFd's Dockerfile (field bench): the hoist splits the RUN, and the plugin loop that stays
    # must not then move above the source copy, where CTFd/plugins/* matches nothing
    ctx = make_context(tmp_path, {"requirements.txt": "flask\n", "CTFd/plugins/x/requirements.txt": "requests\n"})
    text = d("""\
        FROM python:3.11
        WORKDIR /opt/CTFd
        COPY . /opt/CTFd
        RUN pip install --no-cache-dir -r requirements.txt \\
            && for d in CTFd/plugins/*; do \\
                if [ -f "$d/requirements.txt" ]; then \\
                    pip install --no-cache-dir -r "$d/requirements.txt";\\
                fi; \\
            done;
        """)
    from dockopt.passes.hoist_deps import HoistDeps
    out = fix_text(text, Linter([HoistDeps, Scheduler, MergeRuns]), context_dir=ctx).text
    assert out.index("COPY . /opt/CTFd") < out.index("for d in CTFd/plugins/*"), out
    assert out.index("COPY requirements.txt") < out.index("COPY . /opt/CTFd")


# --------------------------------------------------------------------------- the corpus

def corpus_inputs() -> list[tuple[str, Path, str]]:
    out = []
    for case in sorted(CORPUS.glob("*/case.toml")):
        meta = tomllib.loads(case.read_text(encoding="utf-8"))
        for name in ("Dockerfile", "expert.Dockerfile"):
            if (case.parent / name).exists():
                out.append((f"{case.parent.name}/{name}", case.parent / name, meta["source_file"]))
    return out


@pytest.mark.parametrize("name,dockerfile,source", corpus_inputs(), ids=[c[0] for c in corpus_inputs()])
def test_corpus_safe_rewrite_never_reruns_more_after_a_source_edit(name: str, dockerfile: Path, source: str) -> None:
    text = dockerfile.read_text(encoding="utf-8")
    context = dockerfile.parent
    for linter in (Linter(P), Linter()):
        res = fix_text(text, linter, path=dockerfile, context_dir=context)
        before = FileFacts(parse(text), dockerfile, context).rebuild.steps(source)
        after = FileFacts(parse(res.text), dockerfile, context, dict(res.files)).rebuild.steps(source)
        assert after <= before, (name, res.text)


def test_do206_fires_in_the_corpus_and_lowers_the_rebuild() -> None:
    lowered = []
    for name, dockerfile, source in corpus_inputs():
        text = dockerfile.read_text(encoding="utf-8")
        res = fix_text(text, Linter(P), path=dockerfile, context_dir=dockerfile.parent)
        if res.changed:
            before = rebuild_steps(text, source, dockerfile.parent)
            after = rebuild_steps(res.text, source, dockerfile.parent)
            lowered.append((name, before, after))
    assert lowered and all(after <= before for _, before, after in lowered)
    assert any(after < before for _, before, after in lowered)


def test_a_file_written_into_a_directory_the_copy_creates_stays() -> None:
    # the COPY creates /home/user; the download into it needs that directory
    text = "FROM debian\nCOPY .rc /home/user/.rc\nRUN wget -O /home/user/ql.lisp https://example.com/ql.lisp\n"
    assert findings(text, P) == []
    # into a directory every base image has, it moves
    text = "FROM debian\nCOPY .rc /home/user/.rc\nRUN wget -O /usr/local/bin/ql https://example.com/ql\n"
    assert [f.line for f in findings(text, P)] == [3]


def test_a_listing_of_the_copied_directory_stays() -> None:
    assert findings("FROM debian\nWORKDIR /src\nCOPY . .\nRUN ls\n", P) == []


@pytest.mark.parametrize("text", [
    # a requirements file may include files the later copy brings (`-r requirements/base.txt`)
    "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\nCOPY requirements requirements\n"
    "RUN pip install -r requirements.txt\n",
    # `test -s` looks at a file the copy writes (through a symlink, too)
    "FROM debian\nCOPY Dockerfile /src/\nRUN test -s /src/Dockerfile\n",
    # yarn 1 reads the project's .yarnrc even for a global add
    "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN yarn global add @vue/cli\n",
])
def test_what_reads_the_copy_indirectly_stays(text: str) -> None:
    assert findings(text, P) == []


def test_a_copy_through_a_symbolic_link_is_not_crossed() -> None:
    text = ("FROM debian\nRUN ln -s /symlink /src && rm -rf /symlink\nCOPY Dockerfile /src/\n"
            "RUN test -s /symlink/Dockerfile\n")
    assert findings(text, P) == []


def test_a_chown_to_a_name_stays_below_the_install_that_may_create_it() -> None:
    text = ("FROM debian\nCOPY app.yml /srv/app.yml\nRUN apt-get install -y mta-sts\n"
            "RUN mkdir /var/run/mta && chown -R _mta-sts:root /var/run/mta\n")
    # the install moves; the chown follows it only once it no longer has to cross it
    assert [f.line for f in findings(text, P)] == [3, 4]
    out = fix(text, P).text
    assert out.index("apt-get install") < out.index("chown") < out.index("COPY app.yml")
    # an install of a copied package stays; the chown to a user it may create stays below it
    text = "FROM debian\nCOPY . /src\nRUN apt-get install -y /src/mta-sts.deb\nRUN chown -R _mta-sts /srv/data\n"
    assert findings(text, P) == []


def test_a_directory_the_workdir_made_is_not_the_copys() -> None:
    # /work exists (WORKDIR made it): the copy into /work/sub creates nothing a write into /work needs
    text = "FROM busybox\nWORKDIR /work\nCOPY sub/ sub/\nRUN touch marker\n"
    assert [f.line for f in findings(text, P)] == [4]


def test_a_relative_word_in_a_directory_only_the_base_knows_is_not_reported() -> None:
    text = "ARG BASE\nFROM ${BASE}\nCOPY ci/env.txt /arrow/ci/\nRUN mamba install -y --file arrow/ci/env.txt\n"
    assert findings(text, P) == []


def test_moved_heredoc_runs_keep_a_blank_line_after_each_terminator(tmp_path: Path) -> None:
    # BuildKit reads `EOF` followed at once by the next instruction; hadolint's parser does not
    # (DL1000), so a move never puts an instruction right after a heredoc's terminator
    ctx = make_context(tmp_path, {"conf/a.conf": "a\n"})
    text = d("""\
        FROM debian:bookworm-slim
        RUN <<EOF
          mkdir -p /etc/app
        EOF
        COPY conf/a.conf /etc/app/a.conf
        RUN <<EOF
          mkdir /var/run/one
        EOF
        RUN <<EOF
          mkdir /var/run/two
        EOF
        CMD ["sh"]
        """)
    out = fix(text, P, context=ctx).text
    assert out == d("""\
        FROM debian:bookworm-slim
        RUN <<EOF
          mkdir -p /etc/app
        EOF

        RUN <<EOF
          mkdir /var/run/one
        EOF

        RUN <<EOF
          mkdir /var/run/two
        EOF

        COPY conf/a.conf /etc/app/a.conf
        CMD ["sh"]
        """)

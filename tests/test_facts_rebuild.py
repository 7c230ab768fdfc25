"""The rebuild model: which instructions BuildKit runs again after one context file changes."""
from __future__ import annotations

import textwrap
from pathlib import Path

from dockopt import parse
from dockopt.facts import FileFacts, RebuildModel


def model(text: str, context: Path | None = None, pending: dict[str, str] | None = None) -> RebuildModel:
    return FileFacts(parse(textwrap.dedent(text)), context_dir=context, pending_files=dict(pending or {})).rebuild


def lines(m: RebuildModel, path: str) -> list[int]:
    return [ins.start_line for ins in m.reruns(path)]


def test_a_source_edit_reruns_the_whole_copy_and_everything_after_it() -> None:
    m = model("""\
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        COPY . .
        ENV PORT=8000
        RUN python -m compileall .
        CMD ["python", "app.py"]
        """)
    assert lines(m, "app.py") == [5, 6, 7, 8]
    assert m.steps("app.py") == 2                   # the COPY and the RUN; ENV and CMD are no steps
    assert lines(m, "requirements.txt") == [3, 4, 5, 6, 7, 8]
    assert m.steps("requirements.txt") == 4


def test_a_copy_of_a_directory_or_a_pattern_reads_only_what_it_names() -> None:
    m = model("""\
        FROM node:18
        WORKDIR /app
        COPY package*.json ./
        RUN npm ci
        COPY src/ src/
        RUN npm run build
        COPY public ./public
        """)
    assert m.steps("src/index.js") == 3
    assert m.steps("public/index.html") == 1
    assert m.steps("package-lock.json") == 5
    assert m.steps("README.md") == 0                # no step reads it
    stage = m.graph.stages[0]
    assert m.first_reader(stage, "src/a/b.js").start_line == 5


def test_stages_that_do_not_depend_on_the_edit_come_from_the_cache() -> None:
    m = model("""\
        FROM golang:1.19 AS build
        WORKDIR /src
        COPY go.mod ./
        RUN go mod download
        COPY . .
        RUN go build -o /out/app .

        FROM debian:bookworm-slim AS tools
        RUN apt-get update && apt-get install -y curl

        FROM debian:bookworm-slim
        COPY --from=tools /usr/bin/curl /usr/bin/curl
        COPY --from=build /out/app /app
        CMD ["/app"]
        """)
    assert lines(m, "main.go") == [5, 6, 13, 14]
    assert m.steps("main.go") == 3
    assert m.steps("go.mod") == 5


def test_a_stage_built_from_an_affected_stage_reruns_whole() -> None:
    m = model("""\
        FROM node:18 AS base
        WORKDIR /app
        COPY . .
        FROM base AS test
        RUN npm test
        FROM base
        RUN npm prune --production
        """)
    # the final stage needs `base` (its parent), not `test`
    assert lines(m, "index.js") == [3, 7]


def test_a_bind_mount_of_the_context_reads_it() -> None:
    m = model("""\
        FROM python:3.11
        RUN --mount=type=bind,source=requirements.txt,target=/r.txt pip install -r /r.txt
        RUN --mount=type=cache,target=/root/.cache echo hi
        COPY app.py /app/
        """)
    assert m.steps("requirements.txt") == 3
    assert m.steps("app.py") == 1


def test_a_path_dockerignore_excludes_reruns_nothing(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("x")
    (tmp_path / "app.py").write_text("x")
    text = "FROM python:3.11\nCOPY . /app\nRUN python -m compileall /app\n"
    assert model(text, tmp_path).steps("docs/a.md") == 2
    (tmp_path / ".dockerignore").write_text("docs\n")
    assert model(text, tmp_path).steps("docs/a.md") == 0
    assert model(text, tmp_path).steps("app.py") == 2
    # an ignore file a fix of this run will write counts too
    pending = {str(tmp_path / ".dockerignore"): "app.py\n"}
    assert model(text, tmp_path, pending).steps("app.py") == 0


def test_a_copy_whose_operands_are_only_known_at_build_time_reads_everything() -> None:
    m = model("FROM alpine\nARG DEST\nCOPY . $DEST\nRUN true\n")
    assert m.steps("anything.txt") == 2


def test_another_target_builds_only_the_stages_it_needs() -> None:
    f = FileFacts(parse("FROM a AS one\nCOPY x /x\nFROM a AS two\nCOPY y /y\nFROM a\nCOPY --from=one /x /x\n"))
    _one, two, _final = f.tree.stages
    assert f.rebuild.steps("y") == 0
    m = RebuildModel(f.graph, f.effects, target=two)
    assert m.steps("y") == 1 and m.steps("x") == 0


def _reads(facts: FileFacts) -> list:
    return [r for ins in facts.tree.instructions for r in facts.effects(ins).context_reads]


def test_source_edits_are_files_no_copy_names(tmp_path: Path) -> None:
    from dockopt.facts import SOURCE_PROBE, source_edits

    for rel, text in {"requirements.txt": "x\n", "app.py": "1\n", "src/b.py": "2\n", "src/a.py": "3\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    text = "FROM python:3.11\nCOPY requirements.txt .\nCOPY src/ src/\nCOPY . .\n"
    facts = FileFacts(parse(text), context_dir=tmp_path)
    edits = source_edits(_reads(facts), facts.files)
    # the manifest a COPY names is no source file; one file per bulk read stands for the others
    assert edits == ("src/a.py", "app.py")
    without = FileFacts(parse(text))
    assert source_edits(_reads(without), without.files) == (SOURCE_PROBE,)
    assert without.rebuild.steps(SOURCE_PROBE) == 1
    named_only = FileFacts(parse("FROM python:3.11\nCOPY requirements.txt .\n"))
    assert source_edits(_reads(named_only), named_only.files) == ()


def test_work_steps_leave_out_copies_between_stages() -> None:
    m = model("""\
        FROM node:18 AS build
        COPY . .
        RUN npm run build
        FROM nginx:stable
        COPY --from=build /dist /usr/share/nginx/html
        """)
    assert m.steps("index.js") == 3 and m.work_steps("index.js") == 2


def test_which_stages_take_files_from_the_build_context() -> None:
    m = model("""\
        FROM debian:bookworm-slim AS tools
        RUN echo tool > /tool
        FROM debian:bookworm-slim AS src
        COPY app.c /src/
        FROM tools AS build
        RUN --mount=type=bind,from=src,source=/src,target=/src cat /src/app.c > /out
        FROM debian:bookworm-slim AS mounted
        RUN --mount=type=bind,source=app.c,target=/app.c cat /app.c > /out
        FROM debian:bookworm-slim
        COPY --from=tools /tool /tool
        COPY --from=build /out /out
        """)
    tools, src, build, mounted, final = m.graph.stages
    assert not m.reads_context(tools)
    assert m.reads_context(src)
    assert m.reads_context(build)          # through the stage it mounts
    assert m.reads_context(mounted)        # a bind mount of the context
    assert m.reads_context(final)          # through the build stage it copies from

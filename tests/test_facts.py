"""The facts layer: one answer to the stage graph, the state at each instruction, the build
context and what each instruction reads and writes."""
from __future__ import annotations

from pathlib import Path

import pytest

from dockopt import parse
from dockopt.facts import BASE_WORKDIR, FileFacts, known
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import by_code
from dockopt.passes.base import Context
from dockopt.syntax import Instruction


def facts(text: str, context: Path | None = None, pending: dict[str, str] | None = None) -> FileFacts:
    return FileFacts(parse(text), context_dir=context, pending_files=dict(pending or {}))


def ins(f: FileFacts, keyword: str, n: int = 0) -> Instruction:
    return [i for i in f.tree.instructions if i.keyword == keyword][n]


# --------------------------------------------------------------------------- the stage graph

def test_parent_is_an_earlier_stage_by_name_without_case() -> None:
    f = facts("FROM a AS Build\nFROM build AS test\nFROM 0\nFROM other\n")
    build, test, by_index, other = f.tree.stages
    assert f.graph.parent(test) is build
    assert f.graph.chain(test) == [build, test]
    assert f.graph.parent(by_index) is None       # FROM takes names: `0` is an image
    assert f.graph.parent(other) is None
    assert f.graph.descendants(build) == [test]
    assert f.graph.base_image(test) == "a"


def test_global_args_fill_in_the_base_name() -> None:
    f = facts("ARG BASE=builder\nARG IMAGE\nFROM alpine AS builder\nFROM ${BASE}\nFROM $IMAGE\n")
    builder, built, unknown = f.tree.stages
    assert f.graph.parent(built) is builder
    assert f.graph.base_image(unknown) == "$IMAGE"


def test_from_references_take_names_and_indexes_of_earlier_stages() -> None:
    f = facts("FROM a AS one\nFROM b\nCOPY --from=one /x /x\nCOPY --from=0 /y /y\nCOPY --from=nginx /z /z\n")
    one, two = f.tree.stages
    assert f.graph.ref("ONE", 1) is one and f.graph.ref("0", 1) is one
    assert f.graph.ref("1", 1) is None and f.graph.ref("nginx", 2) is None
    assert f.graph.copied_from(two) == [one]


def test_needed_and_shipped_stages() -> None:
    f = facts("FROM a AS base\nFROM base AS build\nRUN make\nFROM a AS unused\n"
              "FROM a AS tests\nRUN --mount=from=build,target=/b true\nFROM a\nCOPY --from=build /o /o\n")
    base, build, unused, tests, final = f.tree.stages
    assert f.graph.needed == frozenset({base.index, build.index, final.index})
    # stages nothing copies from may be built with --target: their layers ship (`build` only
    # serves copies, but `base` could be a target of its own)
    assert f.graph.shipped == {base.index, final.index, unused.index, tests.index}
    assert f.graph.in_final_image(final) and not f.graph.in_final_image(build)
    assert facts("FROM a AS x\nFROM a\nCOPY --from=$STAGE / /\n").graph.needed is None
    assert facts("FROM a\nONBUILD COPY --from=x / /\n").graph.needed is None


# --------------------------------------------------------------------------- working directory

def test_unknown_base_workdir_is_unknown_not_root() -> None:
    f = facts("FROM registry.example.com/app\nRUN true\nWORKDIR sub\nRUN true\n")
    first, second = [i for i in f.tree.instructions if i.keyword == "RUN"]
    assert f.state(first).cwd == BASE_WORKDIR and not known(f.state(first).cwd)
    # relative to the unknown directory: comparable, never written out
    assert f.state(second).cwd == BASE_WORKDIR + "/sub" and not known(f.state(second).cwd)


@pytest.mark.parametrize(("image", "cwd"), [
    ("python:3.11", "/"), ("node:18-slim", "/"), ("debian:bookworm", "/"), ("golang:1.22", "/go"),
    ("httpd:2.4", "/usr/local/apache2"), ("scratch", "/"), ("gcr.io/distroless/static-debian12", "/"),
])
def test_base_images_whose_workdir_is_known(image: str, cwd: str) -> None:
    f = facts(f"FROM {image}\nRUN true\n")
    assert f.state(ins(f, "RUN")).cwd == cwd


def test_workdir_follows_variables_and_stages() -> None:
    f = facts("ARG ROOT=/srv\nFROM debian AS a\nARG ROOT\nENV APP=$ROOT/app\nWORKDIR $APP\nRUN true\n"
              "FROM a\nWORKDIR lib\nRUN true\nFROM debian\nARG DIR\nWORKDIR $DIR\nRUN true\n")
    first, second, third = [i for i in f.tree.instructions if i.keyword == "RUN"]
    assert f.state(first).cwd == "/srv/app"
    assert f.state(second).cwd == "/srv/app/lib"        # a stage built FROM another starts where it ended
    assert f.state(third).cwd is None                   # only known at build time


# --------------------------------------------------------------------------- variables, user, shell

def test_variables_as_buildkit_scopes_them() -> None:
    f = facts("ARG VERSION=1.0\nFROM debian AS a\nARG VERSION\nARG LOCAL=x\nENV LOCAL=env NAME=\"v$VERSION\"\n"
              "RUN true\nFROM a\nRUN true\n")
    first, second = [i for i in f.tree.instructions if i.keyword == "RUN"]
    state = f.state(first)
    assert state.value("VERSION") == "1.0"           # the global default
    assert state.value("NAME") == "v1.0"             # quotes removed, expanded
    assert state.value("LOCAL") == "env"             # ENV wins over ARG
    assert state.variables["PATH"].origin == "image"
    later = f.state(second)
    assert later.value("NAME") == "v1.0"             # ENV is inherited by a stage built FROM it
    assert "VERSION" not in later.variables          # ARG is not
    assert f.state(first).value("UNSET") is None
    g = facts("FROM a\nARG TOKEN\nRUN true\n")
    assert "TOKEN" in g.state(ins(g, "RUN")).variables and g.state(ins(g, "RUN")).value("TOKEN") is None


def test_user_is_inherited_and_expanded() -> None:
    f = facts("FROM a AS base\nARG UID=1000\nUSER $UID\nFROM base\nRUN true\nUSER root\nRUN true\n")
    first, second = [i for i in f.tree.instructions if i.keyword == "RUN"]
    assert f.state(first).user == "1000" and not f.state(first).user_is_root
    assert f.state(second).user_is_root


@pytest.mark.parametrize(("shell", "posix"), [
    ('["/bin/mksh", "-c"]', True), ('["/usr/bin/env", "bash", "-c"]', True), ('["busybox", "sh", "-c"]', True),
    ('["/bin/ksh93", "-c"]', True), ('["powershell", "-Command"]', False), ('["cmd", "/S", "/C"]', False),
])
def test_one_function_classifies_shells(shell: str, posix: bool) -> None:
    f = facts(f"FROM a AS base\nSHELL {shell}\nFROM base\nRUN apt-get install curl\n")
    run = ins(f, "RUN")
    assert f.state(run).shell_kind.posix is posix      # inherited from the stage it is built FROM
    assert (f.script(run) is not None) is posix


@pytest.mark.parametrize(("base", "windows"), [
    ("mcr.microsoft.com/windows/servercore:ltsc2022", True), ("mcr.microsoft.com/windows/nanoserver:1809", True),
    ("mcr.microsoft.com/dotnet/runtime:8.0-nanoserver-ltsc2022", True), ("openjdk:8-windowsservercore", True),
    ("stefanscherer/node-windows:10", True), ("mcr.microsoft.com/windows/servercore:$TAG", True),
    ("debian:bookworm", False), ("mcr.microsoft.com/dotnet/runtime:8.0", False), ("node:18-slim", False),
])
def test_a_windows_base_starts_with_cmd_and_gets_no_script(base: str, windows: bool) -> None:
    f = facts(f"FROM {base}\nRUN mkdir C:\\app\n")
    run = ins(f, "RUN")
    assert f.state(run).shell_kind.posix is not windows
    assert (f.script(run) is None) is windows


def test_context_origin_follows_copies_and_bind_mounts(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "setup.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    text = ("FROM debian\nWORKDIR /app\nCOPY scripts/ /opt/s/\nCOPY run.sh .\nRUN /opt/s/setup.sh\n"
            "RUN --mount=type=bind,source=scripts,target=/m sh /m/setup.sh\n")
    f = facts(text, tmp_path)
    first, second = ins(f, "RUN"), ins(f, "RUN", 1)
    assert f.context_origin(first, "/opt/s/setup.sh") == "scripts/setup.sh"
    assert f.context_origin(first, "/app/run.sh") == "run.sh"
    assert f.context_origin(first, "/opt/s/missing.sh") is None       # the context has no such file
    assert f.context_origin(first, "/usr/bin/env") is None            # the base image's own
    assert f.context_origin(second, "/m/setup.sh") == "scripts/setup.sh"


def test_only_stages_whose_layers_reach_an_image_ship() -> None:
    f = facts("FROM golang AS build\nRUN go build -o /app\nFROM debian AS base\nFROM base\n"
              "COPY --from=build /app /app\n")
    build, base, final = f.tree.stages
    assert not f.graph.ships(build) and f.graph.ships(base) and f.graph.ships(final)


def test_a_mksh_shell_is_read_by_the_apt_rules() -> None:
    text = 'FROM debian\nSHELL ["/bin/mksh", "-c"]\nRUN apt-get update && apt-get install curl\n'
    codes = {f.code for f in Linter([by_code()[c] for c in ("DO103", "DO104")]).run(parse(text))}
    assert codes == {"DO103", "DO104"}
    out = fix_text(text, Linter([by_code()["DO103"]])).text
    assert out.endswith("apt-get install -y curl\n")


# --------------------------------------------------------------------------- the build context

def test_context_view_applies_a_pending_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("x")
    (tmp_path / "app.js").write_text("y")
    text = "FROM node\nCOPY . /app\n"
    assert facts(text, tmp_path).files.sent("node_modules/x.js")
    pending = {str(tmp_path / ".dockerignore"): "node_modules\n"}
    view = facts(text, tmp_path, pending).files
    assert not view.sent("node_modules/x.js") and view.sent("app.js")
    assert not facts(text).files.available and facts(text).files.sent_text("app.js") is None


# --------------------------------------------------------------------------- reads and writes

def test_copy_reads_the_sent_context_and_writes_its_destination(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "secret.env").write_text("b")
    (tmp_path / ".dockerignore").write_text("*.env\n")
    f = facts("FROM debian\nWORKDIR /srv\nCOPY *.txt *.env ./\nCOPY --from=builder /out /opt/\n", tmp_path)
    copy, from_stage = [i for i in f.tree.instructions if i.keyword == "COPY"]
    effects = f.effects(copy)
    assert [(r.source, r.matches) for r in effects.context_reads] == [("*.txt", ("a.txt",)), ("*.env", ())]
    assert [w.path for w in effects.writes] == ["/srv"] and effects.modelled
    assert f.effects(from_stage).stage_reads == (("builder", "/out"),)


def test_run_effects_follow_cd_downloads_and_deletions() -> None:
    f = facts("FROM debian\nWORKDIR /tmp\nRUN cd /opt && curl -fsSLo tool.tgz https://x/t.tgz "
              "&& tar -xzf tool.tgz -C /opt/tool && rm -rf tool.tgz\n")
    effects = f.effects(ins(f, "RUN"))
    assert effects.modelled
    assert {w.path for w in effects.writes} == {"/opt/tool.tgz", "/opt/tool"}
    assert [d.path for d in effects.deletes] == ["/opt/tool.tgz"]
    # `cd` reads the directory it changes to (it fails without it), tar reads the archive it extracts
    assert {r.path for r in effects.reads} == {"/opt", "/opt/tool.tgz"}
    assert effects.touches("/opt") and not effects.touches("/srv")


@pytest.mark.parametrize(("lines", "deleted"), [
    ("", ["/root/.cache", "/root"]),                                  # root's home
    ("ENV HOME=/srv/home\n", ["/srv/home/.cache", "/srv/home"]),     # the shell expands ~ to $HOME
    ("USER app\n", []),                                              # a home dockopt does not know
])
def test_a_tilde_is_the_home_directory(lines: str, deleted: list[str]) -> None:
    f = facts(f"FROM debian\n{lines}RUN rm -rf ~/.cache && rm -rf ~ && rm -rf ~bob/x\n")
    run = ins(f, "RUN")
    assert [d.path for d in f.effects(run).deletes] == deleted
    assert [s.unresolved for s in f.steps(run)] == [not deleted, not deleted, True]
    assert (f.effects(run).removes("/root/.cache/pip") is not None) == (deleted[:1] == ["/root/.cache"])


@pytest.mark.parametrize(("script", "start"), [
    ('export GNUPGHOME="$(mktemp -d)"; rm -rf "$GNUPGHOME"', "/tmp/"),       # the official images' way
    ('( set -eu; G="$(mktemp -d)"; rm -rf "$G" )', "/tmp/"),                  # in a subshell
    ("D=$(mktemp -d -t x.XXXX) && rm -rf ${D}/keys", "/tmp/"),
    ("rm -f node-v$V.tar.gz", "/srv/node-v"),                                 # relative: in the WORKDIR
    ("rm -rf /var/lib/apt/$X", "/var/lib/apt/"),
    ('D="$(mktemp -d)"; D=$X; rm -rf "$D"', None),                            # set again to anything
    ("D=$(mktemp -p /root -d); rm -rf $D", None),                             # made elsewhere
    ('export TMPDIR=/var/t D="$(mktemp -d)"; rm -rf "$D"', None),             # mktemp's directory moved
    ('rm -rf "$D"', None),
    ("rm -rf ~/x", None),                                                     # a tilde is resolved, not a prefix
    ("rm -rf $JAVA_HOME/legal/*", "/opt/java/legal/"),                        # a value the ENV gives
    ("rm -rf $HOME/*", "/root/"),                                             # root's home
])
def test_what_a_path_only_known_at_build_time_starts_with(script: str, start: str | None) -> None:
    f = facts(f"FROM debian\nWORKDIR /srv\nARG V X D\nENV JAVA_HOME=/opt/java\nRUN {script}\n")
    rm = [s for s in f.steps(ins(f, "RUN")) if s.command.program == "rm"][-1]
    assert rm.path_start(rm.command.args[-1]) == start


@pytest.mark.parametrize(("lines", "word", "path"), [
    ("", "$HOME/.cache/pip", "/root/.cache/pip"),
    ("", "$HOME", "/root"),
    ("", '"${HOME}"/.npm', "/root/.npm"),
    ("ENV HOME=/h\n", "~/.npm", "/h/.npm"),
    ("ENV J=/opt/j\n", "$J/lib/src.zip", "/opt/j/lib/src.zip"),
    ("", "logs", "/srv/logs"),
    ("USER app\n", "$HOME/.npm", None),        # a home dockopt does not know
    ("", "$HOME/*", None),                     # a glob: more than one path
    ("", "$X/a", None),
])
def test_the_path_a_word_names(lines: str, word: str, path: str | None) -> None:
    f = facts(f"FROM debian\nWORKDIR /srv\nARG X\n{lines}RUN rm -rf {word}\n")
    (step,) = f.steps(ins(f, "RUN"))
    assert step.word_path(step.command.args[-1]) == path


def test_export_sets_a_variable_for_the_commands_after_it() -> None:
    f = facts('FROM debian\nRUN export A=1 B="$X" && declare -x C=/c && echo && '
              'if true; then export A=2; fi && echo\n')
    envs = [{k: s.env.get(k, "-") for k in "ABC"} for s in f.steps(ins(f, "RUN"))]
    assert envs[0] == {"A": "-", "B": "-", "C": "-"}
    assert envs[2] == {"A": "1", "B": None, "C": "/c"}        # B's value is only known at build time
    assert envs[-1]["A"] is None                              # it may or may not have run


def test_packages_and_cache_mounts() -> None:
    f = facts("FROM debian\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update "
              "&& apt-get install -y curl && apt-get purge -y wget\n")
    effects = f.effects(ins(f, "RUN"))
    assert [(p.name, p.installed) for p in effects.packages] == [("curl", True), ("wget", False)]
    assert "/var/lib/apt/lists" not in {w.path for w in effects.writes}   # on the cache mount
    assert effects.modelled and not effects.touches("/app")


def test_a_command_the_model_does_not_know_touches_anything() -> None:
    f = facts("FROM debian\nWORKDIR /src\nRUN ./configure && make install\n")
    effects = f.effects(ins(f, "RUN"))
    assert not effects.modelled and "`configure` is not modelled" in effects.unmodelled
    assert effects.touches("/anything")
    f = facts("FROM debian\nRUN curl -o $OUT https://x/y\n")
    assert not f.effects(ins(f, "RUN")).modelled     # a path only known at build time
    f = facts('FROM a\nSHELL ["pwsh", "-c"]\nRUN ls\n')
    assert not f.effects(ins(f, "RUN")).modelled


def test_installers_are_modelled_by_their_ecosystem() -> None:
    ctx = Context(parse("FROM node\nWORKDIR /app\nRUN npm ci --ignore-scripts && npm run build\n"
                        "RUN pip install -r requirements.txt\n"))
    first, second = [i for i in ctx.tree.instructions if i.keyword == "RUN"]
    npm = ctx.effects(first)
    # `npm run build` runs the project's code: not modelled; the install alone is
    assert not npm.modelled
    install = ctx.steps(first)[0]
    assert "/app/package.json" in {r.path for r in install.reads}
    assert "/app/node_modules" in {w.path for w in install.writes}
    pip = ctx.effects(second)
    assert pip.modelled and "/app/requirements.txt" in {r.path for r in pip.reads}
    # without the ecosystems (the facts layer alone) an installer is not modelled
    assert not FileFacts(ctx.tree).effects(second).modelled


def test_instructions_before_the_first_from_see_the_global_scope() -> None:
    f = facts("ARG V=1\nADD a.sh /a.sh\nFROM debian\n")
    add = ins(f, "ADD")
    assert f.state(add).stage is None and f.state(add).value("V") == "1" and not known(f.state(add).cwd)
    assert f.effects(add).unmodelled == ("not in a stage",)


@pytest.mark.parametrize(("syntax", "link", "symbolic_chmod"), [
    (None, True, False),                                    # the engine's built-in frontend
    ("docker/dockerfile:1", True, True),                    # floats to the newest 1.x
    ("docker.io/docker/dockerfile:1.4", True, False),
    ("docker/dockerfile:1.3", False, False),
    ("docker/dockerfile:1.10-labs", True, True),
    ("docker/dockerfile:labs", True, True),
    ("docker/dockerfile:1.14.1@sha256:" + "a" * 64, True, True),
    ("docker/dockerfile-upstream:master", False, False),   # not a release dockopt can read
    ("example.com/frontend:1", False, False),
])
def test_frontend_features(syntax, link, symbolic_chmod) -> None:
    from dockopt.facts.frontend import frontend_supports

    assert frontend_supports(syntax, (1, 4)) is link
    assert frontend_supports(syntax, (1, 14), (1, 10), builtin=False) is symbolic_chmod


def test_entries_in_lists_what_the_context_copies_put_in_a_directory(tmp_path: Path) -> None:
    for rel in ("package.json", "src/a.js", "views/i.ejs", "conf/app.json", "notes.txt", ".git/HEAD"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / ".dockerignore").write_text(".git\nnotes.txt\n")
    text = ("FROM node:18\nWORKDIR /app\nCOPY package.json ./\nCOPY views ./views\n"
            "COPY conf/app.json /app/settings.json\nADD https://example.com/x.tgz /tmp/\nRUN true\n")
    tree = parse(text)
    ff = FileFacts(tree, tmp_path / "Dockerfile", tmp_path)
    got = {k: v[0] for k, v in (ff.entries_in(tree.stages[0], "/app") or {}).items()}
    assert got == {"package.json": "package.json", "views": "views", "settings.json": "conf/app.json"}
    whole = parse("FROM node:18\nCOPY . /srv\n")
    got = FileFacts(whole, tmp_path / "Dockerfile", tmp_path).entries_in(whole.stages[0], "/srv")
    # ignored paths are not sent; the ignore file itself is
    assert set(got or {}) == {"package.json", "src", "views", "conf", ".dockerignore"}
    assert FileFacts(whole).entries_in(whole.stages[0], "/srv") is None     # no build context


def test_owner_lookups_created_directories_and_working_directory_use() -> None:
    f = facts("FROM debian\nWORKDIR /srv\nCOPY --chown=app:app a.txt /home/app/conf/a.txt\nCOPY --chown=1000 b /b\n"
              "RUN chown -R www-data /var/www && apt-get install -y curl\nRUN curl -fsSLO https://x/t.tgz\n"
              "RUN ln -s /data /home/app/conf\nCOPY c.txt /home/app/conf/c.txt\n")
    named, numeric = ins(f, "COPY"), ins(f, "COPY", 1)
    assert {r.path for r in f.effects(named).reads} == {"/etc/passwd", "/etc/group"}
    assert f.effects(numeric).reads == ()
    assert f.effects(named).created == ("/home/app/conf", "/home/app")   # /home is in every image
    chown_run, curl_run = ins(f, "RUN"), ins(f, "RUN", 1)
    assert {"/etc/passwd", "/etc/group"} <= {r.path for r in f.effects(chown_run).reads}
    assert not f.effects(chown_run).uses_cwd and f.effects(curl_run).uses_cwd
    # a copy through a link an earlier RUN made writes where the link points: not modelled
    assert not f.effects(ins(f, "COPY", 2)).modelled


def test_a_glob_reads_the_directory_it_lists() -> None:
    from dockopt import parse
    from dockopt.facts import FileFacts

    text = ("FROM debian:bookworm\nWORKDIR /app\nRUN for f in conf/*.conf; do echo \"$f\"; done > /etc/list\n"
            "RUN cd /srv && echo * > /etc/all\nRUN echo $DIR/* > /etc/x\n")
    facts = FileFacts(parse(text))
    loop, star, unknown = facts.tree.stages[0].instructions[1:]
    assert [a.path for a in facts.effects(loop).reads if a.via == "glob"] == ["/app/conf"]
    assert facts.effects(loop).uses_cwd
    assert [a.path for a in facts.effects(star).reads if a.via == "glob"] == ["/srv"]
    assert not facts.effects(unknown).modelled

"""DO201 hoist-deps: before/after/no-op fixtures with real build contexts, for every ecosystem,
including the traps (nested requirements, `-e .`, lifecycle scripts, no lockfile, --chown,
WORKDIR between, multi-stage)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_pass_do2_common import FIXTURES, d, findings, fix, fix_of, make_context

from dockopt.findings import Safety
from dockopt.passes.hoist_deps import HoistDeps

P = [HoistDeps]
PKG = json.dumps({"name": "app", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}}) + "\n"


def test_fixture_set_covers_every_ecosystem_and_trap() -> None:
    names = {p.name for p in (FIXTURES / "DO201").iterdir()}
    for needed in ("npm-ci-then-build", "npm-install-no-lockfile", "npm-postinstall-reads-source",
                   "npm-copy-chown-user", "yarn-berry", "pnpm-frozen", "pip-nested-requirements",
                   "pip-editable-in-requirements", "poetry-no-root", "pipenv-deploy",
                   "uv-sync-virtual-project", "go-mod-download-then-build", "bundler", "maven-go-offline",
                   "composer", "workdir-between-relative-dest", "multistage-one-stage-qualifies"):
        assert needed in names


# -- the main rewrites, spelled out ----------------------------------------------------------

def test_npm_ci_goes_up_and_the_build_stays(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n", "src/a.js": "1\n"})
    out = fix("""\
        FROM node:20
        WORKDIR /app
        COPY . .
        RUN npm ci && npm run build
        """, P, context=ctx).text
    assert out == d("""\
        FROM node:20
        WORKDIR /app
        COPY package.json package-lock.json ./
        RUN npm ci
        COPY . .
        RUN npm run build
        """)


def test_nested_requirements_are_all_copied_at_their_paths(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "-r requirements/base.txt\n",
                                  "requirements/base.txt": "humanize==4.9.0\n", "app.py": "1\n"})
    out = fix("""\
        FROM python:3.11-slim
        WORKDIR /app
        COPY . .
        RUN pip install --no-cache-dir -r requirements.txt
        """, P, context=ctx).text
    assert out == d("""\
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt ./
        COPY requirements/base.txt ./requirements/
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        """)


def test_nested_requirement_missing_from_the_context_means_no_hoist(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "-r requirements/base.txt\n"})
    assert findings("FROM python\nCOPY . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n", P,
                    context=ctx) == []


def test_editable_install_in_requirements_is_left_alone(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "-e .\n", "setup.py": "x\n"})
    assert findings("FROM python\nWORKDIR /src\nCOPY . .\nRUN pip install -r requirements.txt\n", P,
                    context=ctx) == []


@pytest.mark.parametrize("line", ["./vendor/pkg", "pkg @ file:///src/pkg", "-f ./wheels", "../lib",
                                  "dist/app-1.0-py3-none-any.whl"])
def test_local_path_requirements_are_left_alone(tmp_path: Path, line: str) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": f"requests\n{line}\n"})
    assert findings("FROM python\nWORKDIR /src\nCOPY . .\nRUN pip install -r requirements.txt\n", P,
                    context=ctx) == []


def test_pip_install_dot_is_not_hoisted(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"pyproject.toml": "[project]\nname='x'\n"})
    assert findings("FROM python\nWORKDIR /src\nCOPY . .\nRUN pip install .\n", P, context=ctx) == []


def test_postinstall_that_reads_source_is_not_hoisted(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {
        "package.json": json.dumps({"name": "a", "scripts": {"postinstall": "node scripts/gen.js"}}),
        "package-lock.json": "{}", "scripts/gen.js": "1\n"})
    assert findings("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", P, context=ctx) == []


def test_postinstall_is_fine_with_ignore_scripts(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {
        "package.json": json.dumps({"name": "a", "scripts": {"postinstall": "node scripts/gen.js"}}),
        "package-lock.json": "{}", "scripts/gen.js": "1\n"})
    [f] = findings("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci --ignore-scripts\n", P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE


def test_binding_gyp_builds_native_code_from_the_project(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "binding.gyp": "{}\n"})
    assert findings("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\n", P, context=ctx) == []


def test_without_a_lockfile_package_json_is_hoisted_alone_and_npm_install_stays(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "index.js": "1\n"})
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\n", P, context=ctx).text
    assert out == "FROM node\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n"
    assert "npm ci" not in out


def test_chown_and_chmod_of_the_source_copy_are_carried(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n"})
    out = fix("FROM node\nWORKDIR /app\nUSER node\nCOPY --chown=node:node --chmod=644 . .\nRUN npm ci\n",
              P, context=ctx).text
    assert out == d("""\
        FROM node
        WORKDIR /app
        USER node
        COPY --chown=node:node --chmod=644 package.json package-lock.json ./
        RUN npm ci
        COPY --chown=node:node --chmod=644 . .
        """)


def test_workdir_between_gives_the_moved_copy_an_absolute_destination(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "click\n"})
    out = fix("FROM python\nWORKDIR /srv\nCOPY . .\nWORKDIR /srv/app\nRUN pip install -r ../requirements.txt\n",
              P, context=ctx).text
    assert out == d("""\
        FROM python
        WORKDIR /srv
        COPY requirements.txt ./
        WORKDIR /srv/app
        RUN pip install -r ../requirements.txt
        COPY . /srv
        """)


def test_absolute_destination_before_workdir(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "click\n"})
    out = fix("FROM python\nCOPY . /srv/app\nWORKDIR /srv/app\nRUN pip install -r requirements.txt\n",
              P, context=ctx).text
    assert out == d("""\
        FROM python
        COPY requirements.txt /srv/app/
        WORKDIR /srv/app
        RUN pip install -r requirements.txt
        COPY . /srv/app
        """)


def test_relative_destination_under_an_unknown_base_workdir_with_workdir_between(tmp_path: Path) -> None:
    # '.' of an image dockopt does not know is unknown: the moved copy cannot be given an absolute path
    ctx = make_context(tmp_path, {"requirements.txt": "click\n"})
    text = "FROM registry.example.com/python\nCOPY . app\nWORKDIR app\nRUN pip install -r requirements.txt\n"
    assert findings(text, P, context=ctx) == []
    assert fix(text, P, context=ctx).text == text


def test_relative_destination_under_a_known_base_workdir_with_workdir_between(tmp_path: Path) -> None:
    # the official python image starts in /: the moved copy goes to /app
    ctx = make_context(tmp_path, {"requirements.txt": "click\n"})
    out = fix("FROM python\nCOPY . app\nWORKDIR app\nRUN pip install -r requirements.txt\n", P, context=ctx).text
    assert out == ("FROM python\nCOPY requirements.txt app/\nWORKDIR app\nRUN pip install -r requirements.txt\n"
                   "COPY . /app\n")


def test_cd_in_the_install_resolves_the_manifest(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"web/package.json": PKG, "web/package-lock.json": "{}\n"})
    out = fix("FROM node\nCOPY . /src\nRUN cd /src/web && npm ci\n", P, context=ctx).text
    assert out == d("""\
        FROM node
        COPY web/package.json web/package-lock.json /src/web/
        RUN cd /src/web && npm ci
        COPY . /src
        """)


def test_cd_before_the_install_is_repeated_before_the_rest(tmp_path: Path) -> None:
    # `cd web && npm ci && npm run build`: the build stays below the source copy, in web/ still
    ctx = make_context(tmp_path, {"web/package.json": PKG})
    out = fix("FROM node\nWORKDIR /src\nCOPY . .\nRUN cd web && npm install && npm run build\n", P, context=ctx).text
    assert out == d("""\
        FROM node
        WORKDIR /src
        COPY web/package.json ./web/
        RUN cd web && npm install
        COPY . .
        RUN cd web && npm run build
        """)
    multiline = fix("FROM node\nCOPY . /src\nRUN cd /src/web \\\n    && npm install \\\n    && npm run build\n", P,
                    context=ctx).text
    assert multiline.endswith("COPY . /src\nRUN cd /src/web && \\\n    npm run build\n"), multiline


@pytest.mark.parametrize("run", [
    "export NODE_ENV=production && npm install && npm run build",     # a variable the rest reads
    "cd web || exit 1; npm install && npm run build",                  # not a plain && chain
])
def test_other_shell_state_before_the_install_is_not_split_from_the_rest(tmp_path: Path, run: str) -> None:
    ctx = make_context(tmp_path, {"web/package.json": PKG, "package.json": PKG})
    assert findings(f"FROM node\nWORKDIR /src\nCOPY . .\nRUN {run}\n", P, context=ctx) == []


def test_semicolon_split_point_is_not_split(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG})
    assert findings("FROM node\nWORKDIR /a\nCOPY . .\nRUN npm install; npm run build\n", P, context=ctx) == []


def test_multiline_run_keeps_its_continuations(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "click\n"})
    out = fix("""\
        FROM python
        WORKDIR /app
        COPY . .
        RUN pip install --upgrade pip \\
         && pip install -r requirements.txt \\
         && python -m compileall .
        """, P, context=ctx).text
    assert out == d("""\
        FROM python
        WORKDIR /app
        COPY requirements.txt ./
        RUN pip install --upgrade pip \\
         && pip install -r requirements.txt
        COPY . .
        RUN python -m compileall .
        """)


def test_node_modules_sent_by_the_context_blocks_the_fix_until_it_is_excluded(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "node_modules/ms/index.js": "1\n"})
    text = "FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    [f] = findings(text, P, context=ctx)
    assert f.fix is None and "node_modules" in f.message and "DO204" in f.message
    (ctx / ".dockerignore").write_text("node_modules\n")
    [f] = findings(text, P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE


def test_manifests_excluded_by_dockerignore_are_not_copied(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n", ".npmrc": "x=1\n",
                                  ".dockerignore": ".npmrc\n"})
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", P, context=ctx).text
    assert "COPY package.json package-lock.json ./\n" in out


def test_primary_manifest_not_sent_means_no_finding(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, ".dockerignore": "package.json\n"})
    assert findings("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\n", P, context=ctx) == []


def test_only_the_stage_that_qualifies_changes(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n", "go.mod": "module x\n"})
    out = fix("""\
        FROM golang:1.22 AS tools
        WORKDIR /src
        COPY . .
        RUN go build ./...

        FROM node:20
        WORKDIR /app
        COPY . .
        RUN npm ci
        """, P, context=ctx).text
    # no go.sum: nothing to download, the Go stage stays as it is
    assert out == d("""\
        FROM golang:1.22 AS tools
        WORKDIR /src
        COPY . .
        RUN go build ./...

        FROM node:20
        WORKDIR /app
        COPY package.json package-lock.json ./
        RUN npm ci
        COPY . .
        """)


def test_stage_built_from_another_stage_inherits_its_workdir(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"requirements.txt": "click\n"})
    out = fix("""\
        FROM python AS base
        WORKDIR /app
        FROM base
        COPY . .
        WORKDIR /app/sub
        RUN pip install -r ../requirements.txt
        """, P, context=ctx).text
    assert out.endswith("COPY requirements.txt ./\nWORKDIR /app/sub\nRUN pip install -r ../requirements.txt\n"
                        "COPY . /app\n")


def test_exec_form_heredoc_and_bind_mount_runs_are_left_alone(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n"})
    for run in ('RUN ["npm", "ci"]', "RUN <<EOF\nnpm ci\nEOF", "RUN --mount=type=bind,target=/x npm ci"):
        assert findings(f"FROM node\nWORKDIR /app\nCOPY . .\n{run}\n", P, context=ctx) == [], run


def test_cache_mount_is_kept_on_both_halves(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n"})
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/root/.npm npm ci && npm run build\n",
              P, context=ctx).text
    assert out == d("""\
        FROM node
        WORKDIR /app
        COPY package.json package-lock.json ./
        RUN --mount=type=cache,target=/root/.npm npm ci
        COPY . .
        RUN --mount=type=cache,target=/root/.npm npm run build
        """)


def test_crlf_and_no_final_newline(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG})
    out = fix("FROM node\r\nWORKDIR /app\r\nCOPY . .\r\nRUN npm install", P, context=ctx).text
    assert out == "FROM node\r\nWORKDIR /app\r\nCOPY package.json ./\r\nRUN npm install\r\nCOPY . ."


def test_inline_suppression(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG})
    assert findings("FROM node\nWORKDIR /app\n# dockopt: ignore=DO201\nCOPY . .\nRUN npm install\n", P,
                    context=ctx) == []


def test_unsafe_fix_is_held_back_without_unsafe_fixes(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {
        "package.json": json.dumps({"name": "a", "scripts": {"prepare": "husky"}}), "package-lock.json": "{}"})
    text = "FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    [f] = findings(text, P, context=ctx)
    assert fix_of(f).safety is Safety.UNSAFE and "prepare" in f.message
    assert fix(text, P, context=ctx).text == text
    assert fix(text, P, context=ctx, unsafe=True).text != text


def _workspace(tmp_path: Path, web: dict | None = None, extra: dict | None = None, workspaces=None) -> Path:
    root = {"name": "mono", "private": True, "workspaces": workspaces or ["packages/*"]}
    files: dict[str, str | bytes] = {
        "package.json": json.dumps(root), "package-lock.json": "{}\n",
        "packages/api/package.json": json.dumps({"name": "api", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}}),
        "packages/api/index.js": "module.exports = 1\n",
        "packages/web/package.json": json.dumps(web or {"name": "web", "version": "1.0.0",
                                                        "dependencies": {"api": "workspace:*"}}),
        "docs/README.md": "not a workspace\n",
    }
    return make_context(tmp_path, {**files, **(extra or {})})


def test_npm_workspaces_hoist_every_workspace_manifest_to_its_place(tmp_path: Path) -> None:
    ctx = _workspace(tmp_path)
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n", P, context=ctx).text
    assert out == d("""\
        FROM node
        WORKDIR /app
        COPY package.json package-lock.json ./
        COPY packages/api/package.json ./packages/api/
        COPY packages/web/package.json ./packages/web/
        RUN npm ci
        COPY . .
        RUN npm run build
        """)
    [f] = findings("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE


def test_yarn_workspaces_in_the_packages_form(tmp_path: Path) -> None:
    ctx = _workspace(tmp_path, workspaces={"packages": ["packages/api", "packages/web"]},
                     extra={"yarn.lock": "# yarn lockfile v1\n"})
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile\n", P, context=ctx).text
    assert "COPY packages/api/package.json ./packages/api/\nCOPY packages/web/package.json ./packages/web/\n" in out


@pytest.mark.parametrize("web,extra,workspaces,expect", [
    ({"name": "web", "scripts": {"prepare": "husky install"}}, {}, None, "unsafe: workspace packages/web"),
    ({"name": "web", "bin": {"web": "cli.js"}}, {}, None, "unsafe: workspace packages/web declares programs"),
    ({"name": "web", "dependencies": {"x": "file:../../vendor/x"}}, {}, None, "none"),
    ({"name": "web", "scripts": {"postinstall": "node scripts/gen.js"}}, {"packages/web/scripts/gen.js": "1\n"},
     None, "none"),
    (None, {"pnpm-workspace.yaml": "packages:\n  - packages/*\n"}, None, "none"),
    (None, {}, ["packages/**"], "none"),
    (None, {}, ["libs/*"], "none"),                           # no workspace in the context
])
def test_workspaces_that_read_more_than_their_manifests(tmp_path: Path, web, extra, workspaces, expect) -> None:
    ctx = _workspace(tmp_path, web=web, extra=extra, workspaces=workspaces)
    manager = "pnpm" if "pnpm-workspace.yaml" in extra else "npm"
    found = findings(f"FROM node\nWORKDIR /app\nCOPY . .\nRUN {manager} install\n", P, context=ctx)
    if expect == "none":
        assert found == []
    else:
        [f] = found
        assert fix_of(f).safety is Safety.UNSAFE and expect.removeprefix("unsafe: ") in f.message


def test_a_workspace_node_modules_in_the_context_is_named(tmp_path: Path) -> None:
    ctx = _workspace(tmp_path, extra={"packages/api/node_modules/ms/index.js": "1\n"})
    [f] = findings("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", P, context=ctx)
    assert f.fix is None and "packages/api/node_modules" in f.message


def test_fixed_output_does_not_fire_again_on_a_later_install(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "requirements.txt": "click\n"})
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN pip install -r requirements.txt\n",
              P, context=ctx).text
    # the second install is hoisted in a later round, below the first one
    assert out == d("""\
        FROM node
        WORKDIR /app
        COPY package.json ./
        RUN npm install
        COPY requirements.txt ./
        RUN pip install -r requirements.txt
        COPY . .
        """)


def test_poetry_package_mode_false_needs_no_no_root(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"pyproject.toml": "[tool.poetry]\nname='a'\npackage-mode = false\n",
                                  "poetry.lock": "x\n"})
    [f] = findings("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install\n", P, context=ctx)
    assert fix_of(f).safety is Safety.SAFE


def test_poetry_path_dependency_is_not_hoisted(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"pyproject.toml": "[tool.poetry]\nname='a'\n[tool.poetry.dependencies]\n"
                                                    "lib = { path = './lib', develop = true }\n"})
    assert findings("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install --no-root\n", P, context=ctx) == []


def test_uv_project_with_build_system_is_unsafe_with_no_install_project(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"pyproject.toml": "[project]\nname='a'\n[build-system]\nrequires=['hatchling']\n",
                                  "uv.lock": "x\n"})
    out = fix("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n", P, context=ctx, unsafe=True).text
    assert out == d("""\
        FROM python
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN uv sync --no-install-project --locked
        COPY . .
        RUN uv sync --locked
        """)


def test_go_workspace_is_not_hoisted(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"go.mod": "module x\n", "go.sum": "", "go.work": "go 1.22\n"})
    assert findings("FROM golang\nWORKDIR /s\nCOPY . .\nRUN go mod download\n", P, context=ctx) == []


def test_go_build_with_vendor_directory_gets_no_download_step(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"go.mod": "module x\n", "go.sum": "x\n", "vendor/modules.txt": "x\n"})
    assert findings("FROM golang\nWORKDIR /s\nCOPY . .\nRUN go build .\n", P, context=ctx) == []


def test_maven_build_gets_an_unsafe_go_offline_step(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"pom.xml": "<project/>\n", ".mvn/maven.config": "-B\n"})
    out = fix("FROM maven\nWORKDIR /b\nCOPY . .\nRUN mvn -B -DskipTests package\n", P, context=ctx, unsafe=True).text
    assert out == d("""\
        FROM maven
        WORKDIR /b
        COPY pom.xml ./
        COPY .mvn/maven.config ./.mvn/
        RUN mvn -B -DskipTests dependency:go-offline
        COPY . .
        RUN mvn -B -DskipTests package
        """)


def test_bundler_deployment_with_vendor_bundle_in_the_context(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"Gemfile": "gem 'rack'\n", "Gemfile.lock": "x\n",
                                  "vendor/bundle/ruby/x.rb": "1\n"})
    [f] = findings("FROM ruby\nWORKDIR /a\nCOPY . .\nRUN bundle install --deployment\n", P, context=ctx)
    assert f.fix is None and "vendor/bundle" in f.message


def test_corpus_cases_of_the_project(tmp_path: Path) -> None:
    """The project's buildable corpus: DO201 fires where case.toml says, and not where it says not."""
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover
        import tomli as tomllib
    root = Path(__file__).resolve().parents[1] / "corpus"
    if not root.is_dir():
        pytest.skip("no corpus/")
    checked = 0
    for case in sorted(p for p in root.iterdir() if (p / "case.toml").exists()):
        meta = tomllib.loads((case / "case.toml").read_text())
        text = (case / "Dockerfile").read_text()
        got = bool(findings(text, P, context=case, dockerfile=case / "Dockerfile"))
        if "DO201" in meta["should_fire"]:
            assert got, case.name
            checked += 1
        if "DO201" in meta["should_not_fire"]:
            assert not got, case.name
            checked += 1
    assert checked >= 10


def test_symlinked_manifest_is_not_copied_alone(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"package.json": PKG, "real-lock.json": "{}\n"})
    (ctx / "package-lock.json").symlink_to("real-lock.json")
    out = fix("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\n", P, context=ctx).text
    assert "COPY package.json ./\n" in out


def test_copy_to_root_with_an_unknown_workdir_is_left_alone(tmp_path: Path) -> None:
    # '.' of the install is the base image's WORKDIR: it may or may not be under '/'-copied files
    ctx = make_context(tmp_path, {"package.json": PKG})
    assert findings("FROM registry.example.com/node\nCOPY . /\nRUN npm install\n", P, context=ctx) == []
    out = fix("FROM node\nCOPY . /\nWORKDIR /app\nRUN npm install\n", P, context=ctx).text
    assert out == "FROM node\nCOPY . /\nWORKDIR /app\nRUN npm install\n"  # no app/package.json
    (ctx / "app").mkdir()
    (ctx / "app" / "package.json").write_text(PKG)
    out = fix("FROM node\nCOPY . /\nWORKDIR /app\nRUN npm install\n", P, context=ctx).text
    assert out == "FROM node\nCOPY app/package.json /app/\nWORKDIR /app\nRUN npm install\nCOPY . /\n"


def test_copy_to_root_with_a_known_workdir(tmp_path: Path) -> None:
    # the official node image starts in /, where the copy puts package.json
    ctx = make_context(tmp_path, {"package.json": PKG})
    out = fix("FROM node\nCOPY . /\nRUN npm install\n", P, context=ctx).text
    assert out == "FROM node\nCOPY package.json /\nRUN npm install\nCOPY . /\n"


def test_backtick_escape_file_keeps_its_continuation_character(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"pyproject.toml": "[tool.poetry]\nname='a'\n", "poetry.lock": "x\n"})
    out = fix("# escape=`\nFROM python\nWORKDIR /app\nCOPY . .\nRUN poetry config x y `\n  && poetry install\n",
              P, context=ctx, unsafe=True).text
    assert out == ("# escape=`\nFROM python\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
                   "RUN poetry config x y `\n  && poetry install --no-root\nCOPY . .\nRUN poetry install\n")


# -- what the installer reads besides its manifests ----------------------------------------

REQS = {"requirements.txt": "six\n", "app.py": "import six\n", "wheels/six.whl": "x", "mirror/simple/index.html": "x",
        "ci/constraints.txt": "six==1.16.0\n", "ci/pip.conf": "[global]\nno-index = true\n"}


@pytest.mark.parametrize(("setting", "named"), [
    ("ENV PIP_FIND_LINKS=/app/wheels", "PIP_FIND_LINKS names wheels"),
    ("ENV PIP_CONSTRAINT=ci/constraints.txt", "PIP_CONSTRAINT names ci/constraints.txt"),
    ("ENV PIP_CONFIG_FILE=/app/ci/pip.conf", "PIP_CONFIG_FILE names ci/pip.conf"),
    ("ENV PIP_INDEX_URL=file:///app/mirror/simple", "PIP_INDEX_URL names mirror/simple"),
    ("ENV UV_FIND_LINKS=wheels", None),   # uv's variables are not pip's
])
def test_variables_naming_files_of_the_source_copy_keep_the_install_below_it(tmp_path, setting, named):
    ctx = make_context(tmp_path, REQS)
    text = f"FROM python:3.11\nWORKDIR /app\n{setting}\nCOPY . .\nRUN pip install -r requirements.txt\n"
    [f] = findings(text, P, context=ctx)
    if named is None:
        assert f.fix is not None and f.fix.safety is Safety.SAFE
    else:
        assert f.fix is None and named in f.message and "only the source copy brings" in f.message


def test_options_naming_files_of_the_source_copy_keep_the_install_below_it(tmp_path):
    ctx = make_context(tmp_path, REQS)
    [f] = findings("FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
                   "RUN pip install --index-url file:///app/mirror/simple -r requirements.txt\n", P, context=ctx)
    assert f.fix is None and "--index-url names mirror/simple" in f.message
    # a command-prefix variable counts as much as an ENV
    [f] = findings("FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
                   "RUN PIP_CONSTRAINT=ci/constraints.txt pip install -r requirements.txt\n", P, context=ctx)
    assert f.fix is None and "PIP_CONSTRAINT" in f.message
    # a remote index is no file of the copy
    [f] = findings("FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
                   "RUN pip install -i https://pypi.org/simple -r requirements.txt\n", P, context=ctx)
    assert f.fix is not None and f.fix.safety is Safety.SAFE


def test_a_config_file_the_copy_puts_where_the_installer_looks_keeps_it_below(tmp_path):
    ctx = make_context(tmp_path, {"package.json": PKG, "package-lock.json": "{}\n", ".npmrc": "registry=x\n"})
    # HOME is /app: the copy puts .npmrc at ~/.npmrc, which npm reads; the project .npmrc is copied first anyway
    out = fix("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", P, context=ctx).text
    assert "COPY package.json package-lock.json .npmrc ./" in out
    ctx2 = make_context(tmp_path / "2", {"package.json": PKG, "package-lock.json": "{}\n", "npmrc": "registry=x\n"})
    [f] = findings("FROM node:20\nWORKDIR /usr/local/etc\nCOPY . .\nRUN npm ci\n", P, context=ctx2)
    assert f.fix is None and "/usr/local/etc/npmrc names npmrc" in f.message


def test_bundler_vendor_cache_goes_up_with_the_gemfile(tmp_path):
    ctx = make_context(tmp_path, {"Gemfile": "source 'https://rubygems.org'\ngem 'rack'\n", "Gemfile.lock": "x\n",
                                  "vendor/cache/rack-3.0.8.gem": "x", "app.rb": "1\n"})
    out = fix("FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install --local\n", P, context=ctx).text
    assert "COPY vendor/cache/rack-3.0.8.gem ./vendor/cache/\nRUN bundle install --local\nCOPY . .\n" in out
    many = {f"vendor/cache/g{i}.gem": "x" for i in range(201)}
    ctx2 = make_context(tmp_path / "2", {"Gemfile": "gem 'rack'\n", "Gemfile.lock": "x\n", **many})
    [f] = findings("FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install --local\n", P, context=ctx2)
    assert f.fix is None and "vendor/cache" in f.message

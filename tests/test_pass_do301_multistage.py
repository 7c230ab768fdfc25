"""DO301 multistage: before/after/no-op per ecosystem, exact output asserted.

The fixture cases under tests/fixtures/DO301/ (a Dockerfile and its build context/) are snapshot
tests of tests/test_fixtures.py; the tests here assert what goes beyond their text. The corpus
cases are read from corpus/ (not edited)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.config import Settings
from dockopt.findings import Finding, Safety
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES
from dockopt.passes.multistage import Multistage

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
FIXTURES = REPO / "tests" / "fixtures" / "DO301"
RUNTIME_BASE = {"go-scratch-certs": {"go": "scratch"}, "node-static": {"node": "nginx:stable"}}


def d(text: str) -> str:
    return textwrap.dedent(text)


def run(text: str, context: Path | None = None, runtime_base: dict[str, str] | None = None
        ) -> tuple[str, list[Finding]]:
    settings = Settings(runtime_base=runtime_base or {})
    path = context / "Dockerfile" if context else None
    linter = Linter([Multistage])
    findings = [f for f in linter.run(parse(text), path=path, context_dir=context, settings=settings)
                if f.code == "DO301"]
    res = fix_text(text, linter, unsafe=True, path=path, context_dir=context, settings=settings)
    out = res.text
    parse(out)
    oracle_view(out)  # BuildKit's parser accepts it
    again = fix_text(out, linter, unsafe=True, path=path, context_dir=context, settings=settings)
    assert again.text == out, "not idempotent"
    if out != text:
        assert not [f for f in linter.run(parse(out), path=path, context_dir=context, settings=settings)
                    if f.code == "DO301"], "DO301 fires again on its own output"
    # without --unsafe-fixes nothing changes
    assert fix_text(text, linter, path=path, context_dir=context, settings=settings).text == text
    return out, findings


def context_of(case: Path) -> Path:
    """A fixture's context/ (tests/fixtures/README.md); a corpus case is its own context."""
    return case / "context" if (case / "context").is_dir() else case


def split(case: Path, runtime_base: dict[str, str] | None = None) -> str:
    return run((case / "Dockerfile").read_text(encoding="utf-8"), context_of(case), runtime_base)[0]


# --------------------------------------------------------------------------- the corpus cases

def test_go_corpus_case_becomes_a_static_binary_on_distroless() -> None:
    assert split(CORPUS / "22-go-single-stage") == d("""\
        FROM golang:1.19 AS build
        ENV CGO_ENABLED=0
        WORKDIR /src
        COPY . .
        RUN go build -o /usr/local/bin/healthsrv .

        FROM gcr.io/distroless/static-debian12
        WORKDIR /src
        COPY --from=build /usr/local/bin/healthsrv /usr/local/bin/healthsrv
        EXPOSE 8080
        CMD ["healthsrv"]
        """)


def test_node_corpus_case_ships_the_build_output_without_dependencies() -> None:
    # package.json has devDependencies only: no npm in the runtime at all; package.json comes from
    # the build context, so a source edit re-runs only the COPY of the build output
    assert split(CORPUS / "16-node-single-stage-build") == d("""\
        FROM node:18 AS build
        WORKDIR /app
        COPY package.json package-lock.json ./
        RUN npm ci
        COPY src ./src
        RUN npm run build

        FROM node:18-slim
        WORKDIR /app
        COPY package.json /app/
        COPY --from=build /app/out /app/out
        CMD ["node", "out/tip.min.js"]
        """)


def test_node_build_script_output_read_from_the_entry_and_production_dependencies_installed() -> None:
    # the install runs before any source reaches the runtime; .env (dotenv reads it) and the
    # unknown case.toml go along; the build's own scripts/, src/, logs and Dockerfiles stay behind
    assert split(CORPUS / "15-node-copy-before-install") == d("""\
        FROM node:18 AS build
        WORKDIR /app
        COPY . .
        RUN npm install
        RUN npm run build

        FROM node:18-slim
        WORKDIR /app
        COPY package.json package-lock.json /app/
        RUN npm ci --omit=dev && npm cache clean --force
        COPY .env case.toml /app/
        COPY --from=build /app/out /app/out
        CMD ["node", "out/index.js"]
        """)


def test_static_site_generated_in_nginx_keeps_only_the_document_root() -> None:
    assert split(CORPUS / "24-static-site-single-stage") == d("""\
        FROM nginx:stable AS build
        RUN apt-get update && apt-get install -y python3
        COPY . /build
        RUN python3 /build/build.py /build/content /usr/share/nginx/html

        FROM nginx:stable
        COPY --from=build /usr/share/nginx/html/ /usr/share/nginx/html/
        EXPOSE 80
        """)


LIBS = ("RUN mkdir -p /runtime-libs && for bin in {bins}; do ldd \"$bin\" 2>/dev/null || true; done "
        "| awk '$3 ~ /^\\// {{print $3}}' | sort -u "
        "| grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|libutil|libgcc_s|libstdc\\+\\+|libz)\\.so|/ld-linux' "
        "| xargs -r cp --parents -L -t /runtime-libs")


def test_rust_corpus_case_copies_the_installed_binary_and_its_libraries() -> None:
    assert split(CORPUS / "25-rust-single-stage") == d("""\
        FROM rust:1.63 AS build
        WORKDIR /usr/src/tally
        COPY . .
        RUN cargo build --release && cp target/release/tally /usr/local/bin/tally
        {libs}

        FROM debian:bookworm-slim
        WORKDIR /usr/src/tally
        COPY --from=build /usr/local/bin/tally /usr/local/bin/tally
        COPY --from=build /runtime-libs/ /
        CMD ["tally"]
        """).format(libs=LIBS.format(bins="/usr/local/bin/tally"))


def test_java_corpus_case_runs_the_jar_on_the_jre() -> None:
    assert split(CORPUS / "26-java-single-stage") == d("""\
        FROM eclipse-temurin:17-jdk AS build
        WORKDIR /app
        COPY . .
        RUN javac -d classes src/main/java/demo/*.java \\
            && jar --create --file app.jar --main-class demo.Main -C classes .

        FROM eclipse-temurin:17-jre
        WORKDIR /app
        COPY --from=build /app/app.jar /app/app.jar
        CMD ["java", "-jar", "/app/app.jar"]
        """)


def test_c_corpus_case_reads_make_install_from_the_makefile() -> None:
    # `make` builds /src/crc32sum, `make install` puts it in /usr/local/bin: the CMD uses that one
    assert split(CORPUS / "27-c-make-single-stage") == d("""\
        FROM gcc:12 AS build
        WORKDIR /src
        COPY . .
        RUN make && make install
        {libs}

        FROM debian:bookworm-slim
        WORKDIR /src
        COPY --from=build /usr/local/bin/crc32sum /usr/local/bin/crc32sum
        COPY --from=build /runtime-libs/ /
        CMD ["crc32sum", "hello"]
        """).format(libs=LIBS.format(bins="/usr/local/bin/crc32sum"))


@pytest.mark.parametrize("name", ["21-node-clean", "23-go-multistage-distroless", "05-apt-single-run-clean",
                                  "14-python-clean", "08-python-copy-before-pip", "10-python-editable-install",
                                  "11-python-poetry", "31-generic-exec-form-clean", "20-node-copy-chown"])
def test_corpus_cases_without_a_toolchain_to_drop_are_left_alone(name: str) -> None:
    text = (CORPUS / name / "Dockerfile").read_text(encoding="utf-8")
    out, findings = run(text, CORPUS / name)
    assert out == text and findings == []


# --------------------------------------------------------------------------- fixtures

FIXTURE_CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "Dockerfile").exists())


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_fixture_rewrite_is_final(name: str) -> None:
    # the rewrite itself is the case's snapshot; `run` checks DO301 does not fire on it again and
    # that nothing changes without --unsafe-fixes
    split(FIXTURES / name, RUNTIME_BASE.get(name))


def test_fixture_set_covers_every_ecosystem() -> None:
    rewritten = [n for n in FIXTURE_CASES if "--- Dockerfile" in (FIXTURES / n / "snapshot.txt").read_text()]
    langs = {n.split("-", 1)[0] for n in rewritten}
    assert {"go", "node", "python", "rust", "java", "c"} <= langs


def test_go_scratch_gets_the_ca_bundle_and_zoneinfo_it_needs() -> None:
    out = split(FIXTURES / "go-scratch-certs", {"go": "scratch"})
    assert "FROM scratch" in out
    assert "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt" in out
    assert "COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo" in out
    # go build without -o names the binary after the module, /v2 suffix dropped
    assert "COPY --from=build /src/fetcher /src/fetcher" in out


def test_go_cgo_keeps_cgo_and_a_glibc_runtime() -> None:
    out = split(FIXTURES / "go-cgo")
    assert "CGO_ENABLED" not in out
    assert "FROM debian:bookworm-slim" in out and "COPY --from=build /runtime-libs/ /" in out


def test_go_with_a_created_user_needs_a_shell_in_the_runtime() -> None:
    out = split(FIXTURES / "go-useradd")
    runtime = out.split("\n\n", 1)[1]
    assert runtime.startswith("FROM debian:bookworm-slim\nARG VERSION=dev\nENV APP_VERSION=$VERSION\n")
    assert "RUN useradd --create-home api\nCOPY --from=build" in runtime
    assert runtime.endswith('USER api\nLABEL org.opencontainers.image.version=$VERSION\nEXPOSE 8080\n'
                            'HEALTHCHECK CMD ["api", "-health"]\nENTRYPOINT ["api"]\n')


def test_python_dev_package_is_replaced_by_its_library_and_runtime_tools_stay() -> None:
    out = split(FIXTURES / "python-libpq")
    runtime = out.split("\n\n", 1)[1]
    assert "apt-get install -y --no-install-recommends curl libpq5" in runtime   # curl: HEALTHCHECK uses it
    assert "build-essential" not in runtime and "libpq-dev" not in runtime
    assert "--upgrade" not in out.split("\n\n", 1)[0].splitlines()[-1]            # not a `pip wheel` option


def test_node_runtime_gets_the_files_the_app_reads_and_the_npmrc_before_its_install() -> None:
    runtime = split(FIXTURES / "node-runtime-files").split("\n\n", 1)[1]
    lines = runtime.splitlines()
    # the registry settings reach `npm ci --omit=dev`, which runs before any source arrives
    assert lines.index("COPY package.json package-lock.json .npmrc /srv/app/") \
        < lines.index("RUN npm ci --omit=dev && npm cache clean --force") < lines.index("COPY views /srv/app/views")
    for data in ("views", "public", "config", "locales"):     # templates, assets, settings, translations
        assert f"COPY {data} /srv/app/{data}" in lines
    assert "src" not in runtime and "tsconfig" not in runtime     # compiled into dist/


def test_node_app_that_opens_paths_it_does_not_spell_out_keeps_its_whole_directory() -> None:
    out, findings = run((FIXTURES / "node-unseen-reads" / "Dockerfile").read_text(encoding="utf-8"),
                        FIXTURES / "node-unseen-reads" / "context")
    runtime = out.split("\n\n", 1)[1]
    assert "COPY src /app/src" in runtime and "COPY tsconfig.json /app/" in runtime
    assert "src/main.ts:5 readFileSync" in findings[0].message


def test_node_split_without_a_build_context_is_reported_without_a_fix() -> None:
    text = (CORPUS / "16-node-single-stage-build" / "Dockerfile").read_text(encoding="utf-8")
    out, findings = run(text)
    assert out == text and findings[0].fix is None
    assert "cannot tell which of its files the app reads at run time" in findings[0].message


def test_python_runtime_keeps_what_its_own_steps_run_and_the_libraries_source_builds_link() -> None:
    runtime = split(FIXTURES / "python-django-gettext").split("\n\n", 1)[1]
    # `manage.py compilemessages` runs msgfmt in the runtime stage; psycopg2 (no wheel on PyPI) was
    # built against the full image's libpq, which python:3.12-slim lacks
    assert "apt-get install -y --no-install-recommends gettext libpq5" in runtime
    assert "RUN python manage.py compilemessages" in runtime and "gcc" not in runtime


def test_python_near_miss_binary_wheels_and_unused_gettext_still_split_without_them() -> None:
    out = split(FIXTURES / "python-binary-wheels")
    runtime = out.split("\n\n", 1)[1]
    assert runtime.startswith("FROM python:3.12-slim\n")
    assert "apt-get" not in runtime          # psycopg2-binary bundles libpq; nothing runs msgfmt


# --------------------------------------------------------------------------- what it will not do

@pytest.mark.parametrize("name,reason", [
    ("go-templates", "reads files by relative path at run time"),
    ("rust-reads-templates", "reads files by relative path at run time (src/main.rs: templates/**/*.html)"),
    ("node-entry-outside", "not in the build output"),
])
def test_fixture_reported_without_a_fix(name: str, reason: str) -> None:
    case = FIXTURES / name
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    out, findings = run(text, context_of(case))
    assert out == text
    assert len(findings) == 1 and findings[0].fix is None and reason in findings[0].message


@pytest.mark.parametrize("text,reason", [
    ("FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go build ./...\nCMD [\"app\"]\n", "no binary comes out"),
    ("FROM golang:1.19\nCOPY . /src\nRUN cd /src && go build -o /bin/app .\n", "no CMD or ENTRYPOINT"),
    ("FROM golang:1.19\nCOPY . /src\nRUN go install ./cmd/app\nCMD [\"app\"]\n", "go install"),
    ("FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go build -o /bin/app .\nCMD [\"dlv\", \"exec\", \"/bin/app\"]\n",
     "runs `dlv`"),
    ("FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go build -o \"$OUT\" .\nCMD [\"app\"]\n",
     "only known at build time"),
    ("FROM gcc:12\nCOPY . /src\nWORKDIR /src\nRUN make\nCMD [\"./app\"]\n", "Makefile that the build context"),
    ("FROM maven:3-eclipse-temurin-17\nCOPY . .\nRUN mvn package\nCMD [\"sh\", \"-c\", \"java -jar target/*.jar\"]\n",
     None),
    ("FROM eclipse-temurin:17-jdk\nCOPY . /app\nWORKDIR /app\nRUN ./gradlew build\n"
     "CMD [\"java\", \"-cp\", \"lib\", \"Main\"]\n",
     "names no jar"),
    ("FROM python:3.11\nRUN apt-get update && apt-get install -y gcc\nCOPY . .\nRUN pip install -e .\nCMD [\"app\"]\n",
     "-e"),
])
def test_reported_without_a_fix_when_the_artifact_is_unclear(text: str, reason: str | None) -> None:
    out, findings = run(text)
    if reason is None:
        return
    assert out == text
    assert len(findings) == 1 and findings[0].fix is None, findings
    assert reason in findings[0].message


def test_glob_jar_in_a_shell_cmd_is_copied_by_its_pattern() -> None:
    out, _ = run("FROM maven:3-eclipse-temurin-17\nWORKDIR /src\nCOPY . .\nRUN mvn -B package\n"
                 "CMD java -jar target/*.jar\n")
    assert out.endswith("FROM eclipse-temurin:17-jre\nWORKDIR /src\n"
                        "COPY --from=build /src/target/*.jar /src/target/\nCMD java -jar target/*.jar\n")


@pytest.mark.parametrize("text", [
    # already split
    "FROM golang:1.19 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\nCMD [\"/app\"]\n",
    # no build in the image
    "FROM golang:1.19\nCMD [\"go\", \"version\"]\n",
    "FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\nCMD [\"node\", \"index.js\"]\n",
    "FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
    # build deps removed again in the same RUN (docker-library style)
    ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc make && make -C /src install"
     " && apt-get purge -y gcc make\nCMD [\"app\"]\n"),
    ("FROM debian:bookworm-slim\nRUN savedAptMark=\"$(apt-mark showmanual)\" && apt-get update"
     " && apt-get install -y --no-install-recommends gcc libssl-dev make && make -C /usr/src/x install"
     " && apt-mark auto '.*' > /dev/null && apt-mark manual $savedAptMark"
     " && apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false\nCMD [\"x\"]\n"),
    # only packaging tools from pip
    "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc && pip install --upgrade pip setuptools\n",
    "FROM scratch\nCOPY app /app\n",
    "ARG BASE\nFROM $BASE\nRUN go build -o /app .\n",
])
def test_no_op(text: str) -> None:
    out, findings = run(text)
    assert out == text and findings == []


def test_without_a_build_context_go_keeps_cgo_and_gets_certificates_and_zoneinfo() -> None:
    out, _ = run(d("""\
        FROM golang:1.19-bookworm
        WORKDIR /src
        COPY . .
        RUN go build -o /usr/local/bin/app ./cmd/app
        ENTRYPOINT ["app"]
        """))
    apt = "apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata"
    assert out.split("\n\n", 1)[1] == d(f"""\
        FROM debian:bookworm-slim
        WORKDIR /src
        RUN {apt} && rm -rf /var/lib/apt/lists/*
        COPY --from=build /usr/local/bin/app /usr/local/bin/app
        COPY --from=build /runtime-libs/ /
        ENTRYPOINT ["app"]
        """)


def test_runtime_base_setting_is_used_for_the_language() -> None:
    out, _ = run("FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n"
                        "ENTRYPOINT [\"/app\"]\n", runtime_base={"go": "gcr.io/distroless/static-debian12:nonroot"})
    assert "FROM gcr.io/distroless/static-debian12:nonroot\n" in out
    assert "ENV CGO_ENABLED=0" not in out            # the RUN sets it already


def test_named_single_stage_keeps_its_name_and_global_args_are_redeclared() -> None:
    out, _ = run(d("""\
        ARG GO=1.19
        ARG PORT=8080
        FROM golang:${GO} AS compile
        WORKDIR /src
        COPY . .
        RUN CGO_ENABLED=0 go build -o /out/app .
        EXPOSE ${PORT}
        CMD ["/out/app"]
        """))
    assert out == d("""\
        ARG GO=1.19
        ARG PORT=8080
        FROM golang:${GO} AS compile
        WORKDIR /src
        COPY . .
        RUN CGO_ENABLED=0 go build -o /out/app .

        FROM gcr.io/distroless/static-debian12
        ARG PORT
        WORKDIR /src
        COPY --from=compile /out/app /out/app
        EXPOSE ${PORT}
        CMD ["/out/app"]
        """)


def test_crlf_file_stays_crlf() -> None:
    text = "FROM golang:1.19\r\nWORKDIR /src\r\nCOPY . .\r\nRUN CGO_ENABLED=0 go build -o /app .\r\nCMD [\"/app\"]\r\n"
    out, _ = run(text)
    assert "\n" not in out.replace("\r\n", "")
    assert out.endswith('COPY --from=build /app /app\r\nCMD ["/app"]\r\n')


def test_the_fix_is_unsafe_and_registered() -> None:
    assert Multistage in ALL_PASSES
    text = (CORPUS / "22-go-single-stage" / "Dockerfile").read_text(encoding="utf-8")
    [f] = [f for f in Linter([Multistage]).run(parse(text), context_dir=CORPUS / "22-go-single-stage")]
    assert f.fix is not None and f.fix.safety is Safety.UNSAFE
    assert "gcr.io/distroless/static-debian12" in f.message


def test_cli_runtime_base_flag_and_unsafe_fixes(tmp_path: Path) -> None:
    import shutil

    from conftest import run_cli

    case = tmp_path / "go"
    shutil.copytree(CORPUS / "22-go-single-stage", case)
    before = (case / "Dockerfile").read_text(encoding="utf-8")
    r = run_cli("--write", "--select", "DO301", str(case / "Dockerfile"))
    assert (case / "Dockerfile").read_text(encoding="utf-8") == before      # unsafe: held back
    r = run_cli("--write", "--unsafe-fixes", "--select", "DO301", "--runtime-base", "scratch",
                str(case / "Dockerfile"))
    # without --verify to prove it, --unsafe-fixes applies the split only when forced
    assert (case / "Dockerfile").read_text(encoding="utf-8") == before and b"--force-fix DO301" in r.stderr
    r = run_cli("--write", "--unsafe-fixes", "--force-fix", "DO301", "--select", "DO301", "--runtime-base",
                "scratch", str(case / "Dockerfile"))
    assert r.returncode in (0, 1), r.stderr.decode()
    after = (case / "Dockerfile").read_text(encoding="utf-8")
    assert "\nFROM scratch\n" in after
    assert "COPY --from=build /usr/local/bin/healthsrv /usr/local/bin/healthsrv" in after
    # the program makes no HTTPS calls and loads no time zone: nothing else from the builder
    assert "ca-certificates" not in after and "zoneinfo" not in after


PY_C_EXT = d("""\
    FROM python:3.11
    RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \\
        && rm -rf /var/lib/apt/lists/*
    WORKDIR /srv
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app.py .
    CMD ["python", "app.py"]
    """)


@pytest.mark.parametrize(("target", "mounted"), [("buildkit", True), ("classic", False)])
def test_python_wheels_never_stay_in_the_image(target, mounted):
    settings = Settings(target=target)
    linter = Linter([Multistage])
    out = fix_text(PY_C_EXT, linter, unsafe=True, settings=settings).text
    oracle_view(out)
    runtime = out.split("FROM python:3.11-slim", 1)[1]
    mount = "RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install"
    assert (mount in runtime) is mounted
    # the classic builder cannot mount, and copied wheels would stay in a layer: the builder installs
    # into a virtualenv the runtime copies whole (a --prefix tree's place depends on how the base's
    # Python lays out its site directory), so no wheel reaches the image either way
    assert ("/wheels" in runtime) is mounted
    # ... before the build-context copies, which it does not read
    venv = ('COPY --from=build /opt/venv /opt/venv\nENV PATH="/opt/venv/bin:$PATH"\n'
            'COPY requirements.txt .\nCOPY app.py .')
    assert (venv in runtime) is not mounted
    assert fix_text(out, linter, unsafe=True, settings=settings).text == out


# --------------------------------------------------------------------------- composed with the other fixes

def _steps_after_source_edit(text: str, case: Path, source: str, pending: dict[str, str] | None = None) -> int:
    from dockopt.facts.file_facts import FileFacts
    return FileFacts(parse(text), case / "Dockerfile", case, pending_files=dict(pending or {})).rebuild.steps(source)


@pytest.mark.parametrize("name,source,extra", [
    ("08-python-copy-before-pip", "app.py", 0),        # no toolchain to drop: the hoist alone
    ("15-node-copy-before-install", "src/index.js", 0),
    # the split's one extra step: the runtime's COPY of the rebuilt output (the install stays cached)
    ("16-node-single-stage-build", "src/tip.js", 1),
])
def test_a_source_edit_re_runs_no_more_steps_after_every_fix(name: str, source: str, extra: int) -> None:
    case = CORPUS / name
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    res = fix_text(text, Linter(), unsafe=True, path=case / "Dockerfile", context_dir=case)
    assert ("FROM node:18-slim" in res.text) is name.startswith(("15", "16"))
    before = _steps_after_source_edit(text, case, source)
    after = _steps_after_source_edit(res.text, case, source, res.files)
    assert after <= before + extra, res.text


def test_python_builder_reads_only_the_requirements_and_the_runtime_installs_before_the_source() -> None:
    case = FIXTURES / "python-source-before-pip"
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    out = split(case)
    builder, runtime = out.split("\n\n", 1)
    assert "COPY . ." not in builder and "COPY requirements.txt /app/requirements.txt\nRUN pip wheel" in builder
    assert runtime.index("pip install") < runtime.index("COPY . .")
    # a source edit re-runs the runtime's COPY alone: the wheels and their install stay cached
    assert _steps_after_source_edit(out, case / "context", "app.py") == 1 \
        < _steps_after_source_edit(text, case / "context", "app.py")


def test_python_runtime_drops_an_update_left_without_an_install() -> None:
    runtime = split(FIXTURES / "python-update-alone").split("\n\n", 1)[1]
    assert "apt-get" not in runtime           # the install held gcc alone: its update goes too


def test_node_corpus_case_reading_templates_keeps_them_and_the_npmrc() -> None:
    runtime = split(CORPUS / "40-node-runtime-templates").split("\n\n", 1)[1]
    assert "COPY package.json package-lock.json .npmrc /app/\nRUN npm ci --omit=dev" in runtime
    assert "COPY config /app/config" in runtime and "COPY templates /app/templates" in runtime
    assert "scripts" not in runtime and "src" not in runtime


def test_after_the_split_no_cleanup_or_cache_goes_where_nothing_is_downloaded_or_shipped() -> None:
    # the builder never ships: its npm ci gets no `npm cache clean` (without cache mounts, DO112)
    case = CORPUS / "40-node-runtime-templates"
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    out = fix_text(text, Linter([p for p in ALL_PASSES if p.code != "DO112"]), unsafe=True,
                   path=case / "Dockerfile", context_dir=case).text
    builder, runtime = out.split("\n\n", 1)
    assert "\nRUN npm ci\n" in builder and "cache clean" not in builder
    assert "RUN npm ci --omit=dev && npm cache clean --force" in runtime
    # the runtime's pip installs local wheels only: no pip cache mount for it
    case = FIXTURES / "python-source-before-pip"
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    out = fix_text(text, Linter(), unsafe=True, path=case / "Dockerfile", context_dir=case / "context").text
    runtime = out.split("\n\n", 1)[1]
    assert "RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install --no-cache-dir" in runtime
    assert "type=cache" not in runtime


def test_python_corpus_case_keeps_gettext_for_the_msgfmt_step_of_the_runtime() -> None:
    runtime = split(CORPUS / "41-python-runtime-gettext").split("\n\n", 1)[1]
    assert "apt-get install -y --no-install-recommends gettext &&" in runtime
    assert "RUN msgfmt -o locale/fr/LC_MESSAGES/fastsum.mo" in runtime and "gcc" not in runtime


def test_node_directory_the_context_only_fills_in_part_comes_whole_from_the_builder(tmp_path: Path) -> None:
    case = CORPUS / "16-node-single-stage-build"
    for rel in ("package.json", "package-lock.json", "src/tip.js"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text((case / rel).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "prod.json").write_text("{}")
    text = ("FROM node:18\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n"
            "COPY config/prod.json ./config/\nCOPY src ./src\nRUN npm run build\nCMD [\"node\", \"out/tip.min.js\"]\n")
    runtime = run(text, tmp_path)[0].split("\n\n", 1)[1]
    # config/ holds what the COPY put in it and whatever the image had there: the builder's copy
    assert "COPY --from=build /app/config /app/config" in runtime

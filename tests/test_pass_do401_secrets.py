"""DO401 secret-in-arg-env: secret names (BuildKit's SecretsUsedInArgOrEnv), credential-shaped
values, masking of the values in every output format, suppressions and the project corpus."""
from __future__ import annotations

import json

import pytest
from conftest import REPO, run_cli

from dockopt import parse
from dockopt.findings import Safety
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes import ALL_PASSES
from dockopt.passes.secrets import SecretInArgEnv, credential_shape, secret_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

# credential-shaped values built from pieces, so that no scanner takes this file for a leak
AWS_ID = "AKIA" + "Q3EXAMPLE7" + "ZZ4TYU"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6q7R8"
GITHUB_PAT = "github_pat_" + "A" * 22 + "_" + "b" * 59
GITLAB = "glpat-" + "x1Y2z3W4v5U6t7S8r9Q0"
SLACK = "xoxb-" + "123456789012-" + "abcdefABCDEF123456"
PEM = "-----BEGIN " + "OPENSSH PRIVATE KEY-----"
PLAIN = "s3cr3t-Value-9f8e"     # a secret of no particular shape


def lint(text: str):
    return Linter([SecretInArgEnv]).run(parse(text))


def keys(text: str) -> list[str]:
    return [f.extra["key"] for f in lint(text)]


def test_registered_with_docs():
    assert SecretInArgEnv in ALL_PASSES
    docs = SecretInArgEnv.docs()
    for heading in ("What it does", "Why is this bad?", "Example", "Fix safety"):
        assert f"## {heading}" in docs
    assert "--mount=type=secret" in docs and "--secret" in docs


# ------------------------------------------------------------------ names, as BuildKit reads them

@pytest.mark.parametrize("key", [
    "DB_PASSWORD", "password", "PASSWD", "MYSQL_ROOT_PWORD", "SECRET", "SECRET_PASSPHRASE", "SUPER_Secret",
    "super_duper_secret_token", "auth", "GITHUB_TOKEN", "api_key", "APIKEY", "AWS_SECRET_ACCESS_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS", "DOCKER_CREDENTIAL", "git_key", "GPG_KEY", "GPG_KEY_URL",
    "NPM__TOKEN", "KEY",
])
def test_secret_names(key):
    assert secret_name(key)


@pytest.mark.parametrize("key", [
    # no underscore-delimited part is a secret word
    "API_URL", "MONKEY", "KEYS", "PASSWORDS", "TOKENIZER_PATH", "AUTHOR", "sunflower", "api-key", "SECRETS",
    # a part is on BuildKit's allow-list (public, file, version)
    "PUBLIC_KEY_PATH", "PUBLIC_KEY", "NODE_AUTH_TOKEN_FILE", "PASSWORD_FILE", "GPG_KEY_VERSION",
    "SECRET_VERSION", "Public_Token",
])
def test_not_secret_names(key):
    assert not secret_name(key)


def test_env_pairs_legacy_form_and_arg_with_and_without_default():
    text = (f"FROM debian\nENV API_URL=https://x API_TOKEN=$API_TOKEN DB_PASSWORD={PLAIN}\n"
            f"ENV MYSQL_PASSWORD {PLAIN} and more\nARG NPM_TOKEN\nARG COLOR=blue SIGNING_KEY={PLAIN} auth\n")
    found = lint(text)
    assert [(f.line, f.extra["instruction"], f.extra["key"]) for f in found] == [
        (2, "ENV", "API_TOKEN"), (2, "ENV", "DB_PASSWORD"), (3, "ENV", "MYSQL_PASSWORD"),
        (4, "ARG", "NPM_TOKEN"), (5, "ARG", "SIGNING_KEY"), (5, "ARG", "auth")]
    assert all(f.extra["reason"] == "name" for f in found)


def test_every_stage_counts_but_not_arguments_before_from():
    text = "ARG GITHUB_TOKEN\nFROM debian AS build\nARG GITHUB_TOKEN\nFROM debian\nENV API_KEY=1\n"
    assert [(f.line, f.extra["key"]) for f in lint(text)] == [(3, "GITHUB_TOKEN"), (5, "API_KEY")]


def test_onbuild_env_and_arg():
    found = lint(f"FROM debian\nONBUILD ENV GITHUB_TOKEN={PLAIN}\nONBUILD ARG DB_PASSWORD\nONBUILD RUN make\n")
    assert [(f.line, f.extra["instruction"], f.extra["key"]) for f in found] == [
        (2, "ONBUILD ENV", "GITHUB_TOKEN"), (3, "ONBUILD ARG", "DB_PASSWORD")]
    assert "ONBUILD triggers are kept as text" in found[0].message


def test_a_key_set_twice_in_one_instruction_is_reported_once():
    assert keys("FROM debian\nENV TOKEN=a TOKEN=b\n") == ["TOKEN"]


@pytest.mark.parametrize("text", [
    "FROM debian\nENV API_URL=https://api.example.invalid/v1 NODE_ENV=production\n",
    "FROM debian\nENV PUBLIC_KEY_PATH=/x NODE_AUTH_TOKEN_FILE=/run/secrets/npm\n",
    "FROM debian\nARG NODE_VERSION=20 PYTHON_VERSION\nLABEL secret=yes\n",
    "FROM debian\nRUN --mount=type=secret,id=token,env=GITHUB_TOKEN make\n",
    "FROM debian\nENV HOME /root\n",
])
def test_negatives(text):
    assert lint(text) == []


# ------------------------------------------------------------------ credential-shaped values

@pytest.mark.parametrize("value, what", [
    (AWS_ID, "an AWS access key id"),
    ("ASIA" + "Y" * 16, "an AWS access key id"),
    (GITHUB, "a GitHub token"),
    ("gho_" + "z" * 36, "a GitHub token"),
    (GITHUB_PAT, "a GitHub token"),
    (GITLAB, "a GitLab access token"),
    (SLACK, "a Slack token"),
    (PEM + "\\nMIIE...", "a private key"),
    ("https://deploy:" + PLAIN + "@git.example.invalid/repo.git", "a URL with a password"),
])
def test_credential_shaped_values(value, what):
    assert credential_shape(value) == what
    [f] = lint(f'FROM debian\nENV CONFIG_VALUE="{value}"\n')
    assert f.extra == {"instruction": "ENV", "key": "CONFIG_VALUE", "reason": what}
    assert f"the value looks like {what}" in f.message


@pytest.mark.parametrize("value", [
    "AKIA" + "x" * 16,                    # lower case: not an access key id
    "AKIA" + "Y" * 17,                    # too long
    "XAKIA" + "Y" * 16,                   # inside a longer word
    "ghp_" + "a" * 35,                    # too short
    "-----BEGIN PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----",
    "https://user:${PASSWORD}@host/x",   # the password is a variable
    "https://$USER:$PASS@host/x",
    "git@github.com:org/repo.git",
    "ssh://git@github.com/org/repo",
    "http://proxy.example:3128",
    "https://example.com/a:b@c",          # ':' and '@' in the path, not in the authority
    "postgres://db:5432/app",
    "",
    None,
])
def test_values_that_are_not_credentials(value):
    assert credential_shape(value) is None


def test_arg_default_with_a_token_is_reported_once_naming_the_value_shape():
    [f] = lint(f"FROM debian\nARG GITHUB_TOKEN={GITHUB}\n")
    assert f.extra["reason"] == "a GitHub token" and f.extra["key"] == "GITHUB_TOKEN"


# ------------------------------------------------------------------ message, fix, suppressions

def test_message_names_the_key_masks_the_value_and_says_what_to_do():
    [f] = lint(f"FROM debian\nENV DB_PASSWORD={PLAIN}\n")
    assert f.code == "DO401" and f.line == 2
    assert f.message.startswith("ENV DB_PASSWORD=****: the name says it is a secret")
    assert "`docker inspect`" in f.message
    assert "RUN --mount=type=secret,id=..." in f.message and "docker build --secret" in f.message
    assert PLAIN not in f.message and PLAIN not in f.fix.title and PLAIN not in json.dumps(f.extra)
    assert f.fix.safety is Safety.DISPLAY and f.fix.edits == () and not f.fixable
    [a] = lint("FROM debian\nARG NPM_TOKEN\n")
    assert a.message.startswith("ARG NPM_TOKEN: ") and "`docker history`" in a.message


def test_nothing_is_rewritten():
    text = f"FROM debian\nARG API_TOKEN={PLAIN}\nENV API_TOKEN=$API_TOKEN\n"
    assert fix_text(text, Linter([SecretInArgEnv]), unsafe=True).text == text


def test_inline_suppression():
    text = ("FROM debian\n# dockopt: ignore=DO401\nENV SIGNING_KEY_ID=1234\n"
            "# dockopt: ignore=DO101\nENV API_KEY=x\n")
    assert [f.line for f in lint(text)] == [5]


@pytest.fixture
def secret_file(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_text(f"FROM debian\nARG API_TOKEN={PLAIN}\nENV DB_PASSWORD {PLAIN}\nENV AWS_CONFIG={AWS_ID}\n"
                 f"ONBUILD ENV DEPLOY_URL=https://bot:{PLAIN}@git.example.invalid/x\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_values_are_masked_in_every_output_format(secret_file, fmt):
    r = run_cli("--format", fmt, "--select", "DO401", str(secret_file))
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 1, out
    assert out.count("DO401") >= 4
    for value in (PLAIN, AWS_ID):
        assert value not in out
    if fmt == "json":
        found = json.loads(r.stdout)["files"][0]["findings"]
        assert [(f["location"]["line"], f["extra"]["key"]) for f in found] == [
            (2, "API_TOKEN"), (3, "DB_PASSWORD"), (4, "AWS_CONFIG"), (5, "DEPLOY_URL")]
        assert {f["fix"]["safety"] for f in found} == {"display"}
    if fmt == "sarif":
        results = json.loads(r.stdout)["runs"][0]["results"]
        assert [res["ruleId"] for res in results] == ["DO401"] * 4


def test_select_and_ignore(secret_file):
    assert run_cli("--select", "DO4", str(secret_file)).returncode == 1
    assert run_cli("--ignore", "DO401", "--select", "DO4", str(secret_file)).returncode == 0


# ------------------------------------------------------------------ the project corpus

def test_project_corpus_cases():
    """DO401 fires where a case.toml lists it in should_fire, and not where should_not_fire does."""
    checked = 0
    for case in sorted(p for p in (REPO / "corpus").iterdir() if (p / "case.toml").exists()):
        meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
        found = lint((case / "Dockerfile").read_text(encoding="utf-8"))
        if "DO401" in meta["should_fire"]:
            assert found, case.name
            checked += 1
        elif "DO401" in meta["should_not_fire"]:
            assert not found, case.name
    assert checked >= 1


def test_corpus_secret_case_reports_exactly_the_secrets():
    text = (REPO / "corpus" / "30-generic-secret-in-env" / "Dockerfile").read_text(encoding="utf-8")
    assert [(f.line, f.extra["key"]) for f in lint(text)] == [(2, "API_TOKEN"), (4, "API_TOKEN"), (5, "DB_PASSWORD")]



@pytest.mark.parametrize("text", [
    "FROM python:3.11-slim\nENV GPG_KEY A035C8C19219BA821ECEA86B64E628F8D684696D\n",
    "FROM debian:bookworm-slim\nENV SWIFT_SIGNING_KEY=52BB7E3DE28A71BE22EC05FFEF80A866B47A981F\n",
    "FROM debian:bookworm-slim\nARG SWIFT_SIGNING_KEY=A62AE125BBBFBB96A6E042EC925CC1CCED3D1561\n"
    "ENV SWIFT_SIGNING_KEY=$SWIFT_SIGNING_KEY\n",
    "ARG GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\nFROM debian:bookworm-slim\nARG GPG_KEY\n"
    "ENV GPG_KEY=${GPG_KEY}\n",
    "FROM debian:bookworm-slim\nARG PGP_KEYS=\"4ED778F539E3634C779C87C6D7062848A1AB005C 0x94AE36675C464D64\"\n",
])
def test_public_key_fingerprints_are_not_secrets(text):
    assert not Linter([SecretInArgEnv]).run(parse(text))


@pytest.mark.parametrize("text", [
    "FROM debian:bookworm-slim\nENV GPG_KEY=not-a-fingerprint\n",                 # any other value
    "FROM debian:bookworm-slim\nENV API_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",  # hex, but a name
    "FROM debian:bookworm-slim\nARG GPG_KEY\n",                                     # no value: unknown
    "FROM debian:bookworm-slim\nARG GPG_KEY\nENV GPG_KEY=$GPG_KEY\n",              # passed on, unknown
])
def test_other_key_values_are_still_reported(text):
    codes = [f.code for f in Linter([SecretInArgEnv]).run(parse(text))]
    assert codes and set(codes) == {"DO401"}


def test_a_build_stage_is_named_as_one():
    text = ("FROM debian AS build\nENV API_TOKEN=abc123secret\nRUN make\n"
            "FROM debian\nENV DB_PASSWORD=hunter22\nCOPY --from=build /x /x\n")
    build, final = Linter([SecretInArgEnv]).run(parse(text))
    assert "of this build stage: no shipped image holds it" in build.message
    assert "build stage" not in final.message and "kept in the image config" in final.message

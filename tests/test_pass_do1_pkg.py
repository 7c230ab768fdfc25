"""DO102-DO111, the package-manager rules: before/after/no-op cases, the traps, idempotence and
BuildKit's parser accepting every output."""
from __future__ import annotations

import textwrap

import pytest
from oracle import oracle_view

from dockopt import parse
from dockopt.findings import Safety
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.apk_no_cache import ApkNoCache
from dockopt.passes.apt_lists_cleanup import AptListsCleanup
from dockopt.passes.apt_missing_yes import AptMissingYes
from dockopt.passes.apt_no_install_recommends import AptNoInstallRecommends
from dockopt.passes.apt_not_apt_get import AptNotAptGet
from dockopt.passes.apt_update_alone import AptUpdateAlone
from dockopt.passes.gem_no_document import GemNoDocument
from dockopt.passes.js_cache_clean import JsCacheClean
from dockopt.passes.merge_runs import MergeRuns
from dockopt.passes.pip_no_cache import PipNoCacheDir
from dockopt.passes.rpm_clean import RpmClean

PKG = [AptUpdateAlone, AptMissingYes, AptListsCleanup, AptNotAptGet, AptNoInstallRecommends,
       ApkNoCache, PipNoCacheDir, JsCacheClean, RpmClean, GemNoDocument]


def fix(text: str, *passes, unsafe: bool = False) -> str:
    text = textwrap.dedent(text)
    linter = Linter(list(passes))
    out = fix_text(text, linter, unsafe=unsafe).text
    parse(out)
    oracle_view(out)  # BuildKit's parser accepts it
    assert fix_text(out, linter, unsafe=unsafe).text == out  # idempotent
    return out


def findings(text: str, *passes):
    return Linter(list(passes)).run(parse(textwrap.dedent(text)))


def d(text: str) -> str:
    return textwrap.dedent(text)


# -- DO102 apt-update-alone ----------------------------------------------------------------

def test_do102_update_alone_moves_into_the_install_run():
    before = "FROM debian\nRUN apt-get update\nCOPY . .\nRUN apt-get install -y curl\n"
    assert fix(before, AptUpdateAlone) == "FROM debian\nCOPY . .\nRUN apt-get update && apt-get install -y curl\n"


def test_do102_consecutive_runs():
    before = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n"
    [f] = findings(before, AptUpdateAlone)
    assert f.line == 2 and "line 3" in f.message
    # DO102's fix and DO101's merge overlap: the merge (the wider) goes first, DO102 has nothing left
    after = "FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    assert fix(before, MergeRuns, AptUpdateAlone) == after
    assert fix(before, AptUpdateAlone) == "FROM debian\nRUN apt-get update && apt-get install -y curl\n"


def test_do102_update_kept_when_something_runs_between():
    before = "FROM debian\nRUN apt-get update\nRUN ./setup.sh\nRUN apt-get install -y curl\n"
    assert fix(before, AptUpdateAlone) == (
        "FROM debian\nRUN apt-get update\nRUN ./setup.sh\nRUN apt-get update && apt-get install -y curl\n")


def test_do102_every_later_install_gets_its_update_and_sudo_is_kept():
    before = d("""\
        FROM ubuntu AS base
        RUN apt-get update
        RUN ./x
        RUN sudo apt-get install -y a
        FROM base
        RUN DEBIAN_FRONTEND=noninteractive apt-get install -y b
        """)
    assert fix(before, AptUpdateAlone) == d("""\
        FROM ubuntu AS base
        RUN apt-get update
        RUN ./x
        RUN sudo apt-get update && sudo apt-get install -y a
        FROM base
        RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y b
        """)


def test_do102_install_without_any_update():
    before = "FROM debian\nRUN cd /x && apt-get install -y curl\n"
    assert fix(before, AptUpdateAlone) == "FROM debian\nRUN cd /x && apt-get update && apt-get install -y curl\n"


def test_do102_install_after_an_earlier_update_is_not_reported_as_missing():
    text = "FROM debian\nRUN apt-get update && apt-get install -y a\nRUN apt-get install -y b\n"
    assert findings(text, AptUpdateAlone) == []   # DO104's concern: the lists must stay for it


@pytest.mark.parametrize("text", [
    "FROM debian\nRUN a || apt-get install -y curl\n",            # after ||: a prefix would change what runs
    "FROM debian\nRUN if apt-get install -y curl; then echo; fi\n",  # in a condition
    "FROM debian\nRUN echo $(apt-get install -y curl)\n",          # inside $( )
])
def test_do102_no_prefix_where_it_would_change_meaning(text):
    assert fix(text, AptUpdateAlone) == text


# -- DO103 apt-missing-yes -----------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN apt-get install curl", "RUN apt-get install -y curl"),
    ("RUN apt-get upgrade", "RUN apt-get upgrade -y"),
    ("RUN apt-get dist-upgrade && apt-get purge x", "RUN apt-get dist-upgrade -y && apt-get purge -y x"),
    ("RUN sudo apt-get -q install curl", "RUN sudo apt-get -q install -y curl"),
    ("RUN apt install curl", "RUN apt install -y curl"),
])
def test_do103_adds_yes(before, after):
    assert fix(f"FROM debian\n{before}\n", AptMissingYes) == f"FROM debian\n{after}\n"


@pytest.mark.parametrize("run", [
    "RUN apt-get install -y curl", "RUN apt-get install --yes curl", "RUN apt-get -qq install curl",
    "RUN apt-get install -qy curl", "RUN apt-get --assume-yes install curl", "RUN apt-get -q=2 install curl",
    "RUN apt-get -o APT::Get::Assume-Yes=true install curl", "RUN apt-get update", "RUN apt-get clean",
    'RUN ["apt-get", "install", "curl"]', "ONBUILD RUN apt-get install curl",
])
def test_do103_no_op(run):
    text = f"FROM debian\n{run}\n"
    assert fix(text, AptMissingYes) == text


def test_do103_across_continuation_lines_and_crlf():
    before = "FROM debian\r\nRUN apt-get update && \\\r\n    apt-get install \\\r\n      curl\r\n"
    assert fix(before, AptMissingYes) == (
        "FROM debian\r\nRUN apt-get update && \\\r\n    apt-get install -y \\\r\n      curl\r\n")


# -- DO104 apt-lists-cleanup ---------------------------------------------------------------

def test_do104_appends_the_cleanup():
    before = "FROM debian\nRUN apt-get update && apt-get install -y curl\n"
    assert fix(before, AptListsCleanup) == (
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n")


def test_do104_multi_line_keeps_lines_and_trailing_semicolon():
    before = d("""\
        FROM debian
        RUN apt-get update \\
         && apt-get install -y \\
              curl \\
              git;
        """)
    assert fix(before, AptListsCleanup) == d("""\
        FROM debian
        RUN apt-get update \\
         && apt-get install -y \\
              curl \\
              git && rm -rf /var/lib/apt/lists/*;
        """)


def test_do104_later_install_without_update_gets_its_own_first():
    before = d("""\
        FROM debian AS base
        RUN apt-get update && apt-get install -y curl
        COPY . .
        RUN apt-get install -y git
        FROM base
        RUN apt-get install -y make
        """)
    out = fix(before, AptListsCleanup)
    assert out == d("""\
        FROM debian AS base
        RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
        COPY . .
        RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*
        FROM base
        RUN apt-get update && apt-get install -y make && rm -rf /var/lib/apt/lists/*
        """)


def test_do104_later_install_that_cannot_be_prefixed_blocks_the_cleanup():
    text = "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN a || apt-get install -y git\n"
    [f] = findings(text, AptListsCleanup)
    assert f.fix is None and "line 3" in f.message
    assert fix(text, AptListsCleanup) == text


@pytest.mark.parametrize("before,after", [
    ("RUN apt-get update; apt-get install -y curl",
     "RUN apt-get update; apt-get install -y curl && rm -rf /var/lib/apt/lists/*"),
    ("RUN apt-get update && apt-get install -y a || true",
     "RUN apt-get update && apt-get install -y a || true && rm -rf /var/lib/apt/lists/*"),
    ("RUN set -e; apt-get update; apt-get install -y a # note",
     "RUN set -e; apt-get update; apt-get install -y a && rm -rf /var/lib/apt/lists/* # note"),
    ("RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y a",
     "RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y a"
     " && rm -rf /var/lib/apt/lists/*"),
])
def test_do104_or_and_semicolon_lists(before, after):
    assert fix(f"FROM debian\n{before}\n", AptListsCleanup) == f"FROM debian\n{after}\n"


def test_do104_a_deleted_parent_directory_takes_the_lists_with_it():
    for cleanup in ("rm -rf /var/lib/apt", "rm -rf /var/lib/apt/", "rm -rf /var/lib/apt/lists*",
                    "rm -rf /var/lib/apt/*"):
        text = f"FROM debian\nRUN apt-get update && apt-get install -y a && {cleanup}\n"
        assert not findings(text, AptListsCleanup), cleanup


@pytest.mark.parametrize("run", [
    "RUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists/*",
    "RUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists",
    "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y a",
    "RUN --mount=type=tmpfs,target=/var/lib/apt apt-get update && apt-get install -y a",
    "RUN apt-get update",                                          # lists kept for a later step
    "RUN apt-get update && apt-get install -y a && exec b",        # nothing after exec runs
    "RUN apt-get update && apt-get install -y a &",
    'RUN ["sh", "-c", "apt-get update && apt-get install -y a"]',
    "ONBUILD RUN apt-get update && apt-get install -y a",
])
def test_do104_no_op(run):
    text = f"FROM debian\n{run}\n"
    assert fix(text, AptListsCleanup) == text


def test_do104_heredoc_body_is_the_script():
    before = "FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n"
    assert fix(before, AptListsCleanup) == (
        "FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl && rm -rf /var/lib/apt/lists/*\nEOF\n")


@pytest.mark.parametrize("text", [
    "FROM debian\nRUN <<EOF bash\napt-get update && apt-get install -y curl\nEOF\n",    # heredoc feeds a command
    "FROM debian\nRUN <<-EOF\n\tapt-get update && apt-get install -y curl\n\tEOF\n",   # <<-: offsets shift
])
def test_do104_heredocs_it_cannot_edit(text):
    assert fix(text, AptListsCleanup) == text


# -- DO105 apt-not-apt-get -----------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN apt update && apt install -y curl", "RUN apt-get update && apt-get install -y curl"),
    ("RUN apt upgrade -y", "RUN apt-get upgrade --with-new-pkgs -y"),
    ("RUN apt full-upgrade -y", "RUN apt-get dist-upgrade -y"),
    ("RUN /usr/bin/apt remove -y x", "RUN /usr/bin/apt-get remove -y x"),
])
def test_do105_apt_becomes_apt_get(before, after):
    assert fix(f"FROM debian\n{before}\n", AptNotAptGet) == f"FROM debian\n{after}\n"


@pytest.mark.parametrize("run", ["RUN apt list --installed", "RUN apt search curl", "RUN apt-get install -y a",
                                 "RUN 'apt' install -y a"])
def test_do105_no_op(run):
    text = f"FROM debian\n{run}\n"
    assert fix(text, AptNotAptGet) == text


# -- DO106 apt-no-install-recommends -------------------------------------------------------

def test_do106_is_unsafe_and_adds_ca_certificates_for_curl():
    text = "FROM debian\nRUN apt-get install -y curl git\n"
    [f] = findings(text, AptNoInstallRecommends)
    assert f.fix.safety is Safety.UNSAFE and "unsafe" in f.message
    assert fix(text, AptNoInstallRecommends) == text           # not without --unsafe-fixes
    assert fix(text, AptNoInstallRecommends, unsafe=True) == (
        "FROM debian\nRUN apt-get install --no-install-recommends -y curl git ca-certificates\n")


@pytest.mark.parametrize("before,after", [
    ("RUN apt-get install -y make", "RUN apt-get install --no-install-recommends -y make"),
    ("RUN apt-get install -y curl ca-certificates",
     "RUN apt-get install --no-install-recommends -y curl ca-certificates"),
    ("RUN apt-get install -y $PKGS", "RUN apt-get install --no-install-recommends -y $PKGS"),
])
def test_do106_flag_only(before, after):
    assert fix(f"FROM debian\n{before}\n", AptNoInstallRecommends, unsafe=True) == f"FROM debian\n{after}\n"


@pytest.mark.parametrize("run", [
    "RUN apt-get install -y --no-install-recommends curl",
    "RUN apt-get install -y -o APT::Install-Recommends=false curl",
    "RUN apt-get install -y curl=7.88.1-10",   # all pinned: adding unpinned ca-certificates is only shown
])
def test_do106_no_op(run):
    text = f"FROM debian\n{run}\n"
    assert fix(text, AptNoInstallRecommends, unsafe=True) == text


def test_do106_converges_with_do103_on_the_same_insertion_point():
    text = "FROM debian\nRUN apt-get update && apt-get install curl\n"
    assert fix(text, *PKG, unsafe=True) == (
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates"
        " && rm -rf /var/lib/apt/lists/*\n")


# -- DO107 apk-no-cache --------------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN apk add curl", "RUN apk add --no-cache curl"),
    ("RUN apk update && apk add curl", "RUN apk add --no-cache curl"),
    ("RUN apk update && apk add curl && rm -rf /var/cache/apk/*", "RUN apk add --no-cache curl"),
    ("RUN apk add --virtual .b gcc && make && apk del .b",
     "RUN apk add --no-cache --virtual .b gcc && make && apk del .b"),
    ("RUN apk update && apk upgrade && apk add curl", "RUN apk update && apk upgrade && apk add --no-cache curl"),
    ("RUN apk update; apk add curl", "RUN apk update; apk add --no-cache curl"),
    ("RUN apk add curl && rm -rf /var/cache/apk/* /tmp/x",
     "RUN apk add --no-cache curl && rm -rf /var/cache/apk/* /tmp/x"),
])
def test_do107(before, after):
    assert fix(f"FROM alpine\n{before}\n", ApkNoCache) == f"FROM alpine\n{after}\n"


def test_do107_multi_line():
    before = d("""\
        FROM alpine
        RUN apk update && \\
            apk add \\
              curl && \\
            rm -rf /var/cache/apk/*
        """)
    assert fix(before, ApkNoCache) == "FROM alpine\nRUN apk add --no-cache \\\n      curl\n"


@pytest.mark.parametrize("run", ["RUN apk add --no-cache curl",
                                 "RUN --mount=type=cache,target=/var/cache/apk apk add curl",
                                 "RUN --mount=type=cache,target=/etc/apk/cache apk add curl"])
def test_do107_no_op(run):
    text = f"FROM alpine\n{run}\n"
    assert fix(text, ApkNoCache) == text


# -- DO108 pip-no-cache-dir ----------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN pip install -r requirements.txt", "RUN pip install --no-cache-dir -r requirements.txt"),
    ("RUN python3 -m pip install -U pip && pip3.12 install .",
     "RUN python3 -m pip install --no-cache-dir -U pip && pip3.12 install --no-cache-dir ."),
    ("RUN --mount=type=cache,target=/tmp pip install x",
     "RUN --mount=type=cache,target=/tmp pip install --no-cache-dir x"),
])
def test_do108(before, after):
    assert fix(f"FROM python\n{before}\n", PipNoCacheDir) == f"FROM python\n{after}\n"


@pytest.mark.parametrize("text", [
    "FROM python\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n",
    "FROM python\nENV PIP_NO_CACHE_DIR=off\nRUN pip install x\n",
    "FROM python\nARG PIP_NO_CACHE_DIR=true\nRUN pip install x\n",
    "FROM python AS a\nENV PIP_NO_CACHE_DIR yes\nFROM a\nRUN pip install x\n",
    "FROM python\nRUN PIP_NO_CACHE_DIR=1 pip install x\n",
    "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n",
    "FROM python\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
    "FROM python\nRUN pip install --cache-dir /tmp/pip x\n",
    "FROM python\nRUN pip install --no-cache-dir x\n",
    "FROM python\nRUN pipx install x && pip download x\n",
])
def test_do108_no_op(text):
    assert fix(text, PipNoCacheDir) == text


# -- DO109 js-cache-clean ------------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN npm ci", "RUN npm ci && npm cache clean --force"),
    ("RUN npm install -g pm2 && npm run build", "RUN npm install -g pm2 && npm run build && npm cache clean --force"),
    ("RUN yarn install --frozen-lockfile", "RUN yarn install --frozen-lockfile && yarn cache clean"),
    ("RUN yarn", "RUN yarn && yarn cache clean"),
    ("RUN pnpm install", "RUN pnpm install && pnpm store prune"),
    ("RUN npm i --prefix /app", "RUN npm i --prefix /app && npm cache clean --force"),
    ("RUN sudo -u node npm ci", "RUN sudo -u node npm ci && sudo -u node npm cache clean --force"),
])
def test_do109(before, after):
    assert fix(f"FROM node\n{before}\n", JsCacheClean) == f"FROM node\n{after}\n"


@pytest.mark.parametrize("text", [
    "FROM node\nRUN npm ci && npm cache clean --force\n",
    "FROM node\nRUN --mount=type=cache,target=/root/.npm npm ci\n",
    "FROM node\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n",
    "FROM node\nRUN npm ci --cache /tmp/npm\n",
    "FROM node\nENV npm_config_cache=/tmp/npm\nRUN npm ci\n",
    "FROM node\nRUN corepack enable && yarn install --immutable\n",
    "FROM node\nRUN npm run build\n",
])
def test_do109_no_op(text):
    assert fix(text, JsCacheClean) == text


# -- DO110 rpm-clean -----------------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN yum install httpd", "RUN yum install -y httpd && yum clean all"),
    ("RUN yum -y install httpd", "RUN yum -y install httpd && yum clean all"),
    ("RUN dnf install -y x && dnf clean all", None),
    ("RUN microdnf install x", "RUN microdnf install x && microdnf clean all"),
    ("RUN dnf groupinstall 'Development Tools'", "RUN dnf groupinstall -y 'Development Tools' && dnf clean all"),
    ("RUN zypper install x", "RUN zypper -n install x && zypper clean -a"),
    ("RUN zypper --non-interactive in x", "RUN zypper --non-interactive in x && zypper clean -a"),
    ("RUN yum remove x", "RUN yum remove -y x"),
    ("RUN yum install -y x && rm -rf /var/cache/yum", None),
    ("RUN --mount=type=cache,target=/var/cache/dnf dnf install -y x", None),
    ("RUN dnf --installroot /out install -y x", None),
    # the clean (or the rm) must come after the last install
    ("RUN microdnf update && rm -rf /var/cache/yum && microdnf clean all && microdnf install jq",
     "RUN microdnf update && rm -rf /var/cache/yum && microdnf clean all && microdnf install jq && microdnf clean all"),
    ("RUN dnf install -y a && dnf clean all && yum install -y b",
     "RUN dnf install -y a && dnf clean all && yum install -y b && yum clean all"),
])
def test_do110(before, after):
    text = f"FROM fedora\n{before}\n"
    assert fix(text, RpmClean) == (text if after is None else f"FROM fedora\n{after}\n")


# -- DO111 gem-no-document -----------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("RUN gem install bundler -v 2.4", "RUN gem install --no-document bundler -v 2.4"),
    ("RUN gem install -N bundler", None),
    ("RUN gem install --no-ri --no-rdoc bundler", None),
    ("RUN gem update --system", None),
])
def test_do111(before, after):
    text = f"FROM ruby\n{before}\n"
    assert fix(text, GemNoDocument) == (text if after is None else f"FROM ruby\n{after}\n")


# -- everywhere ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    # PowerShell under `# escape=\``: not a POSIX shell, untouched
    "# escape=`\nFROM mcr.microsoft.com/windows\nSHELL [\"powershell\", \"-Command\"]\n"
    "RUN apt-get update; apt-get install curl; pip install x; npm ci\n",
    # exec form
    'FROM debian\nRUN ["apt-get", "install", "curl"]\nRUN ["pip", "install", "x"]\n',
    # ONBUILD triggers run in another build
    "FROM debian\nONBUILD RUN apt-get update && apt-get install curl && pip install x\n",
    # a script that does not parse
    "FROM debian\nRUN if apt-get install curl\n",
    # suppressed
    "FROM python\n# dockopt: ignore=DO108\nRUN pip install x\n",
])
def test_untouched_everywhere(text):
    assert fix(text, *PKG, unsafe=True) == text


def test_cd_then_touch_is_not_broken():
    text = "FROM debian\nRUN cd sub\nRUN touch marker\n"
    assert fix(text, MergeRuns, *PKG, unsafe=True) == "FROM debian\nRUN ( cd sub ) && \\\n    touch marker\n"


def test_differing_mounts_and_comments_between_runs():
    before = d("""\
        FROM debian
        RUN --mount=type=cache,target=/var/cache/apt apt-get update
        # then install
        RUN apt-get install curl
        """)
    out = fix(before, MergeRuns, *PKG)
    # not merged (the flags differ); the install gets its own update, the flagged RUN stays
    assert out == d("""\
        FROM debian
        RUN --mount=type=cache,target=/var/cache/apt apt-get update
        # then install
        RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
        """)


def test_all_rules_together_converge():
    before = d("""\
        FROM python:3.12-slim
        RUN apt-get update
        RUN apt-get install curl
        RUN pip install -r requirements.txt
        """)
    out = fix(before, MergeRuns, *PKG, unsafe=True)
    assert out == d("""\
        FROM python:3.12-slim
        RUN apt-get update && \\
            apt-get install -y --no-install-recommends curl ca-certificates && \\
            pip install --no-cache-dir -r requirements.txt && rm -rf /var/lib/apt/lists/*
        """)


def test_docs_have_the_headings():
    from dockopt.passes.base import DOC_HEADINGS
    from dockopt.passes.cache_mounts import CacheMounts

    for p in [*PKG, CacheMounts]:
        docs = p.docs()
        for heading in DOC_HEADINGS:
            assert f"## {heading}" in docs, (p.code, heading)


# -- DO112 cache-mounts --------------------------------------------------------------------

from dockopt.passes.cache_mounts import CacheMounts  # noqa: E402

SYNTAX = "# syntax=docker/dockerfile:1\n"


def fix_with(text: str, settings, *passes, unsafe: bool = False) -> str:
    linter = Linter(list(passes))
    out = fix_text(d(text), linter, unsafe=unsafe, settings=settings).text
    parse(out)
    oracle_view(out)
    assert fix_text(out, linter, unsafe=unsafe, settings=settings).text == out
    return out


def test_do112_pip_cache_mount_replaces_no_cache_dir_and_converges_with_do108():
    before = "FROM python\nRUN pip install --no-cache-dir -r r.txt\n"
    assert fix(before, CacheMounts, PipNoCacheDir) == (
        "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r r.txt\n")
    # from no flag at all: DO108 adds it in the same round, the mount's next round takes it out
    plain = SYNTAX + "FROM python\nRUN pip install x\n"
    assert fix(plain, CacheMounts, PipNoCacheDir) == (
        SYNTAX + "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n")


def test_do112_classic_builder_projects_get_an_unsafe_fix():
    from dockopt.config import Settings

    classic = Settings(target="classic")
    text = "FROM python\nRUN pip install --no-cache-dir x\n"
    assert fix_with(text, classic, CacheMounts) == text
    assert fix_with(text, classic, CacheMounts, unsafe=True) == (
        "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n")
    # BuildKit syntax in the file decides whatever the setting says
    mounted = "FROM python\nRUN --mount=type=bind,source=a,target=/a pip install --no-cache-dir x\n"
    assert "type=cache" in fix_with(mounted, classic, CacheMounts)


@pytest.mark.parametrize(("text", "target"), [
    ("FROM python\nENV PIP_CACHE_DIR=/c\nRUN pip install x\n", "/c"),
    ("FROM python\nENV XDG_CACHE_HOME=/xdg\nRUN pip install x\n", "/xdg/pip"),
    ("FROM python\nENV HOME=/home/app\nUSER 1000\nRUN pip install x\n", "/home/app/.cache/pip,uid=1000"),
    ("FROM node\nENV npm_config_cache=/tmp/npm\nRUN npm ci\n", "/tmp/npm"),
    ("FROM node\nRUN npm_config_cache=/n npm ci\n", "/n"),
    ("FROM node\nRUN yarn install\n", "/usr/local/share/.cache/yarn"),
    ("FROM golang:1.22\nENV GOCACHE=/gc\nRUN go build .\n", "/gc"),
    ("FROM rust:1.80\nRUN cargo build --release\n", "/usr/local/cargo/registry"),
    ("FROM maven\nRUN mvn -B package\n", "/root/.m2/repository"),
    ("FROM gradle\nENV GRADLE_USER_HOME=/g\nRUN gradle build\n", "/g/caches"),
])
def test_do112_mounts_the_directory_the_tool_uses(text, target):
    assert f"target={target}" in fix(text, CacheMounts)


@pytest.mark.parametrize("text", [
    "FROM python\nUSER app\nRUN pip install --no-cache-dir x\n",     # not root, HOME unknown
    "FROM python\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n",      # caching is off
    "FROM python\nARG C\nENV PIP_CACHE_DIR=$C\nRUN pip install x\n",  # only known at build time
    'FROM python\nRUN ["pip", "install", "--no-cache-dir", "x"]\n',
    "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n",
    # the lists of the first RUN are read by the second: a mount would hide them
    "FROM debian\nRUN apt-get update && apt-get install -y a\nRUN apt-get install -y b\n",
    # an install from lists an earlier RUN fetched
    "FROM debian\nRUN apt-get update\nRUN apt-get install -y b\n",
    # a later step may build with the modules without the mount (make runs go)
    "FROM golang\nWORKDIR /src\nCOPY go.* ./\nRUN go mod download\nCOPY . .\nRUN make build\n",
    # the cache is copied out of the stage
    "FROM golang AS b\nRUN go mod download\nFROM scratch\nCOPY --from=b /go/pkg/mod /m\n",
])
def test_do112_no_fix(text):
    assert fix(text, CacheMounts) == text


@pytest.mark.parametrize(("run", "removed"), [
    # a mount point cannot be deleted: rm fails with 'Device or resource busy', and the RUN with it
    ("apt-get update && apt-get install -y a && apt-get clean && rm -rf /var/lib/apt", "/var/lib/apt"),
    ("apt-get update && apt-get install -y a && rm -rf /var/lib/apt/*", "/var/lib/apt/*"),
    ("pip install x && rm -rf /root/.cache", "/root/.cache"),
    ("npm ci && rm -rf ~", "/root"),
    ("pip install x && rm -rf $HOME/.cache", "/root/.cache"),
])
def test_do112_no_mount_where_the_run_deletes_the_directory_above_it(run, removed):
    text = f"FROM debian\nRUN {run}\n"
    assert fix(text, CacheMounts) == text
    assert fix(text, CacheMounts, unsafe=True) == text
    (found,) = findings(text, CacheMounts)       # reported, so the user can make room for the mount
    assert found.fix is None and found.line == 2
    assert f"no fix: the RUN deletes {removed}, which holds" in found.message
    assert "Device or resource busy" in found.message


@pytest.mark.parametrize(("run", "reported"), [
    ("pip install x && rm -rf $D", True),                          # anything
    ('pip install x && rm -rf "$D"/x', True),
    ("pip install x && rm -rf /root/.ca$D", True),                 # may be /root/.cache
    ("pip install x && rm -f node-v$V.tar.gz /tmp/$D", False),     # not above /root/.cache/pip
    ("pip install x && rm -f $D", False),                          # without -r it deletes no directory
    ("pip install x && rm -d $D", True),                           # an empty one
])
def test_do112_a_deletion_only_known_at_build_time_may_be_of_the_mount_point(run, reported):
    text = f"FROM python\nARG D\nARG V\nRUN {run}\n"
    if reported:
        assert fix(text, CacheMounts) == text
        (found,) = findings(text, CacheMounts)
        assert found.fix is None and "a path only known at build time" in found.message
    else:
        assert "--mount=type=cache,target=/root/.cache/pip" in fix(text, CacheMounts)


@pytest.mark.parametrize(("text", "after"), [
    # under a mount that is already there
    ("FROM node\nRUN --mount=type=cache,target=/root/.npm npm ci && rm -rf /root/.npm\n",
     "FROM node\nRUN --mount=type=cache,target=/root/.npm npm ci\n"),
    # $HOME as well: root's
    ("FROM python\nRUN pip install x && rm -rf $HOME/.cache/pip\n",
     "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n"),
    # deleting what is in the cache leaves the mount point alone: the mount goes on, the rm stays
    ("FROM python\nRUN pip install x && rm -rf ${HOME}/.cache/pip/* /tmp/x\n",
     "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x && "
     "rm -rf ${HOME}/.cache/pip/* /tmp/x\n"),
    # `~` is the user's home, which the file sets
    ("FROM python\nUSER 1000\nENV HOME=/home/app\nRUN pip install x && rm -rf ~/.cache/pip\n",
     "FROM python\nUSER 1000\nENV HOME=/home/app\nRUN --mount=type=cache,id=/home/app/.cache/pip-uid1000,"
     "target=/home/app/.cache/pip,uid=1000 pip install x\n"),
])
def test_do112_a_deletion_of_the_cache_itself_is_taken_out(text, after):
    assert fix(text, CacheMounts) == after


def test_do112_deleting_what_is_in_the_cache_is_a_cleanup_it_takes_out():
    text = "FROM python\nRUN pip install x && rm -rf /root/.cache/pip\n"
    assert fix(text, CacheMounts) == "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n"


def test_do112_apt_keeps_lists_and_packages_out_of_the_image():
    text = ("FROM debian\nRUN apt-get update && apt-get install -y a \\\n"
            "    && apt-get clean && rm -rf /var/lib/apt/lists/*\n")
    assert fix(text, CacheMounts) == (
        "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
        "    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\\n"
        "    apt-get update && apt-get install -o Dir::Cache::Archives=/var/cache/apt/dockopt-archives/ -y a\n")


def test_do112_cleanup_under_an_existing_mount_is_taken_out():
    text = "FROM node\nRUN --mount=type=cache,target=/root/.npm npm ci && npm cache clean --force\n"
    assert fix(text, CacheMounts) == "FROM node\nRUN --mount=type=cache,target=/root/.npm npm ci\n"


def test_do112_store_caches_are_unsafe_when_the_image_runs_the_tool():
    text = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\nCMD [\"go\", \"run\", \".\"]\n"
    (found,) = findings(text, CacheMounts)
    assert found.fix.safety is Safety.UNSAFE and "runs go itself" in found.message

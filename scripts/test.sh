#!/usr/bin/env bash
# The test suite by lane, from a fresh clone on a Debian machine:
#
#   bash scripts/test.sh [lint|unit|docker|all] [PYTEST ARGS...]        (default: all)
#
#   lint    ruff check dockopt tests bench, mypy, lint-imports: each one whose configuration exists
#   unit    pytest -m "not docker": no Docker engine is started or needed
#   docker  makes a Docker Engine >= 26 with buildx available (scripts/docker-up.sh), builds or
#           loads the stand-in base images into it (python -m bench.bases), then pytest -m docker
#   all     lint, unit and docker in that order, stopping at the first that fails
#
# Every lane first creates .venv with dockopt and its dev dependencies. PYTEST ARGS go to each
# pytest run. Each lane's wall time is printed at its end.
set -euo pipefail
cd "$(dirname "$0")/.."

lane=all
case "${1:-}" in
    lint | unit | docker | all) lane=$1; shift ;;
esac

say() { printf 'test.sh: %s\n' "$*" >&2; }

venv() {
    python3 -m venv .venv 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv .venv; }
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[dev]'
}

has_section() {   # has_section NAME FILE...: a [NAME] or [tool.NAME] table in one of the files
    local name=$1 file
    shift
    for file in "$@"; do
        [ -f "$file" ] && grep -qE "^\[(tool\.)?${name}([].:])" "$file" && return 0
    done
    return 1
}

tool() {   # tool BINARY PACKAGE: the venv's BINARY, installed on first use
    [ -x ".venv/bin/$1" ] || .venv/bin/python -m pip install -q "$2" >&2
    printf '%s\n' ".venv/bin/$1"
}

lane_lint() {
    local ran=0
    if has_section ruff pyproject.toml || [ -f ruff.toml ] || [ -f .ruff.toml ]; then
        say "ruff check dockopt tests bench"
        "$(tool ruff ruff)" check dockopt tests bench
        ran=1
    fi
    if has_section mypy pyproject.toml setup.cfg || [ -f mypy.ini ] || [ -f .mypy.ini ]; then
        say "mypy"
        "$(tool mypy mypy)"
        ran=1
    fi
    if has_section importlinter pyproject.toml setup.cfg || [ -f .importlinter ]; then
        say "lint-imports"
        "$(tool lint-imports import-linter)"
        ran=1
    fi
    [ $ran -eq 1 ] || say "no linter is configured: nothing to check"
}

lane_unit() {
    .venv/bin/python -m pytest -p no:cacheprovider -m "not docker" "$@"
}

lane_docker() {
    local setting
    setting=$(bash scripts/docker-up.sh)
    eval "$setting"            # export DOCKER_HOST=...
    export DOCKER_HOST
    docker version
    docker buildx version
    .venv/bin/python -m bench.bases
    .venv/bin/python -m pytest -p no:cacheprovider -m "docker and not alone" "$@"
    # the Ctrl-C test in a process of its own: after the whole lane it timed out, alone it passes
    .venv/bin/python -m pytest -p no:cacheprovider -m "docker and alone" "$@"
}

timed() {   # timed LANE ARGS...: run a lane, say how long it took
    local name=$1 start=$SECONDS
    shift
    say "lane $name"
    "lane_$name" "$@"
    say "lane $name passed in $((SECONDS - start)) s"
}

venv
case $lane in
    all)
        timed lint
        timed unit "$@"
        timed docker "$@"
        ;;
    *) timed "$lane" "$@" ;;
esac

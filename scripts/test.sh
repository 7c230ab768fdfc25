#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a Debian machine: installs dockopt with its dev
# dependencies into .venv, starts a Docker engine if none runs, builds the local stand-in base
# images the integration tests use, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv .venv; }
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'

bash scripts/docker-up.sh
.venv/bin/python -m bench.bases

exec .venv/bin/python -m pytest -p no:cacheprovider "$@"

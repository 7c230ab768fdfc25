#!/bin/sh
# Count repositories per language in a JSON list, most used first.
set -eu
jq -r 'group_by(.lang) | map({lang: .[0].lang, n: length}) | sort_by(-.n, .lang) | .[] | "\(.lang) \(.n)"' "${1:-/srv/repos.json}"

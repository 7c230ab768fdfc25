#!/bin/sh
# Summarise a host inventory: how many hosts, how many are up, and the share that is up.
set -eu
file=${1:-/srv/inventory.json}
total=$(jq '.hosts | length' "$file")
up=$(jq '[.hosts[] | select(.up)] | length' "$file")
share=$(echo "scale=1; 100 * $up / $total" | bc)
echo "hosts=$total up=$up (${share}%)"

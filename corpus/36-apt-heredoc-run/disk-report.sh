#!/bin/sh
# Which volumes are over their alert threshold, and how full the fleet is overall.
set -eu
file=${1:-/srv/volumes.json}
jq -r '.volumes[] | select(.used_gb / .size_gb * 100 >= .alert_pct) | "ALERT \(.name) \(.used_gb)/\(.size_gb) GB"' "$file"
jq -r '"fleet \([.volumes[].used_gb] | add)/\([.volumes[].size_gb] | add) GB used"' "$file"

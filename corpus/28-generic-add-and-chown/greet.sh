#!/bin/sh
# Print the message of the day for the current user, from the messages/ directory.
set -eu
dir=$(dirname "$0")/messages
lang=${GREET_LANG:-en}
printf '%s, %s\n' "$(cat "$dir/$lang.txt")" "$(id -un)"

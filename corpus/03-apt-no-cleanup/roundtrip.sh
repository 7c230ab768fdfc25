#!/bin/sh
# Compress the arguments with xz, decompress them again and check nothing was lost.
set -eu
text="$*"
back=$(printf '%s' "$text" | xz -9 | xz -dc)
if [ "$back" = "$text" ]; then
    echo "roundtrip ok: $back"
else
    echo "roundtrip FAILED" >&2
    exit 1
fi

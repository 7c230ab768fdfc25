#!/bin/sh
# power BASE EXP: print BASE raised to EXP with arbitrary precision.
set -eu
echo "$1 ^ $2" | bc

#!/bin/sh
# avg N...: the mean of the numbers, to two decimals.
set -eu
sum=0
for n in "$@"; do sum="$sum + $n"; done
echo "scale=2; ($sum) / $#" | bc

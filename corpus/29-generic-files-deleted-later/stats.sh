#!/bin/sh
# Report what the build left in /opt.
set -eu
echo "words: $(cat /opt/words/*.txt | wc -l)"
echo "sum: $(cat /opt/sum.txt)"
if [ -e /tmp/words.tar.gz ] || [ -e /tmp/numbers.txt ]; then echo "tmp: dirty"; else echo "tmp: clean"; fi

#!/bin/sh
# Print the files written at build time.
bc -q /opt/pi.bc </dev/null
cat /opt/winpath.txt

#!/bin/sh
# Print what the build decided.
cd /opt/app
if [ -f feature.txt ]; then cat feature.txt; else echo "feature off"; fi
cat users.txt status.txt

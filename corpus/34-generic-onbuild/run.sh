#!/bin/sh
# Start-up report of an image built on this base.
cat /app/status
if [ -f /app/plugins.txt ]; then
    echo "plugins: $(tr '\n' ' ' < /app/plugins.txt)"
else
    echo "plugins: none (base image)"
fi

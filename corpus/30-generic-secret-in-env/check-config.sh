#!/bin/sh
# Show which settings the service would start with, never the secret values themselves.
set -eu
echo "endpoint: ${API_URL:-unset}"
if [ -n "${API_TOKEN:-}" ]; then echo "token: set"; else echo "token: missing"; fi
if [ -n "${DB_PASSWORD:-}" ]; then echo "db password: set"; else echo "db password: missing"; fi

#!/bin/sh
# hello NAME...: greet each name on its own line.
for name in "$@"; do
    echo "hello, $name"
done

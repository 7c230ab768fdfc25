# The "buildpack" layer: Debian bookworm's gcc 12 (build-essential) plus the
# usual tools of the official "full" images (which sit on buildpack-deps).
#   gcc:12  = debian:bookworm + this (and the base of the full python, golang
#             and rust stand-ins)
#   node:18 = node:18-slim + this (so that Debian's npm, ~400 packages, is
#             installed once for both node images)
# The command (CMD) is the base's: bash for gcc:12, node for node:18.
ARG BASE=debian:bookworm
FROM ${BASE}
ARG GCC_VERSION=12
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        build-essential pkg-config autoconf automake libtool file patch \
        curl wget git openssh-client procps netbase \
        xz-utils bzip2 unzip zstd \
        libssl-dev zlib1g-dev libffi-dev; \
    rm -rf /var/lib/apt/lists/*; \
    gcc -dumpversion | grep -qx "$GCC_VERSION" || { echo "gcc is $(gcc -dumpversion), not $GCC_VERSION" >&2; exit 1; }

# rust stand-in: Debian bookworm's rustc and cargo (rustc 1.63) on gcc:12.
# crates.io is not reachable from here: crates must be dependency-free
# (or vendored).
ARG BASE=gcc:12
FROM ${BASE}
ARG VERSION
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends rustc cargo; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /usr/local/cargo/bin; chmod -R a+rwX /usr/local/cargo; \
    rustc --version; cargo --version; \
    rustc --version | grep -q "^rustc $VERSION\." || { echo "rustc is not $VERSION" >&2; exit 1; }
ENV CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

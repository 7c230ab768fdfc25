# node:18 stand-ins: Debian bookworm's nodejs (18.x), npm and yarn (yarnpkg).
# node:18 (full) is this image plus buildpack.Dockerfile.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ARG VERSION
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# The official images have a "node" user (uid/gid 1000).
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends nodejs npm yarnpkg; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s /usr/bin/yarnpkg /usr/local/bin/yarn; \
    groupadd --gid 1000 node; \
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; npm --version; yarn --version; \
    node --version | grep -q "^v$VERSION\." || { echo "node is not $VERSION" >&2; exit 1; }
CMD ["node"]

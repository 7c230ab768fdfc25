# golang:1.19 stand-in: Debian bookworm's golang-go (1.19) on gcc:12 (cgo works).
# No Go module proxy is reachable from here: GOPROXY=off makes a build that
# needs modules fail at once instead of hanging; builds must be stdlib-only
# (or vendored).
ARG BASE=gcc:12
FROM ${BASE}
ARG VERSION
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends golang-go; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /go/src /go/bin; chmod -R 1777 /go; \
    go version; \
    go version | grep -q " go$VERSION[. ]" || { echo "go is not $VERSION" >&2; exit 1; }
ENV GOPATH=/go \
    GOPROXY=off \
    GOSUMDB=off \
    PATH=/go/bin:/usr/lib/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go

# ghcr.io/astral-sh/uv stand-in: the uv and uvx binaries of the PyPI wheel of the
# same version, at / as in the official image (built FROM scratch).  The musllinux
# wheel is taken because its binaries are static, like the official image's.
ARG BASE=python:3.11-slim
FROM ${BASE} AS wheel
ARG VERSION
RUN set -eux; \
    pip download --no-deps --only-binary=:all: --platform "musllinux_1_1_$(uname -m)" -d /tmp/wheel "uv==${VERSION}"; \
    python -m zipfile -e /tmp/wheel/uv-*.whl /tmp/uv; \
    cp /tmp/uv/uv-*.data/scripts/uv /tmp/uv/uv-*.data/scripts/uvx /; \
    chmod 0755 /uv /uvx; \
    /uv --version
FROM scratch
COPY --from=wheel /uv /uvx /
ENTRYPOINT ["/uv"]

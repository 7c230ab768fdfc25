# python:3.11 stand-ins: Debian bookworm's python3 (3.11.x) with pip and venv.
# BASE is debian:bookworm-slim for the -slim tags, gcc:12 for python:3.11
# (whose official image has a compiler and headers too; PKGS adds python3-dev).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ARG VERSION
ARG PKGS=
ENV LANG=C.UTF-8 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The official images keep python in /usr/local: the symlinks make those paths
# (and /usr/local/lib/python3.X/site-packages) work too.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        python3 python3-pip python3-venv python-is-python3 ${PKGS}; \
    rm -rf /var/lib/apt/lists/*; \
    py=$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])'); \
    for cmd in python python3 "$py" pip pip3; do \
        ln -sf "/usr/bin/$cmd" "/usr/local/bin/$cmd"; \
    done; \
    mkdir -p "/usr/local/lib/$py/dist-packages"; \
    ln -s dist-packages "/usr/local/lib/$py/site-packages"; \
    python --version; pip --version; \
    python3 --version | grep -q "^Python $VERSION\." || { echo "python3 is not $VERSION" >&2; exit 1; }
CMD ["python3"]

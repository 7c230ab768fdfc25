FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends xz-utils \
    && rm -rf /var/lib/apt/lists/*
COPY roundtrip.sh /usr/local/bin/roundtrip
USER nobody
ENTRYPOINT ["roundtrip"]

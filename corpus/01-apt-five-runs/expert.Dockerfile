FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends bc jq \
    && rm -rf /var/lib/apt/lists/*
COPY inventory.json /srv/inventory.json
COPY report.sh /usr/local/bin/report
USER nobody
CMD ["report", "/srv/inventory.json"]

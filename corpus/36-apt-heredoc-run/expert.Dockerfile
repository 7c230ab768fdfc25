FROM debian:bookworm-slim
RUN <<EOF
set -e
apt-get update
apt-get install -y --no-install-recommends jq
rm -rf /var/lib/apt/lists/*
EOF
COPY disk-report.sh /usr/local/bin/disk-report
COPY volumes.json /srv/volumes.json
USER nobody
CMD ["disk-report", "/srv/volumes.json"]

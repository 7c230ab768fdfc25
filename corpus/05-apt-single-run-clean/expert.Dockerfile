FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends jq \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
COPY top-langs.sh /usr/local/bin/top-langs
COPY repos.json /srv/repos.json
USER nobody
ENTRYPOINT ["top-langs"]
CMD ["/srv/repos.json"]

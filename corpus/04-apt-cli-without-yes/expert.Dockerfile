FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends tree \
    && rm -rf /var/lib/apt/lists/*
COPY site/ /srv/site/
USER nobody
CMD ["tree", "--noreport", "/srv/site"]

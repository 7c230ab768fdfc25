FROM debian:bookworm-slim
RUN --mount=type=bind,source=words.tar.gz,target=/tmp/words.tar.gz \
    mkdir -p /opt/words \
    && tar -xzf /tmp/words.tar.gz -C /opt/words \
    && seq 1 300000 | awk '{ s += $1 } END { printf "%.0f\n", s }' > /opt/sum.txt
COPY stats.sh /usr/local/bin/stats
USER nobody
CMD ["stats"]

# nginx stand-in: Debian bookworm's nginx (1.22) laid out like the official
# image: serves /usr/share/nginx/html on port 80 from conf.d/default.conf,
# logs to stdout/stderr, runs in the foreground.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ARG VERSION
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends nginx; \
    rm -rf /var/lib/apt/lists/*; \
    rm -f /etc/nginx/sites-enabled/default; \
    mkdir -p /usr/share/nginx/html /etc/nginx/conf.d; \
    ln -sf /dev/stdout /var/log/nginx/access.log; \
    ln -sf /dev/stderr /var/log/nginx/error.log; \
    nginx -v; \
    nginx -v 2>&1 | grep -q "nginx/$VERSION\." || { echo "nginx is not $VERSION" >&2; exit 1; }
COPY nginx-default.conf /etc/nginx/conf.d/default.conf
COPY nginx-index.html /usr/share/nginx/html/index.html
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]

# escape=`
FROM debian:bookworm-slim
RUN apt-get update `
    && apt-get install -y --no-install-recommends bc tree `
    && rm -rf /var/lib/apt/lists/* `
    && printf 'scale=2\n22/7\n' > /opt/pi.bc `
    && printf '%s\n' 'C:\Users\build\out' > /opt/winpath.txt
COPY show.sh /usr/local/bin/show
USER nobody
CMD ["show"]

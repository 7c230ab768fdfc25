FROM debian:bookworm-slim
ARG API_TOKEN=dev-token-0000
ENV API_URL=https://api.example.invalid/v1
ENV API_TOKEN=$API_TOKEN
ENV DB_PASSWORD=changeme
COPY check-config.sh /usr/local/bin/check-config
RUN check-config > /etc/config-report.txt
CMD ["check-config"]

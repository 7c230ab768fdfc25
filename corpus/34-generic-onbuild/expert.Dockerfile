FROM busybox:latest
WORKDIR /app
RUN mkdir -p /app/plugins
ONBUILD COPY plugins/ /app/plugins/
ONBUILD RUN ls /app/plugins > /app/plugins.txt
RUN echo "base ready" > /app/status
COPY run.sh /app/run.sh
CMD ["sh", "/app/run.sh"]

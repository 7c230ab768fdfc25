FROM busybox:latest
RUN mkdir -p /opt/app
RUN test -f /etc/optional-feature.conf || exit 0; echo "feature on" > /opt/app/feature.txt
RUN grep -q '^root:' /etc/passwd && echo "root present" > /opt/app/users.txt || echo "no root" > /opt/app/users.txt
RUN echo "configured" > /opt/app/status.txt
COPY report.sh /opt/app/report.sh
CMD ["sh", "/opt/app/report.sh"]

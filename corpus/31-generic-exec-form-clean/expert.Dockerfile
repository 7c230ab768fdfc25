FROM busybox:latest
COPY hello.sh /usr/local/bin/hello
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/hello"]
CMD ["world"]

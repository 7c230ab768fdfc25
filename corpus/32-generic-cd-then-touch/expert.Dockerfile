FROM busybox:latest
WORKDIR /work
RUN touch marker \
    && echo "greeting=unset" > /work/env.txt
COPY sub/ sub/
CMD ["sh", "-c", "ls /work /work/sub && cat /work/env.txt"]

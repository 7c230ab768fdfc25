FROM gcc:12 AS build
WORKDIR /src
COPY Makefile ./
COPY src/ src/
RUN make && make install DESTDIR=/out

FROM debian:bookworm-slim
COPY --from=build /out/usr/local/bin/crc32sum /usr/local/bin/crc32sum
USER nobody
CMD ["crc32sum", "hello"]

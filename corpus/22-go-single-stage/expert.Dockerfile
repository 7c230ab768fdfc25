FROM golang:1.19 AS build
WORKDIR /src
COPY go.mod ./
COPY main.go ./
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/healthsrv .

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/healthsrv /usr/local/bin/healthsrv
EXPOSE 8080
USER 65532:65532
CMD ["healthsrv"]

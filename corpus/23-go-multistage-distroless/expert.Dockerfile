FROM golang:1.19 AS build
WORKDIR /src
COPY go.mod ./
COPY main.go ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/wc .

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/wc /wc
USER 65532:65532
ENTRYPOINT ["/wc"]

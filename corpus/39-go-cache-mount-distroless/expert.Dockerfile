# syntax=docker/dockerfile:1
FROM golang:1.19 AS build
WORKDIR /src
COPY go.mod ./
COPY main.go ./
RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/topwords .

FROM gcr.io/distroless/static-debian12
COPY --link --from=build /out/topwords /topwords
USER 65532:65532
ENTRYPOINT ["/topwords"]

FROM rust:1.63 AS build
WORKDIR /usr/src/tally
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
RUN --mount=type=cache,target=/usr/src/tally/target \
    cargo build --release && cp target/release/tally /usr/local/bin/tally

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/tally /usr/local/bin/tally
USER nobody
CMD ["tally"]

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ruby \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN gem build hola.gemspec \
    && gem install --local --no-document ./hola-0.1.0.gem \
    && rm -f hola-0.1.0.gem
USER nobody
CMD ["hola"]

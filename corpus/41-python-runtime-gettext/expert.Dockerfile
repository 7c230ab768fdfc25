FROM python:3.11 AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml setup.py ./
COPY src/ src/
RUN pip wheel --no-cache-dir --wheel-dir=/wheels .
COPY locale/ locale/
RUN msgfmt -o locale/fr/LC_MESSAGES/fastsum.mo locale/fr/LC_MESSAGES/fastsum.po

FROM python:3.11-slim
WORKDIR /app
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install --no-cache-dir /wheels/*.whl
COPY --from=build /app/locale/ locale/
USER nobody
CMD ["python", "-m", "fastsum", "1", "2", "39"]

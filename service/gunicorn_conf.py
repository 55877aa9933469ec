"""gunicorn settings used by `portal-widgets serve` (flags and PW_WORKERS override)."""

from __future__ import annotations

import os
from typing import Any

# 2 cores: two worker processes. Each serves its connections as greenlets (gevent, with
# a deadline on receiving each request: service/gunicorn_worker.py), so clients that
# send slowly or not at all hold a greenlet each, not one of a few threads.
workers = int(os.environ.get("PW_WORKERS", "2"))
worker_class = "service.gunicorn_worker.Worker"
worker_connections = 1000  # per worker; a slow client costs a greenlet and a socket
bind = "127.0.0.1:8000"  # `serve --host/--port` passes the real one
timeout = 30
graceful_timeout = 20
# Also the time a connection gets to send complete request headers (gevent worker).
keepalive = 5
# Our own JSON access line (service.logs) replaces gunicorn's, which would print client IPs.
accesslog = None
errorlog = "-"
loglevel = "info"
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = "127.0.0.1"
# gunicorn >= 25 opens a control socket at one fixed path per user ($XDG_RUNTIME_DIR or
# ~/.gunicorn), shared by every instance; nothing here uses `gunicornc`, so it is off.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus-client that a dead worker's live gauges no longer count."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

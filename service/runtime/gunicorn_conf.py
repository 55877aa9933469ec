"""gunicorn settings used by `portal-widgets serve` (flags and PW_WORKERS/PW_THREADS override)."""

from __future__ import annotations

import os
from typing import Any

# 2 cores: two worker processes with a few threads each; Redis calls release the GIL.
workers = int(os.environ.get("PW_WORKERS", "2"))
threads = int(os.environ.get("PW_THREADS", "4"))
# gthread, but h11 frames each request on the event loop and a thread gets it only once
# it has all arrived, within 10 s (service/runtime/worker.py): a slow client holds a
# socket, not a thread.
worker_class = "service.runtime.worker.Worker"
# Per worker; an idle socket costs a file descriptor and a small buffer. The worker raises
# its RLIMIT_NOFILE to fit (up to the hard limit).
worker_connections = 5000
bind = "127.0.0.1:8000"  # `serve --host/--port` passes the real one
timeout = 30
graceful_timeout = 20
keepalive = 4  # idle after an answer: closed within 5 s (the worker checks in time)
# Our own JSON access line (service.runtime.logs) replaces gunicorn's, which would print client IPs.
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


def post_worker_init(worker: Any) -> None:
    """Start the worker's page verifier thread (service/pages/verifier.py), after the fork."""
    from flask import Flask

    from service.pages import verifier

    # not gunicorn's stand-in for an app that failed, nor another Flask app run with this
    # config (the benchmark's minimal app): only the service has a store to verify from
    if isinstance(worker.wsgi, Flask) and "pw_store" in worker.wsgi.extensions:
        verifier.start(worker.wsgi)

"""gunicorn's gevent worker, with a deadline on receiving each request (slow clients).

`serve` faces clients directly on 0.0.0.0. A threaded worker gives each connection a
thread while it reads the request, so a few connections that send half a request and
then nothing hold every thread. Here each connection is a greenlet (cheap), gunicorn's
gevent worker already closes a connection whose request headers are not complete within
`keepalive` seconds, and this worker adds the missing half: a request whose body has not
fully arrived `REQUEST_SECONDS` after the request began is cut off and its connection
closed, however slowly the client keeps dribbling.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

# Counted from the accept, or from the end of the previous answer on a kept-alive
# connection; the README and CONTRACT.md section 7 promise 10 s.
REQUEST_SECONDS = 10.0


class DeadlineSocket:
    """A client socket whose reads return end-of-file once the request's time is up."""

    def __init__(self, sock: Any, seconds: float = REQUEST_SECONDS) -> None:
        self._sock = sock
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds
        self.expired = False

    def restart(self) -> None:
        """Start the clock for the next request on this connection."""
        self._deadline = time.monotonic() + self._seconds

    def recv(self, size: int, *flags: int) -> bytes:
        """socket.recv, but b"" (the client is gone, as far as we care) past the deadline."""
        remaining = self._deadline - time.monotonic()
        if self.expired or remaining <= 0:
            self.expired = True
            return b""
        # gevent sockets wait in the hub: a timeout here costs no thread.
        self._sock.settimeout(remaining)
        try:
            data: bytes = self._sock.recv(size, *flags)
            return data
        except TimeoutError:
            self.expired = True
            return b""
        finally:
            self._sock.settimeout(None)

    def __getattr__(self, name: str) -> Any:
        # send, sendall, sendfile, close, fileno, setblocking...: the real socket's.
        return getattr(self._sock, name)


class Worker(GeventWorker):  # type: ignore[misc]  # gunicorn is untyped
    """GeventWorker whose connections read through a DeadlineSocket."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Serve one connection; its reads are bounded per request."""
        super().handle(listener, DeadlineSocket(client), addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        """Serve one request; close the connection if its body arrived too late."""
        result = super().handle_request(listener_name, req, sock, addr)
        if isinstance(sock, DeadlineSocket):
            if sock.expired:
                # The request was cut off (the app saw a truncated body and answered 400):
                # where the next request would begin is unknown, so the connection ends.
                raise StopIteration()
            sock.restart()
        return result

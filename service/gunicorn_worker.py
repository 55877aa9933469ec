"""gunicorn's threaded worker, reading each request whole before a thread takes it.

`serve` faces clients directly on 0.0.0.0. The stock gthread worker hands a connection to
one of its few threads as soon as a byte arrives, and the thread then blocks until the
request is complete: a handful of clients that send half a request and stop hold every
thread. Here the worker's event loop (one thread, non-blocking sockets, the selector
gunicorn already runs) collects the request head and a body of known length first; a
thread gets the connection only when the whole request is in memory, and parses it from
there without touching the socket. A connection whose request is not complete
`REQUEST_SECONDS` after it began is closed; while it waits it costs a socket and a buffer.
"""

from __future__ import annotations

import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# From the accept, or from the first byte of the next request on a kept-alive connection;
# docs/operations.md ("Slow clients") promises 10 s.
REQUEST_SECONDS = 10.0
# Beyond these the loop stops collecting and lets gunicorn and the app answer (431/413):
# the app refuses bodies over 64 KiB (MAX_CONTENT_LENGTH) without reading them.
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def request_complete(buf: bytes) -> bool | None:
    """True: `buf` holds a whole request; False: more is needed; None: let gunicorn judge."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None if len(buf) > MAX_HEAD else False
    length: int | None = None
    chunked = False
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None  # malformed: gunicorn answers 400
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    body = buf[end + 4:]
    if chunked:
        # The last chunk ("0", then optional trailers, then an empty line) ends the body.
        return len(body) > MAX_BODY or (
            body.endswith(b"\r\n\r\n") and (body.startswith(b"0") or b"\r\n0" in body))
    if length is None:
        return True
    if length > MAX_BODY:
        return None
    return len(body) >= length


def _without_expect(buf: bytes) -> bytes | None:
    """`buf` minus an `Expect: 100-continue` header line, or None when it has none."""
    end = buf.find(b"\r\n\r\n")
    lines = buf[:end].split(b"\r\n")
    kept = [line for line in lines
            if line.partition(b":")[0].strip().lower() != b"expect"]
    if len(kept) == len(lines):
        return None
    return b"\r\n".join(kept) + buf[end:]


class Worker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """ThreadWorker whose event loop collects each request before a thread serves it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collecting: deque[Any] = deque()  # connections by deadline, oldest first

    def enqueue_req(self, conn: Any) -> None:
        """Collect the request on the event loop; submit it to the threads once whole."""
        buffered = conn.parser is not None and conn.parser.unreader.buf.getvalue()
        if self.cfg.is_ssl or buffered:
            # TLS (serve does not use it), or pipelined bytes the parser already holds:
            # the stock path.
            super().enqueue_req(conn)
            return
        conn.pw_buf = b""
        conn.pw_deadline = time.monotonic() + REQUEST_SECONDS
        conn.pw_collecting = True
        conn.sock.setblocking(False)
        self.collecting.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._collect, conn))
        self._collect(conn)  # the request is often there already

    def _collect(self, conn: Any, _fileobj: Any = None) -> None:
        if not conn.pw_collecting:
            return
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client left
            self._drop(conn)
            return
        conn.pw_buf += data
        state = request_complete(conn.pw_buf)
        if state is False and b"\r\n\r\n" in conn.pw_buf:
            stripped = _without_expect(conn.pw_buf)
            if stripped is not None:  # it waits for our 100 before sending the body
                conn.pw_buf = stripped
                try:
                    conn.sock.send(_CONTINUE)
                except OSError:
                    self._drop(conn)
                return
        if state is False:
            return
        conn.pw_collecting = False
        self.collecting.remove(conn)
        self.poller.unregister(conn.sock)
        conn.pw_ready = conn.pw_buf
        conn.pw_buf = b""
        conn.data_ready = True
        super().enqueue_req(conn)

    def _drop(self, conn: Any) -> None:
        conn.pw_collecting = False
        self.collecting.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        conn.close()

    def handle(self, conn: Any) -> Any:
        """Serve the collected request (runs in a thread)."""
        data = getattr(conn, "pw_ready", None)
        if data:
            conn.pw_ready = None
            conn.init()
            conn.parser.unreader.unread(data)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Also close connections whose request did not arrive in time."""
        super().murder_pending()
        now = time.monotonic()
        while self.collecting and self.collecting[0].pw_deadline <= now:
            self._drop(self.collecting[0])

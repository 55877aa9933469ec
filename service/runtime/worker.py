"""gunicorn's threaded worker, with h11 framing each request before a thread takes it.

`serve` faces clients directly on 0.0.0.0. The stock gthread worker hands a connection to
one of its few threads, which then blocks on the socket until the request is complete: a
handful of clients that send half a request and stop hold every thread. Here the worker's
event loop (one thread, non-blocking sockets, the selector gunicorn already runs) feeds
what arrives to h11, python-hyper's HTTP/1.1 state machine, which decides where the head
and the body end (Content-Length, chunked, pipelining, bad framing). A thread gets the
request only once h11 has seen all of it: gunicorn's Request is filled from h11's parse
(request line and headers still pass gunicorn's checks, the decoded body is in memory),
so no thread ever reads a client socket and nothing is parsed twice; a thread's writes
have a deadline too.

Deadlines, whatever state a connection is in: nothing received `SILENT_SECONDS` after the
accept, or after the last answer (gunicorn's keepalive), closes it; a request not whole
`REQUEST_SECONDS` after its first byte closes it. h11's refusals (bad framing, malformed
chunk sizes, heads over `MAX_HEAD`) and bare LF line ends are answered 400 at once.

One route reads its body as a stream: the admin import (an export file is not held to
`MAX_BODY`). Once h11 has its head, a thread takes the connection and reads the body through
the same h11 connection, each read bounded by the thread's socket deadline (a client silent
for `WRITE_SECONDS` is cut off); the view checks the bearer token before it reads. The
connection is kept alive only if the body was read to its end.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import re
import resource
import selectors
import socket
import time
from collections.abc import Iterator
from functools import partial
from typing import Any, NamedTuple

import h11
from gunicorn.http.body import Body, EOFReader
from gunicorn.http.errors import LimitRequestHeaders
from gunicorn.http.message import Request, _ip_in_allow_list
from gunicorn.http.unreader import IterUnreader
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.exceptions import ClientDisconnected

# Both promised as "within 5 s" and "within 10 s", with room for a busy event loop.
SILENT_SECONDS = 4.0
REQUEST_SECONDS = 9.5
WRITE_SECONDS = 10.0  # each send of an answer, on the thread
ACCEPT_BATCH = 256  # connections accepted per turn of the loop
MAX_HEAD = 16 * 1024  # h11 answers 431 beyond this
MAX_BODY = 64 * 1024  # as the app's MAX_CONTENT_LENGTH: 413 beyond this
_BARE_LF = re.compile(rb"(?<!\r)\n")
_REWRITTEN = {b"content-length", b"transfer-encoding", b"expect"}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# The one route whose view reads its body as a stream (service.web.body.streamed).
_STREAMED = re.compile(rb"^/api/v1/admin/sites/[a-z0-9][a-z0-9-]{0,62}/import(?:\?|$)")
_REASONS = {400: "Bad Request", 413: "Content Too Large",
            431: "Request Header Fields Too Large"}
_ERRORS = {400: "bad request", 413: "body too large", 431: "request head too large"}


class Refused(Exception):
    """The request cannot be served: answer `status` and close."""

    def __init__(self, status: int, reason: str | None = None) -> None:
        super().__init__(status)
        self.status = status if status in _REASONS else 400
        self.reason = reason or _ERRORS[self.status]


class Framer:
    """One request being received: h11 decides where it ends."""

    def __init__(self, leftover: bytes = b"") -> None:
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.head = bytearray()  # the raw bytes until h11 has the head, for the LF check
        self.request: h11.Request | None = None
        self.body = bytearray()
        self.continued = False
        self.pending = leftover  # pipelined bytes of an earlier read, fed first
        self.leftover = b""  # what follows this request, once it is whole
        self.streamed = False  # its body is read on the thread (the import route)
        self.finished = False  # a streamed body was read to its end

    def feed(self, data: bytes) -> Framed | None:
        """The whole request once it is in; None while more is needed.

        Raises Refused for a request h11 (or the bare LF rule) rejects, or one too large.
        """
        if self.pending:
            data, self.pending = self.pending + data, b""
        if self.request is None:
            self.head += data
        self.h11.receive_data(data)
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self.request is not None:  # the head was fine: the body's framing is not
                    raise Refused(400, "malformed request body") from exc
                raise Refused(exc.error_status_hint) from exc
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                self.streamed = event.method == b"POST" and bool(_STREAMED.match(event.target))
                self._check_head(event)
                self.request = event
                self.head = bytearray()
                if self.streamed:
                    return self._framed()
            elif isinstance(event, h11.Data):
                self.body += event.data
                if len(self.body) > MAX_BODY:
                    raise Refused(413)
            elif isinstance(event, h11.EndOfMessage):
                self.leftover = self.h11.trailing_data[0]
                return self._framed()
            else:  # ConnectionClosed before the end
                raise Refused(400)

    def waits_for_continue(self) -> bool:
        """True once: the client waits for "100 Continue" before sending its body."""
        if self.continued or not self.h11.they_are_waiting_for_100_continue:
            return False
        self.continued = True
        return True

    def _check_head(self, request: h11.Request) -> None:
        end = self.head.find(b"\r\n\r\n")
        if end < 0 or _BARE_LF.search(self.head, 0, end):
            raise Refused(400)  # h11 tolerates bare LF line ends; a proxy may not
        names = {name for name, _ in request.headers}
        if b"content-length" in names and b"transfer-encoding" in names:
            raise Refused(400)  # h11 lets chunked win; a proxy may have read the length
        for name, value in request.headers:
            if name == b"content-length" and int(value) > MAX_BODY and not self.streamed:
                raise Refused(413)

    def _framed(self) -> Framed:
        """The request as h11 framed it: the decoded body, its length in place of the
        framing headers (Transfer-Encoding, Content-Length, Expect: answered here)."""
        request = self.request
        assert request is not None
        headers: list[tuple[str, str]] = []
        framed = False
        for name, value in request.headers.raw_items():
            lower = name.lower()
            if lower in _REWRITTEN:
                framed = framed or lower != b"expect"
                continue
            headers.append((name.decode("latin-1").upper(), value.decode("latin-1")))
        line = b"%s %s HTTP/%s" % (request.method, request.target, request.http_version)
        if self.streamed:
            for name, value in request.headers:
                if name == b"content-length":
                    headers.append(("CONTENT-LENGTH", value.decode("latin-1")))
            return Framed(line, headers, b"", self)
        if framed or self.body:
            headers.append(("CONTENT-LENGTH", str(len(self.body))))
        return Framed(line, headers, bytes(self.body))

    def stream(self, sock: socket.socket) -> Iterator[bytes]:
        """The body of a streamed request, read on the thread through h11 (the socket is
        blocking with the thread's deadline); ClientDisconnected (400) when the client
        stops, leaves or breaks the framing."""
        try:
            while True:
                event = self.h11.next_event()
                if event is h11.NEED_DATA:
                    self.h11.receive_data(sock.recv(65536))
                elif isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self.leftover = self.h11.trailing_data[0]
                    self.finished = True
                    return
                else:
                    raise ClientDisconnected()
        except (OSError, h11.RemoteProtocolError) as exc:
            raise ClientDisconnected() from exc


class Framed(NamedTuple):
    """One whole request: its request line, its headers (names upper case), its body."""

    line: bytes
    headers: list[tuple[str, str]]
    body: bytes
    # a streamed body: read on the thread from the connection's socket (Framer.stream)
    streamer: Framer | None = None


class FramedRequest(Request):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's Request made from what h11 framed, so that nothing is parsed twice.

    The request line and every header still pass gunicorn's own checks and policies
    (methods, targets, forwarded and scheme headers, underscores in names).
    """

    def __init__(self, cfg: Any, framed: Framed, peer_addr: Any,
                 sock: socket.socket | None = None) -> None:
        self.framed = framed
        if framed.streamer is not None and sock is not None:
            chunks: Any = framed.streamer.stream(sock)
        else:
            chunks = [framed.body] if framed.body else []
        super().__init__(cfg, IterUnreader(chunks), peer_addr)

    def set_body_reader(self) -> None:
        """A streamed body is read to its end as h11 frames it (chunked or with a length)."""
        if self.framed.streamer is not None:
            self.body = Body(EOFReader(self.unreader))
            return
        super().set_body_reader()

    def _peer_is_trusted_proxy(self) -> bool:
        # gunicorn parses forwarded_allow_ips for every request; the answer per peer
        # address does not change while the worker runs.
        if not isinstance(self.peer_addr, tuple):
            return True
        return _trusted(self.cfg, self.peer_addr[0])

    def parse(self, unreader: Any) -> bytes:
        """Fill the request from `framed`; nothing is left over."""
        self.parse_request_line(self.framed.line)
        secure, forwarders = self._peer_trusted_for_forwarded()
        scheme_state, seen = [False], set[str]()
        headers: list[tuple[str, str]] = []
        for name, value in self.framed.headers:
            if len(headers) >= self.limit_request_fields:
                raise LimitRequestHeaders("limit request headers fields")
            kept = self._apply_header_policy(name, value, scheme_state, seen, secure, forwarders)
            if kept is not None:
                headers.append(kept)
        self.headers = headers
        return b""


@functools.lru_cache(maxsize=1024)
def _trusted(cfg: Any, address: str) -> bool:
    return bool(_ip_in_allow_list(address, cfg.forwarded_allow_ips,
                                  cfg.forwarded_allow_networks()))


class OneRequest:
    """What gthread's thread reads its request from (gunicorn's parser's place)."""

    def __init__(self, cfg: Any, framed: Framed, peer_addr: Any,
                 sock: socket.socket | None = None) -> None:
        self.args = (cfg, framed, peer_addr, sock)
        self.mesg: FramedRequest | None = None
        self.unreader = IterUnreader([])  # finish_request looks for read-ahead bytes here

    def __iter__(self) -> OneRequest:
        return self

    def __next__(self) -> FramedRequest:
        if self.mesg is not None:
            raise StopIteration
        self.mesg = FramedRequest(*self.args)
        return self.mesg

    def finish_body(self, deadline: float | None = None, max_bytes: int | None = None) -> bool:
        """Drop what the application did not read of the body (all of it is in memory); a
        streamed body is not read further: unless the view read it all, the connection
        closes (a client without a valid token cannot hold the thread with a slow upload)."""
        if self.mesg is not None and self.mesg.framed.streamer is not None:
            return self.mesg.framed.streamer.finished
        if self.mesg is not None and self.mesg.body is not None:
            while self.mesg.body.read(65536):
                pass
        return True


def refusal(status: int, reason: str) -> bytes:
    """A short JSON answer for a refused request; the connection closes after it."""
    body = json.dumps({"error": reason}).encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            b"X-Content-Type-Options: nosniff\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % (status, _REASONS[status].encode(), len(body))
            + body)


def close_now(sock: socket.socket) -> None:
    """Send FIN after the answer, drop what the client sent meanwhile, close; never blocks."""
    try:
        sock.setblocking(False)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def raise_open_files(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards `wanted` (up to the hard limit); the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class Worker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """ThreadWorker whose event loop frames each request with h11 before a thread serves it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every socket of a worker is a file: make room for the promised 2,000 idle ones.
        wanted: int = self.cfg.worker_connections
        limit = raise_open_files(wanted + 256)
        self.worker_connections: int = min(wanted, limit - 256)
        self.max_keepalived = self.worker_connections - self.cfg.threads
        self.deadlines: list[tuple[float, int, Any]] = []  # a heap; stale entries skipped
        self.order = itertools.count()

    def accept(self, listener: Any) -> None:
        """Accept every waiting connection, not one per turn of the loop: a burst of
        thousands must not wait in the kernel's queue while their deadlines run."""
        for _ in range(ACCEPT_BATCH):
            if self.nr_conns >= self.worker_connections:
                return
            before = self.nr_conns
            super().accept(listener)
            if self.nr_conns == before:  # nothing was waiting
                return

    def enqueue_req(self, conn: Any) -> None:
        """Frame the request on the event loop; submit it to the threads once whole."""
        if self.cfg.is_ssl:  # serve does not terminate TLS; gunicorn's own path then
            super().enqueue_req(conn)
            return
        now = time.monotonic()
        leftover = getattr(conn, "pw_leftover", b"")
        fresh = not hasattr(conn, "pw_framer")
        conn.pw_framer = Framer(leftover)
        conn.pw_leftover = b""
        conn.pw_waiting = False  # on the poller, with a deadline
        # A new connection must speak within SILENT_SECONDS of its accept; a kept-alive
        # one became readable (or holds pipelined bytes): its request has begun.
        conn.pw_opened = now
        conn.pw_started = None if fresh else now
        # The socket is non-blocking already (gunicorn's TConn, and its finish_request
        # before a kept-alive connection goes back to the poller).
        # The request is usually whole already: then it never touches the poller.
        if not (self._take(conn, b"") if leftover else self._receive(conn)):
            conn.pw_waiting = True
            self._set_deadline(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._receive, conn))

    def _set_deadline(self, conn: Any) -> None:
        if conn.pw_started is None:
            conn.pw_deadline = conn.pw_opened + SILENT_SECONDS
        else:
            conn.pw_deadline = conn.pw_opened + REQUEST_SECONDS
        heapq.heappush(self.deadlines, (conn.pw_deadline, next(self.order), conn))

    def _receive(self, conn: Any, _fileobj: Any = None) -> bool:
        """Read what arrived; True once the connection has left the framer."""
        if conn.pw_framer is None:
            return True
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:  # the client left
            self._drop(conn)
            return True
        if conn.pw_started is None:
            conn.pw_started = time.monotonic()
            if conn.pw_waiting:
                self._set_deadline(conn)  # from the accept: SILENT_SECONDS -> REQUEST_SECONDS
        return self._take(conn, data)

    def _take(self, conn: Any, data: bytes) -> bool:
        """Feed the framer; True once the request went to a thread or was refused."""
        framer: Framer = conn.pw_framer
        try:
            request = framer.feed(data)
        except Refused as refused:
            self._refuse(conn, refused.status, refused.reason)
            return True
        if request is None:
            if framer.waits_for_continue():
                self._send(conn, _CONTINUE)
            return conn.pw_framer is None  # dropped if the 100 could not be sent
        conn.pw_framer = None
        conn.pw_leftover = framer.leftover
        if conn.pw_waiting:
            self.poller.unregister(conn.sock)
        if request.streamer is not None:
            # The import route: the thread reads the body from the socket through h11.
            if framer.waits_for_continue():
                try:
                    conn.sock.send(_CONTINUE)
                except OSError:
                    self.nr_conns -= 1
                    close_now(conn.sock)
                    return True
            conn.pw_streamed = framer
            conn.parser = OneRequest(self.cfg, request, conn.client, conn.sock)
            conn.data_ready = True
            super().enqueue_req(conn)
            return True
        # The thread reads this one request from memory, never from the socket.
        conn.parser = OneRequest(self.cfg, request, conn.client)
        conn.data_ready = True
        super().enqueue_req(conn)
        return True

    def _send(self, conn: Any, data: bytes) -> None:
        try:
            conn.sock.send(data)
        except OSError:
            self._drop(conn)

    def _refuse(self, conn: Any, status: int, reason: str) -> None:
        try:
            conn.sock.send(refusal(status, reason))
        except OSError:
            pass
        self._drop(conn)

    def _drop(self, conn: Any) -> None:
        if conn.pw_framer is None:
            return
        conn.pw_framer = None
        if conn.pw_waiting:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        self.nr_conns -= 1
        close_now(conn.sock)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """Serve one framed request (on a thread); a client that does not read is cut off."""
        conn.sock.settimeout(WRITE_SECONDS)
        return super().handle_request(req, conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """Back to the framer or the poller; a closing connection does not block the loop."""
        streamed: Framer | None = getattr(conn, "pw_streamed", None)
        if streamed is not None:
            conn.pw_streamed = None
            conn.pw_leftover = streamed.leftover
        if fs.cancelled() or fs.exception() is not None or fs.result() is not True \
                or (streamed is not None and not streamed.finished):
            # gunicorn lingers up to 2 s here, on the event loop, for the client to close.
            self.nr_conns -= 1
            close_now(conn.sock)
        elif conn.pw_leftover and self.alive:
            conn.sock.setblocking(False)  # the thread left it with a write timeout
            self.enqueue_req(conn)  # pipelined bytes already read: straight to the framer
        else:
            super().finish_request(conn, fs)  # kept alive: back to the poller

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Wake up in time for the next deadline, not only once a second."""
        if self.deadlines:
            timeout = min(timeout, max(self.deadlines[0][0] - time.monotonic(), 0.0) + 0.01)
        if self.keepalived_conns:
            timeout = min(timeout, max(
                self.keepalived_conns[0].timeout - time.monotonic(), 0.0) + 0.01)
        super().wait_for_and_dispatch_events(timeout)

    def murder_pending(self) -> None:
        """Also close connections whose request did not arrive in time."""
        super().murder_pending()
        now = time.monotonic()
        while self.deadlines and self.deadlines[0][0] <= now:
            deadline, _, conn = heapq.heappop(self.deadlines)
            if conn.pw_framer is not None and conn.pw_deadline == deadline:
                self._drop(conn)

"""Read a request's body before its view, so a malformed body is a 400, never a 500.

A WSGI server raises its own errors from `wsgi.input` when a chunked body is malformed
(gunicorn: InvalidChunkSize, ChunkMissingTerminator, NoMoreData, ...), and they are not
werkzeug's HTTP errors, so a view reading the body would turn them into a 500. Bodies are
small (MAX_CONTENT_LENGTH), and every route with a body reads all of it anyway.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import ClientDisconnected, HTTPException

from service.errors import Invalid


def read_body() -> None:
    """Read and cache the body; any failure of the server's input stream is a 400."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not chunked and not request.content_length:
        return
    try:
        request.get_data(cache=True)
    except ClientDisconnected:  # werkzeug's name for an OSError of the input: a cut body
        raise Invalid("malformed request body") from None
    except HTTPException:
        raise  # 413 too large
    except Exception:  # the server's own parse errors, whatever their type
        raise Invalid("malformed request body") from None


def init_app(app: Flask) -> None:
    """Run the check before every view (after the rate limiter's)."""
    app.before_request(read_body)

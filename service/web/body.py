"""Read a request's body before its view, so a malformed body is a 400, never a 500.

A WSGI server raises its own errors from `wsgi.input` when a chunked body is malformed
(gunicorn: InvalidChunkSize, ChunkMissingTerminator, NoMoreData, ...), and they are not
werkzeug's HTTP errors, so a view reading the body would turn them into a 500. Bodies are
small (MAX_CONTENT_LENGTH), and every route with a body reads all of it anyway, except the
views marked `streamed` (the admin import route), which read and check their own stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import ClientDisconnected, HTTPException

from service.errors import Invalid

F = TypeVar("F", bound=Callable[..., Any])


def streamed(view: F) -> F:
    """Mark a view that reads its own body as a stream (an import file): not read here, and
    not held to MAX_CONTENT_LENGTH (the view lifts it, after its token check)."""
    view.pw_streamed = True  # type: ignore[attr-defined]
    return view


def read_body() -> None:
    """Read and cache the body; any failure of the server's input stream is a 400."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "pw_streamed", False):
        return
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

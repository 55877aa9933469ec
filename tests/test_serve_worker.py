"""The gunicorn worker's judgement of when a request has fully arrived (no server needed)."""

from __future__ import annotations

import pytest

from service.gunicorn_worker import MAX_BODY, MAX_HEAD, _without_expect, request_complete

HEAD = b"POST /api/v1/sites/demo/hits HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(("buf", "expected"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n", False),                      # headers not ended
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),                   # no body
    (HEAD + b"Content-Length: 5\r\n\r\nabc", False),                # body short
    (HEAD + b"Content-Length: 5\r\n\r\nabcde", True),
    (HEAD + b"content-length:5\r\n\r\nabcdeGET /next", True),       # pipelined rest
    (HEAD + b"Content-Length: x\r\n\r\n", None),                    # gunicorn answers 400
    (HEAD + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), None),  # the app answers 413
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", False),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", True),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", True),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD, None),             # gunicorn answers 431
])
def test_request_complete(buf: bytes, expected: bool | None) -> None:
    assert request_complete(buf) is expected


def test_expect_continue_is_taken_out_of_the_head_and_the_body_kept() -> None:
    buf = HEAD + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    assert _without_expect(buf) == HEAD + b"Content-Length: 2\r\n\r\n"
    assert _without_expect(HEAD + b"\r\n") is None

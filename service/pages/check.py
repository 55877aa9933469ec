"""Checking a path against the portal's own page: fetch it from the site's first origin and
read its title. The portal is the authority on whether an article exists and what it is
called; clients are not.

Only the site's origins are ever contacted: the URL is built from the first origin and the
path (percent-encoded, then parsed again and compared), and a redirect is followed only when
its target, resolved against the page's URL, is one of the site's origins. No cookies (the
client has no jar), no proxy from the environment, at most 5 s and 512 KB per check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import quote, urljoin, urlsplit

import urllib3

from service.text import text

TIMEOUT_S = 5.0
MAX_BYTES = 512 * 1024
MAX_REDIRECTS = 5
MAX_TITLE = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# A hook that may refuse a host before it is contacted: the test suite sets GUARD to one
# that allows loopback only, so no test can make the verifier reach the internet
HostGuard = Callable[[str], None]
GUARD: HostGuard | None = None


def _version() -> str:
    try:
        return version("portal-widgets")
    except PackageNotFoundError:  # pragma: no cover - running from a tree without metadata
        return "0"


USER_AGENT = f"portal-widgets-verifier/{_version()}"


@dataclass(frozen=True)
class Fetched:
    """What the portal said about a path."""

    result: str  # verified (200 text/html), rejected (404, 410), failed (anything else)
    title: str = ""  # og:title, else <title>, cleaned ('' = none); verified only
    detail: str = ""  # why it failed or where it went, for the log


def origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, default ports filled in; None when it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def page_url(origin: str, path: str) -> str | None:
    """The URL of `path` on `origin`, or None when it would name another origin."""
    url = origin.rstrip("/") + quote(path, safe="/%:@!$&'()*+,;=-._~")
    return url if origin_key(url) == origin_key(origin) else None


class _TitleParser(HTMLParser):
    """Collects `<meta property="og:title">` and the first `<title>`'s text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.og_title: str | None = None
        self.title: str | None = None
        self._in_title = False
        self._title_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta" and self.og_title is None:
            found = dict(attrs)
            if (found.get("property") or "").strip().lower() == "og:title":
                self.og_title = found.get("content") or ""
        elif tag == "title" and self.title is None:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._title_parts)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)


def page_title(body: bytes, content_type: str) -> str:
    """The page's og:title, else its <title>, cleaned ('' when it has neither)."""
    charset = ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    if not charset:
        sniffed = _META_CHARSET_RE.search(body[:2048])
        charset = sniffed.group(1).decode("ascii") if sniffed else "utf-8"
    try:
        decoded = body.decode(charset, errors="replace")
    except LookupError:
        decoded = body.decode("utf-8", errors="replace")
    parser = _TitleParser()
    parser.feed(decoded)
    parser.close()
    if parser._in_title:  # an unclosed <title> (a cut page): what was read of it
        parser.title = "".join(parser._title_parts)
    for candidate in (parser.og_title, parser.title):
        cleaned = text(candidate, "title", max_len=MAX_TITLE, truncate=True)
        if cleaned:
            return cleaned
    return ""


def _read(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes | None:
    """At most MAX_BYTES of the body; None when the deadline passes first."""
    chunks: list[bytes] = []
    size = 0
    sock = getattr(getattr(response, "connection", None), "sock", None)
    while size < MAX_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if sock is not None:  # each wait for data ends at the deadline, not 5 s after it
            sock.settimeout(left)
        chunk = response.read1(min(65536, MAX_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def fetch(origins: Sequence[str], path: str, *, pool: urllib3.PoolManager,
          guard: HostGuard | None = None, timeout_s: float = TIMEOUT_S) -> Fetched:
    """Ask the site's first origin for `path` and say what it answered."""
    if not origins:
        return Fetched("failed", detail="no origin")
    allowed = {origin_key(origin) for origin in origins}
    url = page_url(origins[0], path)
    if url is None:
        return Fetched("failed", detail="path names another origin")
    deadline = time.monotonic() + timeout_s
    for _ in range(MAX_REDIRECTS + 1):
        target = origin_key(url)
        if target is None or target not in allowed:
            return Fetched("failed", detail="redirect outside the site's origins")
        for check in (guard, GUARD):
            if check is not None:
                check(target[1])
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Fetched("failed", detail="timeout")
        try:
            response = pool.request(
                "GET", url, headers={"User-Agent": USER_AGENT, "Accept": "text/html"},
                redirect=False, retries=False, preload_content=False,
                timeout=urllib3.Timeout(connect=remaining, read=remaining))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Fetched("failed", detail=type(exc).__name__)
        try:
            status = response.status
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location", "")
                if not location:
                    return Fetched("failed", detail="redirect without Location")
                url = urljoin(url, location)
                continue
            if status in (404, 410):
                return Fetched("rejected", detail=str(status))
            content_type = response.headers.get("Content-Type", "")
            if status != 200 or content_type.split(";")[0].strip().lower() != "text/html":
                return Fetched("failed", detail=f"{status} {content_type[:40]}")
            try:
                body = _read(response, deadline)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                return Fetched("failed", detail=type(exc).__name__)
            if body is None:
                return Fetched("failed", detail="timeout")
            return Fetched("verified", title=page_title(body, content_type))
        finally:
            # never drain what is left: a slow or huge answer would hold the fetcher
            response.close()
    return Fetched("failed", detail="too many redirects")

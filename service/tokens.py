"""Admin tokens: random, shown once, stored only as SHA-256, scoped to all sites or some."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.counting.periods import SERVICE_TZ, local_iso
from service.errors import Conflict, Invalid, NotFound
from service.sites import SITE_ID_RE
from service.store import Store
from service.store import tokens as db

NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Token:
    """A stored token (never the secret itself)."""

    name: str
    sites: tuple[str, ...]  # ("*",) for every site
    created: str

    def allows(self, site_id: str) -> bool:
        """Whether this token may manage the site."""
        return "*" in self.sites or site_id in self.sites

    def to_json(self) -> dict[str, Any]:
        """What `token list` and the API show."""
        return {"name": self.name, "sites": list(self.sites), "created": self.created}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(store: Store, name: str, sites: list[str], *, now: datetime) -> str:
    """Store a new token and return its secret (shown once)."""
    if not NAME_RE.match(name):
        raise Invalid("token name must be 1-64 letters, digits, ., _ or -")
    scope = sites or ["*"]
    for site in scope:
        if site != "*" and not SITE_ID_RE.match(site):
            raise Invalid(f"invalid site id: {site[:64]}")
    secret = "pw_" + secrets.token_urlsafe(32)
    record = {"sha256": _digest(secret), "sites": sorted(set(scope)),
              "created": local_iso(now, SERVICE_TZ)}
    if not db.add(store, name, record):
        raise Conflict(f"a token named {name} exists")
    return secret


def _token(name: str, record: dict[str, Any]) -> Token:
    return Token(name=name, sites=tuple(record["sites"]), created=record["created"])


def list_tokens(store: Store) -> list[Token]:
    """Every token, without secrets."""
    return [_token(name, rec) for name, rec in sorted(db.load_all(store).items())]


def revoke(store: Store, name: str) -> None:
    """Delete a token; NotFound when there is none of that name."""
    if not db.remove(store, name):
        raise NotFound("unknown token")


def authenticate(store: Store, secret: str) -> Token | None:
    """The token whose secret this is, compared in constant time, or None."""
    digest = _digest(secret)
    found = None
    for name, record in db.load_all(store).items():
        if hmac.compare_digest(digest, str(record.get("sha256", ""))):
            found = _token(name, record)
    return found

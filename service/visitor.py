"""The one place where a visitor id and a client-address key are made (never stored raw)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from service.store import Store
from service.store.counters import daily_salt


def address(ip: str) -> str:
    """The unit of per-address limits: an IPv4 address, or an IPv6 client's /64 network.

    A home or mobile IPv6 customer holds a whole /64 and may use any address in it.
    """
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def network(ip: str) -> str:
    """An IPv6 client's /48 network (a customer's whole allocation), '' for IPv4.

    Per-address allowances count an IPv6 client by its /64 (`address`); on top, a /48
    together gets a few times one address's allowance, so a /56 or /48 cannot multiply it.
    """
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((parsed, 48), strict=False))
    return ""


def keyed(secret: str, *parts: str) -> str:
    """A keyed hash (HMAC-SHA256, 128 bits in hex) of the parts."""
    message = "\x00".join(parts).encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def address_key(secret: str, ip: str, *scope: str) -> str:
    """A keyed hash of the client's address unit (see `address`), optionally per scope."""
    return keyed(secret, "ip", *scope, address(ip))


def network_key(secret: str, ip: str, *scope: str) -> str:
    """A keyed hash of the client's IPv6 /48 (see `network`), per scope; '' for IPv4."""
    net = network(ip)
    return keyed(secret, "net", *scope, net) if net else ""


def visitor_id(store: Store, secret: str, site_id: str, day: str, *, ip: str, user_agent: str,
               token: str) -> str:
    """A keyed hash of (daily salt, site, IP, User-Agent, browser token) for one local day."""
    salt = daily_salt(store, day)
    return keyed(secret, salt, site_id, ip, user_agent, token)

"""The one place where a visitor id and a client-address key are made (never stored raw)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from service.allowances import Allowance
from service.store import Store
from service.store.counters import Rate, daily_salt


def address(ip: str) -> str:
    """The unit of per-address limits: an IPv4 address, or an IPv6 client's /64 network.

    A home or mobile IPv6 customer holds a whole /64 and may use any address in it.
    """
    parsed = _parsed(ip)
    if parsed is None:
        return ip
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


# An IPv6 /48 (one customer's site, or a home line's /56 within it) together gets at most this
# many times one address unit's ballots: votes per poll, ratings per page. (Request rates
# declare their own factor: service.allowances, Allowance.network_factor.)
AGGREGATE_FACTOR = 4


def _parsed(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def network(ip: str) -> str:
    """The unit a title quorum counts: an IPv4 /24 or an IPv6 /48 (one home line, one office,
    one phone's carrier pool are one network, however many addresses they hand out)."""
    parsed = _parsed(ip)
    if parsed is None:
        return ip
    if isinstance(parsed, ipaddress.IPv4Address):  # the common case, without ip_network
        return str(parsed).rsplit(".", 1)[0] + ".0/24"
    return str(ipaddress.ip_network((parsed, 48), strict=False))


def aggregate(ip: str) -> str:
    """The IPv6 /48 around the client, or '' for IPv4 (its address is its own aggregate)."""
    if ":" not in ip:
        return ""  # IPv4 (or no address at all): not parsed twice on every hit
    parsed = _parsed(ip)
    if not isinstance(parsed, ipaddress.IPv6Address):
        return ""
    return str(ipaddress.IPv6Network((parsed, 48), strict=False))


@dataclass(frozen=True)
class AddressUnits:
    """Keyed hashes of what per-address allowances count, never the raw address.

    `unit`: the address unit (IPv4 address, IPv6 /64) that gets the allowance itself;
    `aggregate`: its IPv6 /48, which together gets AGGREGATE_FACTOR times the allowance
    ('' for IPv4: nothing to aggregate).
    """

    unit: str
    aggregate: str

    def aggregate_allowance(self, allowed: int) -> int:
        """What the /48 together may do when one unit may do `allowed` (0 = no aggregate)."""
        return allowed * AGGREGATE_FACTOR if self.aggregate else 0


def address_units(secret: str, ip: str, *scope: str) -> AddressUnits:
    """The keyed address unit and /48 aggregate of a client, optionally per scope (a poll,
    a page): the one helper every per-address allowance uses (hits, votes, ratings)."""
    wide = aggregate(ip)
    return AddressUnits(unit=address_key(secret, ip, *scope),
                        aggregate=keyed(secret, "net48", *scope, wide) if wide else "")


def address_rate(allowance: Allowance, secret: str, ip: str) -> Rate:
    """An allowance as a script counts it for this client: its address unit, and for an
    IPv6 client with an allowance that has a network factor, its /48 together."""
    units = address_units(secret, ip)
    factor = allowance.network_factor if units.aggregate else 0
    return Rate(allowance.name, units.unit[:16], allowance.count, allowance.window_ms,
                aggregate=units.aggregate[:16] if factor else "",
                aggregate_allowed=allowance.count * factor)


def network_key(secret: str, ip: str) -> str:
    """A keyed hash of the client's network (see `network`), for the title quorum."""
    return keyed(secret, "net", network(ip))[:16]


def keyed(secret: str, *parts: str) -> str:
    """A keyed hash (HMAC-SHA256, 128 bits in hex) of the parts."""
    message = "\x00".join(parts).encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def address_key(secret: str, ip: str, *scope: str) -> str:
    """A keyed hash of the client's address unit (see `address`), optionally per scope."""
    return keyed(secret, "ip", *scope, address(ip))


def visitor_id(store: Store, secret: str, site_id: str, day: str, *, ip: str, user_agent: str,
               token: str) -> str:
    """A keyed hash of (daily salt, site, IP, User-Agent, browser token) for one local day."""
    salt = daily_salt(store, day)
    return keyed(secret, salt, site_id, ip, user_agent, token)

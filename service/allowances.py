"""Every per-address allowance of the service, declared once (name, count, window).

Where each is counted (`where`):
- `script`: inside the Redis script that does the work (hit.lua, heartbeat.lua, vote.lua,
  rating.lua call `over_limit` of limit.lua): the check costs no round trip of its own, and
  the script is the request's one check. A vote or rating refused before its script runs
  (a malformed body, a bad ticket) is counted in process memory instead.
- `process`: in this process's memory (public reads: answered from a per-process cache, so
  a Redis counter would cost more than the read).
- `shared`: in Redis through flask-limiter (service.limits; keys `<prefix>:LIMITER/...`),
  in process memory while Redis is down (flask-limiter's in-memory fallback).

Windows are fixed and aligned to the clock (service.clock): a window is `now // window_s`,
its index is part of the counter's name. Thousands of people can share one carrier-grade
NAT address in Vietnam's mobile networks, so the budgets for page loads and reads are
generous; they only stop a single client hammering. An IPv6 client is counted by its /64;
where `network_factor` is set, its /48 together gets that many times one address's count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Allowance:
    """`count` requests per `window_s` seconds per client address unit."""

    name: str
    count: int
    window_s: int
    where: str  # script | process | shared
    network_factor: int = 0  # the IPv6 /48 together: count x factor (0: no /48 budget)

    @property
    def window_ms(self) -> int:
        """The window in milliseconds (as the scripts take it)."""
        return self.window_s * 1000

    def window(self, now: float) -> int:
        """The index of the window that contains `now` (unix seconds)."""
        return int(now // self.window_s)

    def retry_after(self, now: float) -> int:
        """Whole seconds (at least 1) until the window that contains `now` ends."""
        end = (self.window(now) + 1) * self.window_s
        return max(1, math.ceil(end - now))


HITS = Allowance("hit", 600, 60, "script", network_factor=4)
HEARTBEATS = Allowance("beat", 600, 60, "script")
VOTES = Allowance("vote", 10, 60, "script", network_factor=4)
RATINGS = Allowance("rating", 30, 60, "script")
READS = Allowance("reads", 1200, 60, "process")
CLICKS = Allowance("clicks", 120, 60, "shared")
ADMIN_FAILURES = Allowance("admin-failures", 20, 60, "shared")

ALL = (HITS, HEARTBEATS, VOTES, RATINGS, READS, CLICKS, ADMIN_FAILURES)

"""The page verifier: one background thread per worker process fetches queued page checks.

Why threads in the workers, with the queue in Redis (docs/titles.md): every deployment
(`serve`, the container, several instances behind a balancer) already runs workers against
the same Redis, so checks are shared out and deduplicated there (check_claim.lua) without a
new process to supervise; a fetch waits on the network, not the CPU, so one thread costs a
worker almost nothing; and the hit that queues a check wakes its own worker's thread at
once (`poke`), while the others sweep every few seconds for retries and checks queued by
other instances. Nothing here runs inside a request.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import urllib3
from flask import Flask

from service import sites
from service.counting.periods import ms, periods_of
from service.pages import check as pagecheck
from service.runtime import metrics
from service.sites import Site
from service.store import StorageUnavailable, Store, get_store
from service.store import checks as db

log = logging.getLogger("portal_widgets.verifier")

PER_SECOND = 2  # fetches per site and second, across every worker and instance
LEASE_MS = 30_000  # a claimed check is retried after this if its fetcher died
SWEEP_SECONDS = 5.0  # how often an idle thread looks for due checks queued elsewhere
BACKOFF_MS = (30_000, 120_000, 600_000, 3_600_000, 6 * 3_600_000)  # after 1, 2, ... failures


def retry_delay_ms(tries: int) -> int:
    """How long a check waits after its `tries`-th failure in a row."""
    return BACKOFF_MS[min(tries, len(BACKOFF_MS)) - 1] if tries > 0 else BACKOFF_MS[0]


@dataclass
class Verifier:
    """Fetches due checks of every site that verifies its pages."""

    store: Store
    guard: pagecheck.HostGuard | None = None
    pool: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(
        num_pools=50, maxsize=2, retries=False))

    def check(self, site: Site, claimed: db.Claimed, now: datetime) -> str:
        """Fetch one claimed page and record what the portal said; the result."""
        fetched = pagecheck.fetch(site.origins, claimed.path, pool=self.pool, guard=self.guard)
        retry = ms(now) + retry_delay_ms(claimed.tries + 1)
        db.done(self.store, claimed, db.Outcome(fetched.result, fetched.title, retry),
                p=periods_of(now, site.tz), now_ms=ms(now), max_pages=site.max_pages,
                listable=site.listable(claimed.path))
        metrics.PAGE_CHECKS.labels(site=site.id, result=fetched.result).inc()
        log.info("page check site=%s result=%s detail=%s", site.id, fetched.result,
                 fetched.detail)
        return fetched.result

    def sweep(self, now: datetime | None = None, *, limit: int = 100) -> float:
        """Run due checks of every verifying site (at most `limit`); seconds until the next
        one may be due (SWEEP_SECONDS when nothing is queued)."""
        wait = SWEEP_SECONDS
        done = 0
        for site in sites.list_sites(self.store):
            if not site.verifies or site.merged_into:
                continue
            while done < limit:
                at = now or datetime.now(UTC)
                found = db.claim(self.store, site.id, now_ms=ms(at), lease_ms=LEASE_MS,
                                 per_second=PER_SECOND)
                if isinstance(found, db.Idle):
                    if found.wait_ms >= 0:
                        wait = min(wait, found.wait_ms / 1000)
                    if found.wait_ms != 0 or found.limited:
                        break
                    continue  # the claimed page was gone: the next one
                self.check(site, found, at)
                done += 1
        return 0.05 if done >= limit else max(wait, 0.05)


class Runner:
    """The background thread of one process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pw-verifier", daemon=True)

    def _run(self) -> None:
        with self.app.app_context():
            verifier = Verifier(get_store())
            while not self.stopping.is_set():
                self.wake.clear()  # a poke from now on is seen by the wait below
                try:
                    wait = verifier.sweep()
                except StorageUnavailable:
                    wait = SWEEP_SECONDS
                except Exception:  # a bug must not end the thread: log, then go on
                    log.exception("page verifier sweep failed")
                    wait = SWEEP_SECONDS
                self.wake.wait(wait)

    def stop(self) -> None:
        """End the thread (tests)."""
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=10)


_runners: dict[int, Runner] = {}
_lock = threading.Lock()


def start(app: Flask) -> Runner:
    """Start this process's verifier thread for `app` (once per process and app)."""
    with _lock:
        runner: Runner | None = app.extensions.get("pw_verifier")
        if runner is None or runner.stopping.is_set() or _runners.get(os.getpid()) is not runner:
            runner = Runner(app)
            app.extensions["pw_verifier"] = runner
            _runners[os.getpid()] = runner
            runner.thread.start()
        return runner


def poke(app: Flask) -> None:
    """Wake this process's verifier (a hit just queued a check); nothing when none runs."""
    runner: Runner | None = app.extensions.get("pw_verifier")
    if runner is not None:
        runner.wake.set()

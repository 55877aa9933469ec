"""Migrations of the stored data, one numbered module per layout (`m0002_...` makes layout 2
from layout 1, and so on), in the one list STEPS.

`migrate` runs every step above the stored layout, in order, and writes `pw:schema` after
each, so an interrupted run continues where it stopped. Each step is idempotent: data that
was already moved is not found again (service.store.migrations.base.Budget).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from service.store import Store, schema
from service.store.migrations import (
    m0002_page_ids,
    m0003_deleted_sites,
    m0004_page_checks,
    m0005_online_sessions,
)
from service.store.migrations.base import Budget, Step

__all__ = ["CURRENT", "STEPS", "Budget", "DataTooNew", "DataTooOld", "Plan", "check_layout",
           "migrate", "plan"]

# Layout 1 is the first release's; every later layout is made by one step here.
STEPS: tuple[Step, ...] = (m0002_page_ids.STEP, m0003_deleted_sites.STEP,
                           m0004_page_checks.STEP, m0005_online_sessions.STEP)
CURRENT = STEPS[-1].version
OLDEST = STEPS[0].version - 1  # the first release's layout, the oldest migrated


class DataTooNew(Exception):
    """The data was written by a newer release than this one."""

    def __init__(self, found: int) -> None:
        super().__init__(
            f"the data's layout is version {found}, newer than this release knows (version "
            f"{CURRENT}): run the release that wrote it, or a newer one")
        self.found = found


class DataTooOld(Exception):
    """The data has an older layout: it must be migrated first."""

    def __init__(self, found: int) -> None:
        super().__init__(
            f"the data's layout is version {found}, older than this release's (version "
            f"{CURRENT}): run `portal-widgets migrate` (or `portal-widgets serve --migrate`) "
            "first; `portal-widgets migrate --check` says what it would do")
        self.found = found


@dataclass
class Plan:
    """The stored layout and what bringing it to CURRENT involves."""

    found: int | None  # None: an empty deployment
    written: bool  # whether `pw:schema` holds it (else read from which keys exist)
    steps: list[tuple[Step, list[str]]] = field(default_factory=list)


def plan(store: Store) -> Plan:
    """What `migrate` would do; reads only."""
    found, written = schema.current_layout(store)
    result = Plan(found, written)
    if found is None or found > CURRENT:
        return result
    for step in STEPS:
        if step.version > found:
            result.steps.append((step, step.plan(store)))
    return result


def migrate(store: Store, *, report: Callable[[str], None] = lambda line: None,
            budget: Budget | None = None) -> int:
    """Bring the data to CURRENT (an empty deployment just gets CURRENT written); the layout
    found before. DataTooNew when the data is newer than this release."""
    budget = budget or Budget()
    found, written = schema.current_layout(store)
    if found is None:
        schema.write(store, CURRENT, only_if_missing=True)
        report(f"empty deployment: layout {CURRENT} written")
        return CURRENT
    if found > CURRENT:
        raise DataTooNew(found)
    if not written:
        schema.write(store, found, only_if_missing=True)
    budget.spend(0)  # the test hook may stop a run before its first unit
    for step in STEPS:
        if step.version <= found:
            continue
        report(f"layout {step.version - 1} -> {step.version}: {step.title}")
        step.run(store, budget)
        schema.write(store, step.version)
        report(f"layout {step.version} written")
    return found


def check_layout(store: Store, *, allow_older: bool = False) -> None:
    """Refuse data this release cannot use: DataTooNew, or DataTooOld unless allow_older.
    An empty deployment gets the current layout written (its first start or command)."""
    found, _ = schema.current_layout(store)
    if found is None:
        schema.write(store, CURRENT, only_if_missing=True)
        return
    if found > CURRENT:
        raise DataTooNew(found)
    if found < CURRENT and not allow_older:
        raise DataTooOld(found)

"""`portal-widgets migrate [--check]`: bring the stored data to this release's layout."""

from __future__ import annotations

import argparse
import os
from typing import Any

from service.cli.common import open_store
from service.store import Store, migrations

# Test hook (not documented for operators): the process kills itself with SIGKILL after this
# many atomic units, to show that a migration interrupted anywhere completes exactly once.
KILL_AFTER_ENV = "PW_TEST_MIGRATE_KILL_AFTER"


def register(sub: Any) -> None:
    """Add the migrate command."""
    migrate = sub.add_parser(
        "migrate", help="bring the data in Redis to this release's layout",
        description="Upgrades data written by an earlier release (from v0.1.0 on) to this "
                    "release's layout. Safe to run again, and to interrupt: a second run "
                    "finishes what the first began, moving nothing twice.")
    migrate.add_argument("--check", action="store_true",
                         help="change nothing; print the layout found and what would be done")
    migrate.set_defaults(func=cmd_migrate)


def describe(plan: migrations.Plan) -> list[str]:
    """What a plan says, for the operator."""
    if plan.found is None:
        return [f"empty deployment: layout {migrations.CURRENT} would be written"]
    how = "stored in pw:schema" if plan.written else "found by the keys present"
    lines = [f"data layout {plan.found} ({how}); this release uses layout "
             f"{migrations.CURRENT}"]
    if plan.found > migrations.CURRENT:
        lines.append(str(migrations.DataTooNew(plan.found)))
        return lines
    if not plan.steps:
        lines.append("nothing to do" if plan.written else
                     f"nothing to move; layout {plan.found} would be written")
    for step, changes in plan.steps:
        lines.append(f"layout {step.version - 1} -> {step.version}: {step.title}")
        lines += [f"  {change}" for change in changes] or ["  nothing to move"]
    return lines


def run(store: Store, *, check: bool) -> None:
    """Print the plan, and unless `check`, carry it out."""
    plan = migrations.plan(store)
    for line in describe(plan):
        print(line)
    if check:
        return
    if plan.found is not None and plan.found > migrations.CURRENT:
        raise migrations.DataTooNew(plan.found)
    raw = os.environ.get(KILL_AFTER_ENV)
    budget = migrations.Budget(int(raw) if raw else None)
    migrations.migrate(store, report=print, budget=budget)
    print(f"data layout {migrations.CURRENT}: up to date")


def cmd_migrate(args: argparse.Namespace) -> int:
    """migrate [--check]."""
    with open_store(check_layout=False) as store:
        run(store, check=args.check)
    return 0

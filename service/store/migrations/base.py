"""What every migration step shares: the Step record and the unit budget (a test hook)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

from service.store import Store


class Budget:
    """Counts the atomic units a migration has done. Each unit is one script or transaction
    that moves data and removes (or marks) its source together, so a process killed between
    two units loses nothing and repeats nothing.

    `kill_after` is a test hook: after that many units the process kills itself with SIGKILL
    (as `kill -9` would), to show that a run at any point and a second run complete exactly
    once."""

    def __init__(self, kill_after: int | None = None) -> None:
        self.done = 0
        self.kill_after = kill_after

    def spend(self, units: int = 1) -> None:
        """Record `units` done (and die here when the test hook says so)."""
        self.done += units
        if self.kill_after is not None and self.done >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Step:
    """One migration: brings data of layout `version - 1` to layout `version`.

    `plan` reads only and says what `run` would do (one line per kind of change, empty when
    nothing is left); `run` does it, in atomic units, and may be run again at any point."""

    version: int
    title: str
    plan: Callable[[Store], list[str]]
    run: Callable[[Store, Budget], None]

"""The clock the app reads (`app.extensions["pw_clock"]`): the wall clock, or a set time.

Views and the limiter's windows read it, never `datetime.now()`, so a test moves time by
setting it instead of waiting for a minute to turn.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time, optionally frozen at a set instant (tests)."""

    def __init__(self) -> None:
        self._frozen: float | None = None

    def time(self) -> float:
        """Unix seconds."""
        return time.time() if self._frozen is None else self._frozen

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        return datetime.fromtimestamp(self.time(), UTC)

    def set(self, when: datetime | float) -> None:
        """Stop at `when` (a datetime or unix seconds) until set again or `run()`."""
        self._frozen = when.timestamp() if isinstance(when, datetime) else float(when)

    def advance(self, seconds: float) -> None:
        """Move a set clock forward (a running clock is set first, at its current time)."""
        self._frozen = self.time() + seconds

    def run(self) -> None:
        """Back to the wall clock."""
        self._frozen = None

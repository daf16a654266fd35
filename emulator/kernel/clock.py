"""The clock the emulator (and `warden replay --now`) run on: real time, optionally shifted, and advanceable.

Long-running operations complete by this clock, and age-based controls (key age, file retention) read
it, so a test can start the world at a fixed instant and move it forward exactly with `advance()`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with a timezone (`2026-12-01T00:00:00Z`); ValueError for anything else."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {text!r} (expected e.g. 2026-12-01T00:00:00Z)") from None
    if when.tzinfo is None:
        raise ValueError(f"the instant {text!r} has no timezone (add Z for UTC)")
    return when.astimezone(UTC)


class Clock:
    """UTC now: real time plus an offset. `start` pins the first reading; `advance` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0) if start is None else start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def pin(self, start: datetime) -> None:
        """Make now read `start` (a scenario's `clock.now`, set before anything has run)."""
        with self._lock:
            self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back: operations and etags must not see time reverse)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def iso(self) -> str:
        """Now as ARM writes instants: `2026-12-01T10:00:00.1234567Z`."""
        return iso(self.now())


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"

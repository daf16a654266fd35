"""The trace of self-caused echoes: counted per (resource, operation) and window, one audit record per count.

docs/audit.md "Self-caused echoes (self-caused events)" says what a trace record keeps and what it drops.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from warden import __version__
from warden.audit import format_time
from warden.audit_held import HeldBack
from warden.errors import AuditWriteError
from warden.model import AuditRecord, Caller, Json, Outcome, RecordKind, ResourceEvent, Trigger

log = logging.getLogger(__name__)

#: Longest a count stays open: its record is written at most this long after its first echo (a timer).
WINDOW_S = 60.0
#: Most (resource, operation) counts open at once; one more writes them all now (memory stays bounded).
MAX_OPEN = 1000


class Echo(NamedTuple):
    """What the trace keeps of one self-caused echo (a tuple: the fast path builds one per echo), and why."""

    event_id: str
    resource_id: str
    operation: str
    correlation_id: str
    caller: Caller
    reason: str  # triage's

    @classmethod
    def of(cls, event: ResourceEvent, reason: str) -> Echo:
        return cls(event.event_id, event.resource_id, event.operation_name, event.correlation_id, event.caller, reason)


@dataclass
class _Count:
    """The echoes of one (resource, operation) in the open window: the first one's identity, the last one's id."""

    first_id: str
    correlation_id: str
    caller: Caller
    reason: str
    first_seen: datetime
    last_id: str
    last_seen: datetime
    count: int = 1


class EchoTrace:
    """Counts self-caused echoes and hands their records to a sink's HeldBack, which writes them with the next
    append of any other record, before the log is read, `WINDOW_S` after a window's first echo (a timer) and at
    shutdown; an echo costs no write of its own, and a duplicate delivery is one more in its count."""

    def __init__(self, held: HeldBack, clock: Callable[[], datetime], *, window_s: float = WINDOW_S) -> None:
        self._held = held
        self._clock = clock
        self._window_s = window_s
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], _Count] = {}
        self._timer: threading.Timer | None = None
        held.drain = self.drain  # every write or read of the sink takes the open counts too

    def count(self, echo: Echo) -> None:
        """One more echo of its (resource, operation); the count keeps the first one's reason."""
        now = self._clock()
        key = (echo.resource_id, echo.operation)
        with self._lock:
            seen = self._open.get(key)
            if seen is not None:
                seen.count += 1
                seen.last_id, seen.last_seen = echo.event_id, now
                return
            self._open[key] = _Count(
                echo.event_id, echo.correlation_id, echo.caller, echo.reason, now, echo.event_id, now
            )
            full = len(self._open) >= MAX_OPEN
            if not full and self._timer is None:
                self._timer = threading.Timer(self._window_s, self._on_timer)
                self._timer.daemon = True
                self._timer.start()
        if full:
            # HeldBack writes them (it holds 1,000 at most); while the log stays down it fails this echo, which
            # Event Grid then redelivers, instead of growing without bound.
            self._held.hold(self.drain())

    def drain(self) -> list[AuditRecord]:
        """The records of every open count, now closed (the next echo opens a new one)."""
        with self._lock:
            closed, self._open = self._open, {}
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        return [_record(resource, operation, seen) for (resource, operation), seen in closed.items()]

    def _on_timer(self) -> None:
        try:
            self._held.flush()
        except AuditWriteError as exc:  # HeldBack keeps them for the next append, read or flush
            log.warning("audit: could not write the echo trace: %s", exc)


def _record(resource_id: str, operation: str, seen: _Count) -> AuditRecord:
    echoes: dict[str, Json] = {
        "operation": operation,
        "count": seen.count,
        "firstEventId": seen.first_id,
        "lastEventId": seen.last_id,
        "firstSeen": format_time(seen.first_seen),
        "lastSeen": format_time(seen.last_seen),
    }
    return AuditRecord(
        time=seen.last_seen,
        kind=RecordKind.EVENT,
        event_id=seen.first_id,
        correlation_id=seen.correlation_id,
        caller=seen.caller,
        resource_id=resource_id,
        outcome=Outcome.IGNORED,
        observed={"echoes": echoes},
        reason=f"{seen.reason}; {seen.count} self-caused echo{'es' if seen.count > 1 else ''} counted",
        trigger=Trigger.EVENT,
        app_version=__version__,
    )


_traces: weakref.WeakKeyDictionary[HeldBack, EchoTrace] = weakref.WeakKeyDictionary()
_traces_lock = threading.Lock()


def trace_for(held: HeldBack, clock: Callable[[], datetime]) -> EchoTrace:
    """The one trace of a sink's HeldBack (made on first use): every echo this process counts for that sink."""
    trace = _traces.get(held)
    if trace is None:
        with _traces_lock:
            trace = _traces.get(held)
            if trace is None:
                trace = _traces[held] = EchoTrace(held, clock)
    return trace

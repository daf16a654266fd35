"""Notifications (docs/notifications.md): which audit records are announced, the CloudEvent each becomes (with the
record's ids), and the Notifier: a bounded queue drained by a daemon thread that publishes in batches, retries with
backoff and counts. Pure of any SDK: the publish function is injected (warden/azure/notify_eventgrid.py)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from warden.audit import entry_hash, parse_time, record_to_json
from warden.model import AuditRecord, Json

log = logging.getLogger(__name__)

REMEDIATED = "Warden.Remediation.Remediated"
NEEDS_HUMAN = "Warden.Remediation.NeedsHuman"
FAILED = "Warden.Remediation.Failed"

#: (record kind, outcome) -> the CloudEvent type announcing it; kind "*" matches any kind. Every other record
#: (compliant, would-remediate, exempted, skipped, ignored, rejected, intents...) is never announced.
EVENT_TYPES: Mapping[tuple[str, str], str] = {
    ("result", "remediated"): REMEDIATED,
    ("result", "partial"): REMEDIATED,  # some steps applied: a change was made, the rest is retried
    ("result", "not-verified"): REMEDIATED,  # applied, but the re-read still shows drift
    ("decision", "needs-human"): NEEDS_HUMAN,
    ("decision", "blocked"): NEEDS_HUMAN,  # a limit stopped an enforcement: a person decides
    ("*", "failed"): FAILED,  # a failed result, evaluation or sweep
}
#: The keys a sink adds when it chains a record: left out of the record id, which observers compute before them.
CHAIN_KEYS = frozenset({"seq", "prev_hash", "hash"})
#: Of each step, only what it did (never its observed values).
_STEP_KEYS = ("step", "target", "status", "error")


def event_type(kind: str, outcome: str) -> str | None:
    """The CloudEvent type for a record of this kind and outcome, or None when it is not announced."""
    return EVENT_TYPES.get((kind, outcome)) or EVENT_TYPES.get(("*", outcome))


def record_id(stored: Mapping[str, Json]) -> str:
    """The record's id: sha256 (hex) of its stored JSON (record_to_json, or an entry read back from the log, whose
    chain keys are dropped), canonical as the log's hash chain is: the same record always gives the same id."""
    return entry_hash({k: v for k, v in stored.items() if k not in CHAIN_KEYS})


@dataclass(frozen=True)
class Notice:
    """One CloudEvent to publish: `id` is the audit record's id (a retry re-sends the same one)."""

    id: str
    type: str
    source: str
    subject: str | None
    time: datetime
    data: Mapping[str, Json]


def _steps(stored: Mapping[str, Json]) -> list[Json]:
    steps = stored.get("steps")
    listed = steps if isinstance(steps, Sequence) and not isinstance(steps, str) else []
    return [{k: s[k] for k in _STEP_KEYS if k in s} for s in listed if isinstance(s, Mapping)]


def notice(stored: Mapping[str, Json], source: str) -> Notice | None:
    """The CloudEvent announcing a stored record, or None when the record is not announced."""
    kind, outcome = str(stored.get("kind") or ""), str(stored.get("outcome") or "")
    announced = event_type(kind, outcome)
    if announced is None:
        return None
    rid = record_id(stored)
    data: dict[str, Json] = {"recordId": rid}
    for key in ("eventId", "correlationId", "resourceId", "controlId", "kind", "mode", "decision", "outcome"):
        data[key] = stored.get(key, "")
    data |= {
        "change": stored.get("change") or {},
        "steps": _steps(stored),
        "reason": stored.get("reason", ""),
        "error": stored.get("error", ""),
        "trigger": stored.get("trigger", ""),
        "time": stored.get("time", ""),
    }
    return Notice(
        id=rid,
        type=announced,
        source=source,
        subject=str(stored.get("resourceId") or "") or None,
        time=parse_time(str(stored["time"])),
        data=data,
    )


def _announced(record: AuditRecord) -> bool:
    kind = record.kind.value
    outcome = "" if record.outcome is None else record.outcome.value
    return event_type(kind, outcome) is not None


Publish = Callable[[Sequence[Notice]], None]


class Notifier:
    """Publishes the audit records worth a notification, off the caller's thread.

    `observe` is an audit observer (warden/audit_held.py): it filters and enqueues, never blocks (a full queue
    drops and counts). A daemon thread publishes batches of up to `max_batch`; a publish that raises is retried
    `attempts` times in all, `backoff` * 2**n seconds apart (at most `backoff_max`), then given up (counted,
    logged with the record ids). `sleep` waits between attempts (tests inject one that returns at once)."""

    def __init__(
        self,
        publish: Publish,
        *,
        source: str = "/warden",
        capacity: int = 1000,
        max_batch: int = 50,
        attempts: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._publish = publish
        self.source = source
        self._capacity = capacity
        self._max_batch = max_batch
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._closed = threading.Event()
        self._sleep = sleep or self._closed.wait  # close() cuts a backoff short
        self._queue: deque[AuditRecord] = deque()
        self._in_flight = 0
        self._counts = {"published": 0, "failed_attempts": 0, "given_up": 0, "dropped": 0}
        self._cond = threading.Condition()
        self._worker = threading.Thread(target=self._run, name="warden-notify", daemon=True)
        self._worker.start()

    # --- the audit observer (the appending thread) ----------------------------------------------------------------
    def observe(self, records: Sequence[AuditRecord]) -> None:
        """Queue the announced records; when the queue is full, drop (counted, one WARNING per call)."""
        wanted = [r for r in records if _announced(r)]
        if not wanted:
            return
        with self._cond:
            room = max(0, self._capacity - len(self._queue))
            self._queue.extend(wanted[:room])
            dropped = len(wanted) - min(room, len(wanted))
            self._counts["dropped"] += dropped
            self._cond.notify_all()
        if dropped:
            log.warning("notify: queue full (%d): %d notification(s) dropped; the audit log holds them", room, dropped)

    # --- what the host asks -----------------------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """published, failed_attempts, given_up, dropped (records), and pending (queued or being published)."""
        with self._cond:
            return {**self._counts, "pending": len(self._queue) + self._in_flight}

    def flush(self, timeout: float) -> bool:
        """Wait until nothing is pending, or `timeout` seconds; True when nothing is."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._in_flight, timeout=timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Flush for up to `timeout` seconds, then stop the worker (what is still queued is not published)."""
        flushed = self.flush(timeout)
        with self._cond:
            self._closed.set()
            self._cond.notify_all()
        self._worker.join(timeout)
        return flushed

    # --- the worker ---------------------------------------------------------------------------------------------------
    def _take(self) -> list[AuditRecord] | None:
        with self._cond:
            self._cond.wait_for(lambda: self._queue or self._closed.is_set())
            if self._closed.is_set():
                return None
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            try:
                self._deliver(batch)
            except Exception:  # a bug in building a notice must not stop the worker
                log.exception("notify: could not build notifications for %d record(s)", len(batch))
                self._count("given_up", len(batch))
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _count(self, name: str, n: int = 1) -> None:
        with self._cond:
            self._counts[name] += n

    def _deliver(self, batch: list[AuditRecord]) -> None:
        notices = [n for n in (notice(record_to_json(r), self.source) for r in batch) if n is not None]
        for attempt in range(1, self._attempts + 1):
            try:
                self._publish(notices)
            except Exception as exc:
                self._count("failed_attempts")
                log.info("notify: attempt %d of %d failed: %s: %s", attempt, self._attempts, type(exc).__name__, exc)
                if attempt == self._attempts:
                    break
                self._sleep(min(self._backoff_max, self._backoff * 2 ** (attempt - 1)))
                if self._closed.is_set():  # closing: give up instead of trying on
                    break
            else:
                self._count("published", len(notices))
                return
        self._count("given_up", len(notices))
        log.warning(
            "notify: gave up on %d notification(s) after %d attempt(s); audit record ids: %s",
            len(notices),
            attempt,
            ", ".join(n.id for n in notices),
        )

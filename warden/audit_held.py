"""Records held back before the audit sink writes them (docs/audit.md "Self-caused echoes"), and the observers a
sink tells of every record it wrote (notifications and telemetry: docs/notifications.md, docs/telemetry.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from warden.errors import AuditWriteError
from warden.model import AuditRecord

log = logging.getLogger(__name__)

#: Told of the records of every successful append, after they are durable. It must be quick and never block.
AuditObserver = Callable[[Sequence[AuditRecord]], None]


class HeldBack:
    """Records whose write may wait (docs/audit.md "Self-caused echoes"), kept in memory and written as one batch:
    once `limit` are held, `max_age` s after the first was held (a timer), with the next append of other records
    (in the same write), before the log is read, and on `flush` (at shutdown); a process dying first loses them."""

    def __init__(self, write: Callable[[Sequence[AuditRecord]], None], *, limit: int = 1000, max_age: float = 2.0):
        self._write = write
        self._limit = limit
        self._max_age = max_age
        self._lock = threading.Lock()
        self._held: list[AuditRecord] = []
        self._timer: threading.Timer | None = None
        self.drain: Callable[[], list[AuditRecord]] = list  # more records each take carries (warden/echo_trace.py)

    def hold(self, records: Sequence[AuditRecord]) -> None:
        with self._lock:
            self._held.extend(records)
            full = len(self._held) >= self._limit
            if not full and self._timer is None:
                self._timer = threading.Timer(self._max_age, self._on_timer)
                self._timer.daemon = True
                self._timer.start()
        if full:
            try:
                self.flush()
            except AuditWriteError as exc:
                if len(self._held) >= 10 * self._limit:  # the log stays down: fail the callers, never grow unbounded
                    raise
                log.warning("audit: could not write held-back records (kept for the next write): %s", exc)

    def take(self) -> list[AuditRecord]:
        """Everything held, now the caller's to write (or to `put_back`)."""
        with self._lock:
            taken, self._held = [*self._held, *self.drain()], []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        return taken

    def put_back(self, records: Sequence[AuditRecord]) -> None:
        """Records a failed write took: held again, ahead of newer ones, for the next write to carry."""
        if records:
            with self._lock:
                self._held[:0] = records

    def flush(self) -> None:
        """Write what is held now; AuditWriteError (the records held again) when the log cannot be written."""
        taken = self.take()
        if not taken:
            return
        try:
            self._write(taken)
        except AuditWriteError:
            self.put_back(taken)
            raise

    def _on_timer(self) -> None:
        try:
            self.flush()
        except AuditWriteError as exc:  # held again: the next append, read or flush carries them
            log.warning("audit: could not write %s", exc)


class HoldsBack:
    """What both sinks share: held-back records (`hold` and `flush`, HoldingAuditLog, on `self.held`), and the
    observers told of every record written (set by the composition root: warden/azure/wiring.py)."""

    held: HeldBack
    observers: tuple[AuditObserver, ...] = ()

    def observed(self, records: Sequence[AuditRecord]) -> None:
        """Tell each observer of records now durable. An observer's failure is logged, never raised: a
        notification or a metric can neither fail nor undo what the audit log already holds."""
        for observer in self.observers:
            try:
                observer(records)
            except Exception:  # whatever an observer does wrong, the append stands
                log.warning("audit: observer %r failed (the records are written)", observer, exc_info=True)

    def hold(self, records: Sequence[AuditRecord]) -> None:
        """Append later, batched (self-caused echoes only: docs/audit.md "Self-caused echoes")."""
        self.held.hold(records)

    def flush(self) -> None:
        self.held.flush()

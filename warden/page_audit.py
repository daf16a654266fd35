"""The sweep's audit batches: what a page of accounts observed is written as one append (docs/scale.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime

from warden.audit import AuditLog
from warden.model import AuditRecord, Json, RecordKind

#: Records that no change follows (an account judged, a finding not enforced): they may wait for the page's batch.
HELD = frozenset({RecordKind.EVALUATION, RecordKind.DECISION})


class PageAudit:
    """An AuditLog that holds observations until `flush()` and writes any other record (an intent, a result,
    an event) at once, together with what it holds. "No audit, no action" still holds: an intent is durable
    before its change. Safe for the sweep's worker threads."""

    def __init__(self, inner: AuditLog) -> None:
        self._inner = inner
        self._held: list[AuditRecord] = []
        self._lock = threading.Lock()

    def append(self, records: Sequence[AuditRecord]) -> None:
        with self._lock:
            if all(r.kind in HELD for r in records):
                self._held.extend(records)
                return
            batch, self._held = [*self._held, *records], []
        self._write(batch)

    def flush(self) -> None:
        """Write what is held (the end of a page, or of the sweep)."""
        with self._lock:
            batch, self._held = self._held, []
        if batch:
            self._write(batch)

    def _write(self, batch: list[AuditRecord]) -> None:
        try:
            self._inner.append(batch)
        except Exception:
            # Nothing was written: the observations are held again for the next write (the caller's own
            # records go up with the error; an intent that failed to write stops its change).
            with self._lock:
                self._held[:0] = [r for r in batch if r.kind in HELD]
            raise

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        return self._inner.entries(since)

"""Group commit: concurrent writers in one process share one write (one lock, one fsync) instead of queueing
for one each (docs/audit.md "Group commit"). The sweep's workers append intents and results at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class _Ticket(Generic[T]):
    __slots__ = ("error", "items", "settled")

    def __init__(self, items: Sequence[T]) -> None:
        self.items = items
        self.settled = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """`submit` returns once its items are written by `write` (its own call or another thread's, together with
    theirs), or raises what that write raised: all the items of one write land, or none does."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._waiting: list[_Ticket[T]] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()  # one write at a time; whoever holds it writes everyone waiting

    def submit(self, items: Sequence[T]) -> None:
        ticket = _Ticket(items)
        with self._queue_lock:
            self._waiting.append(ticket)
        with self._commit_lock:
            if not ticket.settled:  # no one wrote it while this thread waited: write everything waiting now
                with self._queue_lock:
                    group, self._waiting = self._waiting, []
                try:
                    self._write([item for t in group for item in t.items])
                except BaseException as exc:
                    for t in group:
                        t.error = exc
                finally:
                    for t in group:
                        t.settled = True
        if ticket.error is not None:
            raise ticket.error

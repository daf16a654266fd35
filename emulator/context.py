"""The emulator's shared state bundle: what every route handler and the HTTP layer reach for."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .faults import FaultBook
from .lro import OperationBook
from .model import RecordedRequest
from .store import Options, Store


@dataclass
class Context:
    """Store, faults, operations and options, plus the request log (guarded by its own lock)."""

    store: Store = field(default_factory=Store)
    faults: FaultBook = field(default_factory=FaultBook)
    ops: OperationBook = field(default_factory=OperationBook)
    options: Options = field(default_factory=Options)
    endpoint: str = ""
    _log: list[RecordedRequest] = field(default_factory=list)
    _log_lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, entry: RecordedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)

    def recorded(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_recorded(self) -> None:
        with self._log_lock:
            self._log.clear()

"""Long-running operations as ARM runs them: accepted now, completed by the server clock, polled or not.

An operation is due `operationSeconds` after it is accepted. The plane settles every due operation before
each request and each state dump, so a write nobody polls still lands, exactly as in Azure. While one runs,
its resource shows an in-progress provisioningState and a second write to it is 409 (arm/resources.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.kernel.clock import iso

from . import ids
from .errors import ArmError


@dataclass
class Operation:
    """One operation; `apply` runs once, when it completes; `undo` restores the resource if it fails."""

    op_id: str
    namespace: str
    subscription: str
    location: str
    resource_id: str
    started: datetime
    due: datetime
    apply: Callable[[], Any]
    undo: Callable[[], Any]
    fail: bool = False
    status: str = "InProgress"
    error: ArmError | None = None
    ended: datetime | None = None

    @property
    def status_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{self.namespace}/locations/{self.location}"
            f"/operationStatuses/{self.op_id}"
        )

    @property
    def result_path(self) -> str:
        return self.status_path.replace("/operationStatuses/", "/operationResults/")

    def document(self) -> dict[str, Any]:
        """The operation-status body: `status` is what ARMPolling reads (FACTS.md §2)."""
        doc: dict[str, Any] = {"id": self.status_path, "name": self.op_id, "status": self.status}
        doc["startTime"] = iso(self.started)
        if self.ended is not None:
            doc["endTime"] = iso(self.ended)
        if self.status == "Failed":
            doc["error"] = self.failure().body()["error"]
        return doc

    def failure(self) -> ArmError:
        """Why it failed: the error that refused it, or the injected `lro-failed` fault's."""
        return self.error or ArmError(500, "InternalServerError", "The operation failed (emulator fault).")


def _busy(resource_id: str) -> ArmError:
    return ArmError(
        409,
        "AnotherOperationInProgress",
        f"Another operation is in progress on the resource '{resource_id}'. Retry once it has completed.",
    )


@dataclass
class OperationBook:
    """Every operation since start-up, by id. One lock serialises accepting, applying and settling writes,
    so "is another operation running on this resource?" and "start mine" are one step."""

    _lock: threading.RLock = field(default_factory=threading.RLock)
    _ops: dict[str, Operation] = field(default_factory=dict)
    # The operations still running, by resource key: settling and the busy check look only here, so their
    # cost does not grow with every operation the emulator has ever answered.
    _running_by_resource: dict[str, Operation] = field(default_factory=dict)

    def _running(self, resource_id: str) -> Operation | None:
        return self._running_by_resource.get(ids.key(resource_id))

    def apply_now(self, resource_id: str, apply: Callable[[], Any]) -> Any:
        """A write that completes at once: refused with 409 while an operation runs on the resource."""
        with self._lock:
            if self._running(resource_id) is not None:
                raise _busy(resource_id)
            return apply()

    def start(self, op: Operation, mark: Callable[[], Any]) -> Operation:
        """Accept `op` (409 if the resource is busy): `mark` shows it in progress, at once, atomically."""
        with self._lock:
            if self._running(op.resource_id) is not None:
                raise _busy(op.resource_id)
            mark()
            self._ops[op.op_id] = op
            self._running_by_resource[ids.key(op.resource_id)] = op
            return op

    def record_done(self, op: Operation) -> Operation:
        """Keep a write that already completed, so its status and result URLs answer Succeeded."""
        op.status, op.ended = "Succeeded", op.started
        with self._lock:
            self._ops[op.op_id] = op
        return op

    def settle(self, now: datetime) -> None:
        """Complete every operation that is due, in the order they were accepted."""
        with self._lock:
            due = sorted((o for o in self._running_by_resource.values() if o.due <= now), key=lambda o: o.started)
            for op in due:
                del self._running_by_resource[ids.key(op.resource_id)]
                self._complete(op, now)

    def _complete(self, op: Operation, now: datetime) -> None:
        op.ended = now
        if op.fail:
            op.status = "Failed"
            op.undo()
            return
        try:
            op.apply()
            op.status = "Succeeded"
        except ArmError as refused:  # e.g. the If-Match etag no longer matches when it applies
            op.status, op.error = "Failed", refused
            op.undo()

    def get(self, op_id: str) -> Operation | None:
        with self._lock:
            return self._ops.get(op_id.lower())


def new_operation_id() -> str:
    return str(uuid.uuid4())

"""Long-running operations as ARM runs them: 202 + Azure-AsyncOperation, then status polls.

The change an operation carries is applied by the poll that first reports Succeeded, never earlier, so a
test sees the old state while the operation is InProgress and an `lro-failed` fault leaves it untouched.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import ids
from .model import ArmError


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Operation:
    """One asynchronous operation; `apply` runs once, on the poll that reaches Succeeded."""

    op_id: str
    subscription: str
    location: str
    polls_left: int
    apply: Callable[[], Any]
    fail: bool
    resource_id: str = ""
    status: str = "InProgress"
    error: ArmError | None = None
    start_time: str = field(default_factory=_now)
    end_time: str | None = None

    @property
    def status_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{ids.PROVIDER}/locations/{self.location}"
            f"/operationStatuses/{self.op_id}"
        )

    @property
    def result_path(self) -> str:
        return self.status_path.replace("/operationStatuses/", "/operationResults/")

    def document(self) -> dict[str, Any]:
        """The operation-status body: `status` is what ARMPolling reads (FACTS.md §2)."""
        doc: dict[str, Any] = {
            "id": self.status_path,
            "name": self.op_id,
            "status": self.status,
            "startTime": self.start_time,
        }
        if self.end_time is not None:
            doc["endTime"] = self.end_time
        if self.status == "Failed":
            doc["error"] = (
                self.error.body()["error"]
                if self.error is not None
                else {"code": "InternalServerError", "message": "The operation failed (emulator fault)."}
            )
        return doc


class OperationBook:
    """Every operation started since the emulator came up, by id; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, Operation] = {}

    def start(
        self,
        subscription: str,
        location: str | None,
        polls: int,
        apply: Callable[[], Any],
        *,
        fail: bool,
        resource_id: str = "",
    ) -> Operation:
        op = Operation(
            op_id=str(uuid.uuid4()),
            subscription=subscription,
            location=ids.location_slug(location),
            polls_left=polls,
            apply=apply,
            fail=fail,
            resource_id=resource_id,
        )
        with self._lock:
            self._ops[op.op_id] = op
        return op

    def poll(self, op_id: str) -> Operation | None:
        """Advance an operation by one poll and return it (None if unknown).

        The lock is held while `apply` runs so two concurrent polls cannot apply the change twice. An
        ArmError from `apply` (e.g. the If-Match etag no longer matches) fails the operation with that error.
        """
        with self._lock:
            op = self._ops.get(op_id.lower())
            if op is None or op.status != "InProgress":
                return op
            if op.polls_left > 0:
                op.polls_left -= 1
                return op
            if op.fail:
                op.status = "Failed"
            else:
                try:
                    op.apply()
                    op.status = "Succeeded"
                except ArmError as refused:
                    op.status = "Failed"
                    op.error = refused
            op.end_time = _now()
            return op

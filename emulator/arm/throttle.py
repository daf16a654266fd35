"""ARM's per-request headers: request and correlation ids, and the subscription rate-limit countdown.

ARM counts reads and writes per subscription and reports what is left in
`x-ms-ratelimit-remaining-subscription-reads`/`-writes`; at zero it answers 429 until the window ends.
Here the window is the clock hour, and the budgets are scenario options.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from emulator.kernel.clock import Clock
from emulator.kernel.http import Reply, Request

from .errors import ArmError

READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class RateLimits:
    """Remaining reads and writes per (subscription, hour window)."""

    clock: Clock
    reads: int
    writes: int
    _spent: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spend(self, subscription: str, method: str) -> tuple[str, int]:
        """Count one request; returns (header name, remaining) or raises 429 when the budget is spent."""
        kind = "reads" if method.upper() in READS else "writes"
        budget = self.reads if kind == "reads" else self.writes
        now = self.clock.now()
        window = int(now.timestamp() // 3600)
        slot = (subscription.lower(), kind, window)
        with self._lock:
            spent = self._spent.get(slot, 0)
            if spent >= budget:
                retry = int(3600 - now.timestamp() % 3600) + 1
                raise ArmError(
                    429,
                    "SubscriptionRequestsThrottled",
                    f"Number of '{kind[:-1]}' requests for subscription '{subscription}' exceeded the limit "
                    f"of '{budget}' for time interval '01:00:00'. Please try again after '{retry}' seconds.",
                    headers={"Retry-After": str(retry)},
                )
            self._spent[slot] = spent + 1
        return f"x-ms-ratelimit-remaining-subscription-{kind}", budget - spent - 1


def stamp(req: Request, reply: Reply) -> None:
    """Request id, and the correlation id the client sent (or a new one), on every ARM reply."""
    reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
    correlation = req.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
    reply.headers.setdefault("x-ms-correlation-request-id", correlation)

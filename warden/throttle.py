"""One throttle state for a whole sweep: the tenant's Retry-After is honoured across accounts, and a sweep the
tenant keeps throttling stops early instead of spending its time and the subscription's request budget.

azure-core's retry policy still retries each throttled request (honouring Retry-After); this is the layer
above it: a request that stays throttled after those retries makes the sweep wait before its next account,
and a second one in a row, or a wait that would pass the sweep's time budget, stops it. The next sweep
(the timer) retries what was left unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warden.errors import TransientError

#: Accounts in a row still throttled after azure-core's retries before the sweep stops: one may be a burst,
#: two after waiting the Retry-After between them mean the tenant keeps throttling.
THROTTLED_IN_A_ROW = 2
#: The wait when a 429 names none (ARM's do), in seconds.
DEFAULT_WAIT = 10.0
#: A sweep's time budget: host.json's functionTimeout is 10 minutes, and the account in hand and the sweep's
#: records need time after the last start (tests/integration/test_sweep_throttle.py checks it stays below).
SWEEP_BUDGET = timedelta(minutes=8)


@dataclass
class SweepThrottle:
    """What the sweep has seen of throttling; `clock` and `sleep` are the runtime's (tests inject both)."""

    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    budget: timedelta = SWEEP_BUDGET
    started: datetime = field(init=False)
    wait: float = 0.0  # seconds to wait before the next request (the last Retry-After)
    in_a_row: int = 0  # accounts in a row that ended throttled
    last: str = ""  # the last throttling error, for the stop record

    def __post_init__(self) -> None:
        self.started = self.clock()

    def saw(self, error: BaseException | None) -> None:
        """After an account (or a list): `error` is what it raised, None when it went through."""
        if isinstance(error, TransientError) and error.throttled:
            self.in_a_row += 1
            self.wait = DEFAULT_WAIT if error.retry_after is None else error.retry_after
            self.last = str(error)
        else:
            self.in_a_row = 0

    def before_next(self) -> str:
        """Before the sweep's next request: why it must stop ("" to go on), after waiting what the tenant
        asked for."""
        if self.in_a_row >= THROTTLED_IN_A_ROW:
            return f"the tenant keeps throttling: {self.in_a_row} accounts in a row were throttled ({self.last})"
        left = (self.budget - (self.clock() - self.started)).total_seconds()
        if left <= 0:
            return f"its time budget of {self.budget.total_seconds():.0f}s is spent"
        if self.wait > left:
            return f"the tenant asked to wait {self.wait:.0f}s, past the sweep's time budget ({left:.0f}s left)"
        if self.wait > 0:
            self.sleep(self.wait)
            self.wait = 0.0
        return ""

"""What every evaluation needs, injected at the composition root (warden/azure/wiring.py) or by a test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from warden.audit import AuditLog
from warden.baseline import Baseline
from warden.control import Control
from warden.model import Mode
from warden.ports import Ports
from warden.state import StateStore

if TYPE_CHECKING:  # imported by wiring only when notifications are set up: not on the cold-start path
    from warden.notify import Notifier


@dataclass
class Runtime:
    """The baseline, one client per plane, the audit log, the state store, the controls and the clock."""

    baseline: Baseline
    ports: Ports
    audit: AuditLog
    state: StateStore
    controls: Sequence[Control[Any]]
    clock: Callable[[], datetime]
    mode_override: Mode | None = None
    self_object_ids: frozenset[str] = frozenset()  # warden's own identity: its changes are never remediated
    self_app_ids: frozenset[str] = frozenset()
    sleep: Callable[[float], None] = time.sleep  # waits warden itself decides on (a 404 confirmed, throttling)
    sweep_workers: int = 8  # accounts a sweep judges at once (WARDEN_SWEEP_WORKERS; docs/scale.md)
    notifier: Notifier | None = None  # CloudEvents of remediations (docs/notifications.md): flushed by the host

    def active_controls(self) -> frozenset[str]:
        """The controls this runtime evaluates: implemented, and listed in the baseline."""
        return frozenset(c.id for c in self.controls if c.id in self.baseline.controls)


@dataclass
class RunBudget:
    """Enforced actions spent in one run (an event, a sweep, or every work item of a fanned-out sweep): the
    per-run cap counts across it. The sweep's worker threads share one, so taking a slot is atomic; `shared`,
    when set, also counts the slot where every work item of the run sees it (the state store's `reserve`)."""

    actions_used: int = 0  # slots this process took (what the planner is told: an advisory count)
    shared: Callable[[int], bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, cap: int) -> bool:
        """Count one action unless `cap` were already taken in this run: the check and the count are one step."""
        with self._lock:
            if self.actions_used >= cap:
                return False
            if self.shared is not None and not self.shared(cap):
                return False
            self.actions_used += 1
            return True


#: How long a fanned-out run's shared count is kept: longer than any run lasts.
RUN_WINDOW = timedelta(days=1)


def shared_run_budget(state: StateStore, run_id: str, clock: Callable[[], datetime]) -> RunBudget:
    """The budget of one work item of run `run_id`: its slots count against the cap of the whole run, across
    invocations and instances (docs/scale.md)."""
    return RunBudget(shared=lambda cap: state.reserve(f"run/{run_id}", clock(), RUN_WINDOW, cap))

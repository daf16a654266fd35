"""What every evaluation needs, injected at the composition root (warden/azure/wiring.py) or by a test."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warden.audit import AuditLog
from warden.baseline import Baseline
from warden.control import Control
from warden.model import Mode
from warden.ports import Ports
from warden.state import StateStore


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

    def active_controls(self) -> frozenset[str]:
        """The controls this runtime evaluates: implemented, and listed in the baseline."""
        return frozenset(c.id for c in self.controls if c.id in self.baseline.controls)


@dataclass
class RunBudget:
    """Enforced actions spent in one run (an event, or a whole sweep): the per-run cap counts across it."""

    actions_used: int = 0

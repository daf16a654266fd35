"""The steps of remediations that stopped part-way (PATCH applied, a key regeneration failed), per resource.

They are kept in the state store until applied; the next evaluation of the resource (the event's redelivery,
or the sweep) plans them again as a continuation, so a partial outcome is completed and never forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from warden.model import Action, Finding, Json
from warden.registry import step_from_json
from warden.state import StateStore
from warden.steps import StepStatus, step_key, stored_key, touched

log = logging.getLogger(__name__)

_LEFT = (StepStatus.FAILED, StepStatus.NOT_ATTEMPTED)
_DONE = (StepStatus.APPLIED,)


class PendingSteps:
    """One resource's pending steps, read once per evaluation and written through when they change."""

    def __init__(self, state: StateStore, resource_id: str, clock: Callable[[], datetime]) -> None:
        self._state = state
        self._resource_id = resource_id
        self._clock = clock
        self._entries: list[dict[str, Json]] = list(state.pending(resource_id))

    def findings(self, fresh: Sequence[Finding]) -> list[Finding]:
        """The pending steps as continuation findings, one per control they serve; a step that a fresh finding
        plans anyway is left to it (never applied twice)."""
        planned = {step_key(step) for finding in fresh for step in finding.fix}
        out: list[Finding] = []
        for entry in self._entries:
            try:
                stored, served = entry["step"], entry["controlIds"]
                if not isinstance(stored, Mapping) or not isinstance(served, list):
                    raise TypeError("step must be an object and controlIds a list")
                step = step_from_json(stored)
                controls = [str(c) for c in served]
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("state: dropping an unreadable pending step of %s: %s", self._resource_id, exc)
                continue
            if step_key(step) in planned:
                continue
            summary = f"an earlier remediation stopped part-way: {step.kind} is not applied yet"
            observed = {"pendingSince": entry.get("since"), "step": step.kind}
            out += [Finding(c, self._resource_id, summary, observed, {}, (step,), continues=True) for c in controls]
        return out

    def settle(self, action: Action, statuses: Sequence[StepStatus]) -> None:
        """After an action ran: its applied steps are no longer pending; if any step applied (or may have), the
        ones it left behind become pending. Written to the state store only when something changed."""
        changed_azure = touched(statuses)
        done = {step_key(s) for s, status in zip(action.steps, statuses, strict=True) if status in _DONE}
        kept = [e for e in self._entries if stored_key(e.get("step")) not in done]
        known = {stored_key(e.get("step")) for e in kept}
        for index, (step, status) in enumerate(zip(action.steps, statuses, strict=True)):
            if changed_azure and status in _LEFT and step_key(step) not in known:
                controls = sorted(c for c, steps in action.serves.items() if index in steps)
                kept.append({"controlIds": controls, "step": step.to_json(), "since": self._clock().isoformat()})
        if kept != self._entries:
            self._state.set_pending(self._resource_id, kept)
            self._entries = kept

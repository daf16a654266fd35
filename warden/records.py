"""Audit records, built in one place: evaluations, decisions, intents, results and events.

Every record of an evaluation carries its context (trigger, event, caller) and the app version; a finding's
record carries its observed and expected values, its property changes and the steps of its fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from warden import __version__
from warden.model import (
    Action,
    AuditRecord,
    Caller,
    Decision,
    Json,
    Outcome,
    PlannedFinding,
    RecordKind,
    Trigger,
    normalize_id,
)
from warden.steps import Step, StepStatus, describe

#: The outcome a planner decision ends in when nothing is enforced.
OUTCOME_OF: Mapping[Decision, Outcome] = {
    Decision.OFF: Outcome.SKIPPED,
    Decision.NO_REMEDIATOR: Outcome.NEEDS_HUMAN,
    Decision.EXEMPT: Outcome.EXEMPTED,
    Decision.BLOCKED: Outcome.BLOCKED,
    Decision.DRY_RUN: Outcome.WOULD_REMEDIATE,
}


@dataclass(frozen=True)
class Context:
    """Why an evaluation runs: the event (or sweep) it belongs to, copied into every audit record."""

    trigger: Trigger
    event_id: str = ""
    correlation_id: str = ""
    caller: Caller | None = None
    event_time: datetime | None = None  # when the event says its change happened (not recorded: the id is)
    # The event's operation and resource (a deployment, say): a route's condition is judged on them (not
    # recorded: the record names the account, and the event id leads to the rest).
    operation: str = ""
    subject: str = ""


@dataclass(frozen=True)
class Recorder:
    """Builds the records of one evaluation; `started` is its monotonic start (for durations)."""

    ctx: Context
    clock: Callable[[], datetime]
    started: float

    def record(self, kind: RecordKind, resource_id: str, **fields: object) -> AuditRecord:
        base = AuditRecord(
            time=self.clock(),
            kind=kind,
            event_id=self.ctx.event_id,
            correlation_id=self.ctx.correlation_id,
            caller=self.ctx.caller,
            resource_id=resource_id,
            trigger=self.ctx.trigger,
            app_version=__version__,
            duration_ms=self.elapsed_ms(),
            event_time=self.ctx.event_time,
        )
        return replace(base, **fields)  # type: ignore[arg-type]

    def elapsed_ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000, 1)

    def evaluation(self, resource_id: str, outcome: Outcome, **fields: object) -> AuditRecord:
        """A resource judged compliant for one control, or not judged at all (gone, unreadable, not OpenAI)."""
        return self.record(RecordKind.EVALUATION, resource_id, outcome=outcome, **fields)

    def decision(self, pf: PlannedFinding) -> AuditRecord:
        """A finding that is not enforced now: dry-run (its steps as they would run), exempt, blocked, off."""
        status = StepStatus.WOULD_APPLY if pf.decision is Decision.DRY_RUN else StepStatus.NOT_ATTEMPTED
        return self._finding(RecordKind.DECISION, pf, steps_of(pf, [status] * _step_count(pf)))

    def intent(self, pf: PlannedFinding) -> AuditRecord:
        """A finding about to be enforced, written before any change (no audit, no action)."""
        return self._finding(RecordKind.INTENT, pf, steps_of(pf, [StepStatus.PLANNED] * _step_count(pf)))

    def _finding(self, kind: RecordKind, pf: PlannedFinding, steps: tuple[dict[str, Json], ...]) -> AuditRecord:
        finding = pf.finding
        outcome = None if kind is RecordKind.INTENT else OUTCOME_OF.get(pf.decision, Outcome.SKIPPED)
        return self.record(
            kind,
            finding.resource_id,
            control_id=finding.control_id,
            mode=pf.mode,
            decision=pf.decision,
            outcome=outcome,
            observed=finding.observed,
            expected=finding.expected,
            change=property_changes(finding.fix),
            steps=steps,
            reason=f"{pf.reason}; drift: {finding.summary}" if pf.reason else finding.summary,
        )

    def event(
        self,
        resource_id: str,
        outcome: Outcome,
        reason: str,
        *,
        error: str = "",
        observed: Mapping[str, Json] | None = None,
    ) -> AuditRecord:
        """An event recorded for the trail: rejected, ignored (self-caused), or a sweep-level failure."""
        fields = {"outcome": outcome, "reason": reason, "error": error, "observed": observed or {}}
        return self.record(RecordKind.EVENT, resource_id, duration_ms=None, **fields)


def result(
    intent: AuditRecord,
    when: datetime,
    outcome: Outcome,
    *,
    steps: tuple[dict[str, Json], ...],
    error: str = "",
    observed: Mapping[str, Json] | None = None,
    duration_ms: float | None = None,
) -> AuditRecord:
    """The result of an intent: when the outcome was known (not when it was intended), and each step's status."""
    return replace(
        intent,
        time=when,
        kind=RecordKind.RESULT,
        outcome=outcome,
        error=error,
        steps=steps,
        observed=observed or intent.observed,
        duration_ms=duration_ms,
    )


def property_changes(steps: Sequence[Step]) -> dict[str, Json]:
    """The property-level before/after of the merging steps (the account PATCH); other steps show in `steps`."""
    return {name: value for step in steps if step.merges for name, value in step.change().items()}


def steps_of(
    pf: PlannedFinding, statuses: Sequence[StepStatus], errors: Sequence[str] = ()
) -> tuple[dict[str, Json], ...]:
    """The steps a finding's fix needs, as planned (merged with other findings' when it has an action), each
    with its status; `statuses` and `errors` are indexed like the action's steps, or the finding's own."""
    if pf.action is None:
        return tuple(describe(s, statuses[i]) for i, s in enumerate(pf.finding.fix))
    action: Action = pf.action
    served = action.serves.get(pf.finding.control_id, ())
    # Of the control's steps, those that carry this finding's own (merged or not): one deployment's record
    # lists the policy copy and its own re-pointing, not its neighbours'.
    mine = {(s.kind, normalize_id(s.target)) for s in pf.finding.fix}
    own = [i for i in served if (action.steps[i].kind, normalize_id(action.steps[i].target)) in mine] or served
    return tuple(describe(action.steps[i], statuses[i], errors[i] if errors else "") for i in own)


def _step_count(pf: PlannedFinding) -> int:
    return len(pf.action.steps) if pf.action is not None else len(pf.finding.fix)

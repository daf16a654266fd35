"""The flow for one resource: snapshot, detect, plan, audit intent, apply, verify, audit result.

Events and the sweep both end up in `evaluate`, so modes, exemptions and limits hold on every trigger path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from warden import __version__
from warden.audit import AuditLog, record_to_json
from warden.baseline import Baseline
from warden.controls import Detector
from warden.errors import (
    AuditWriteError,
    AzureError,
    ConflictError,
    OutcomeUnknownError,
    ResourceGoneError,
    TransientError,
    WardenError,
)
from warden.model import (
    AccountSnapshot,
    Action,
    AuditRecord,
    Caller,
    Decision,
    Finding,
    Json,
    Mode,
    Outcome,
    PlannedFinding,
    normalize_id,
)
from warden.planner import effective_mode, plan
from warden.ports import AccountPort, Remediator
from warden.redact import scrub
from warden.state import StateStore

log = logging.getLogger(__name__)

#: Only these account kinds host Azure OpenAI; other Cognitive Services kinds are not ours to judge.
OPENAI_KINDS = frozenset({"openai", "aiservices"})
RESULT_WRITE_ATTEMPTS = 3
#: The state store key under which every enforced action is also counted, for the tenant-wide hourly cap.
TENANT_KEY = "*"
HOUR = timedelta(hours=1)

_OUTCOME_OF = {
    Decision.OFF: Outcome.SKIPPED,
    Decision.NO_REMEDIATOR: Outcome.SKIPPED,
    Decision.EXEMPT: Outcome.EXEMPTED,
    Decision.BLOCKED: Outcome.BLOCKED,
    Decision.DRY_RUN: Outcome.WOULD_REMEDIATE,
}


@dataclass
class Runtime:
    """Everything one evaluation needs, injected at the composition root."""

    baseline: Baseline
    accounts: AccountPort
    audit: AuditLog
    state: StateStore
    detectors: Sequence[Detector]
    remediators: Sequence[Remediator]
    clock: Callable[[], datetime]
    mode_override: Mode | None = None
    self_object_ids: frozenset[str] = frozenset()  # warden's own identity: its changes are never remediated
    self_app_ids: frozenset[str] = frozenset()


@dataclass
class RunBudget:
    """Enforced actions spent in one run (an event, or a whole sweep): the per-run cap counts across it."""

    actions_used: int = 0


@dataclass(frozen=True)
class Context:
    """Why an evaluation runs: the event (or sweep) it belongs to, copied into every audit record."""

    trigger: str
    event_id: str = ""
    correlation_id: str = ""
    caller: Caller | None = None


@dataclass
class EvaluationResult:
    resource_id: str
    findings: list[Finding] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    cooldown_until: datetime | None = None  # set when a cool-down blocked an action


def evaluate(
    resource_id: str,
    controls: Iterable[str],
    rt: Runtime,
    ctx: Context,
    budget: RunBudget,
) -> EvaluationResult:
    """Re-read one account and bring the given controls back to the baseline. Raises TransientError to retry."""
    wanted = frozenset(controls)
    detectors = [d for d in rt.detectors if d.control_id in wanted]
    result = EvaluationResult(resource_id)
    started = time.monotonic()
    try:
        snapshot = rt.accounts.read_account(resource_id)
    except ResourceGoneError as exc:
        _evaluation(rt, ctx, resource_id, Outcome.RESOURCE_GONE, started, reason=str(exc))
        result.outcomes.append(Outcome.RESOURCE_GONE)
        return result
    except AzureError as exc:
        log.warning("reading %s failed: %s", resource_id, scrub(str(exc)))
        _evaluation(rt, ctx, resource_id, Outcome.FAILED, started, error=str(exc))
        if isinstance(exc, TransientError):
            raise
        result.outcomes.append(Outcome.FAILED)
        return result
    if snapshot.kind.lower() not in OPENAI_KINDS:
        # An event pointed at it, so the trail says why nothing was judged (the sweep skips these unread).
        reason = f"kind {snapshot.kind or '(none)'} is not OpenAI or AIServices"
        _evaluation(rt, ctx, resource_id, Outcome.SKIPPED, started, reason=reason)
        result.outcomes.append(Outcome.SKIPPED)
        return result

    findings = _detect(detectors, snapshot, rt.baseline)
    result.findings = findings
    drifted = {f.control_id for f in findings}
    compliant = [
        _record(
            rt,
            ctx,
            "evaluation",
            snapshot.resource_id,
            control_id=d.control_id,
            mode=effective_mode(d.control_id, rt.baseline, rt.mode_override).value,
            outcome=Outcome.COMPLIANT,
            started=started,
        )
        for d in detectors
        if d.control_id not in drifted
    ]
    result.outcomes.extend(Outcome.COMPLIANT for _ in compliant)

    now = rt.clock()
    window = rt.baseline.limits.attempt_window
    history = {normalize_id(snapshot.resource_id): rt.state.history(snapshot.resource_id, now, window)}
    recent = rt.state.history(TENANT_KEY, now, HOUR).attempts_in_window if findings else 0
    the_plan = plan(
        findings,
        baseline=rt.baseline,
        remediators=rt.remediators,
        now=now,
        history=history,
        actions_used=budget.actions_used,
        recent_actions=recent,
        mode_override=rt.mode_override,
    )
    decisions = [
        _decision_record(rt, ctx, pf, started) for pf in the_plan.decisions if pf.decision is not Decision.ENFORCE
    ]
    _audit(rt, ctx, compliant + decisions)
    result.cooldown_until = the_plan.cooldown_until
    result.outcomes.extend(_OUTCOME_OF[pf.decision] for pf in the_plan.decisions if pf.decision is not Decision.ENFORCE)

    for action in the_plan.enforce:
        budget.actions_used += 1
        outcome = _enforce(action, the_plan.decisions, detectors, rt, ctx, etag=snapshot.etag, started=started)
        result.outcomes.append(outcome)
    return result


def _detect(detectors: Sequence[Detector], snapshot: AccountSnapshot, baseline: Baseline) -> list[Finding]:
    return [f for d in detectors for f in d.detect(snapshot, baseline.params(d.control_id))]


def _enforce(
    action: Action,
    decisions: Sequence[PlannedFinding],
    detectors: Sequence[Detector],
    rt: Runtime,
    ctx: Context,
    *,
    etag: str | None,
    started: float,
) -> Outcome:
    """Audit intent, apply, verify by re-reading, audit result. No audit, no action."""
    planned = [pf for pf in decisions if pf.action == action]
    cap = rt.baseline.limits.max_actions_per_hour
    # The planner checked the tenant-wide cap on a count; concurrent evaluations may all have seen room.
    # The reservation is the atomic check-and-count that decides (a slot stays used if the PATCH fails).
    if not rt.state.reserve(TENANT_KEY, rt.clock(), HOUR, cap):
        reason = f"tenant-wide cap of {cap} actions per hour reached (by concurrent actions)"
        _audit(
            rt,
            ctx,
            [
                replace(
                    _decision_record(rt, ctx, pf, started),
                    decision=Decision.BLOCKED.value,
                    outcome=Outcome.BLOCKED.value,
                    reason=reason,
                )
                for pf in planned
            ],
        )
        return Outcome.BLOCKED
    intents = [_decision_record(rt, ctx, pf, started, kind="intent") for pf in planned]
    _audit(rt, ctx, intents)  # raises AuditWriteError: then nothing has been changed
    remediator = next(r for r in rt.remediators if r.kind == action.kind)

    def result(outcome: Outcome, error: str = "", observed: Mapping[str, Json] | None = None) -> Outcome:
        _audit_result(rt, intents, outcome, error=error, observed=observed, started=started)
        return outcome

    try:
        remediator.apply(action, rt.accounts, etag=etag)
    except ResourceGoneError as exc:
        return result(Outcome.RESOURCE_GONE, str(exc))
    except OutcomeUnknownError as exc:
        # ARM accepted the change; it may still land. Counted as an attempt; the redelivery re-reads.
        _count_attempt(rt, action.resource_id)
        result(Outcome.NOT_VERIFIED, str(exc))
        raise
    except ConflictError as exc:
        if exc.status == 412 and _now_compliant(action, detectors, rt):
            # Changed since our read, and compliant now: either this PATCH landed and the SDK's retry of it
            # hit the new etag, or someone else fixed it. Counted (it may be ours), never called remediated.
            _count_attempt(rt, action.resource_id)
            why = "the account changed since it was read and is compliant now, by this PATCH or by someone else"
            return result(Outcome.NOT_VERIFIED, f"{exc}; {why}")
        result(Outcome.FAILED, str(exc))
        raise  # busy, or changed and still drifted: the redelivery re-reads and re-plans on the current state
    except TransientError as exc:
        # Throttled or unavailable before Azure accepted the change: nothing was applied; Event Grid redelivers.
        result(Outcome.FAILED, str(exc))
        raise
    except AzureError as exc:
        log.warning("remediation of %s failed: %s", action.resource_id, scrub(str(exc)))
        return result(Outcome.FAILED, str(exc))

    # Applied. Only an applied change starts a cool-down and counts toward the attempt cap: a throttled or
    # refused PATCH changed nothing and must not hand the resource to a human.
    _count_attempt(rt, action.resource_id)
    # From here a failure means "applied, not verified", never "failed".
    try:
        after = rt.accounts.read_account(action.resource_id)
    except AzureError as exc:
        log.warning("verifying %s after the change failed: %s", action.resource_id, scrub(str(exc)))
        result(Outcome.NOT_VERIFIED, f"applied; the verifying read failed: {exc}")
        if isinstance(exc, TransientError):
            raise  # the redelivery re-reads and records what it finds
        return Outcome.NOT_VERIFIED
    left = [f for f in _detect(detectors, after, rt.baseline) if f.control_id in action.control_ids]
    if left:
        observed = {k: v for f in left for k, v in f.observed.items()}
        return result(Outcome.NOT_VERIFIED, "; ".join(f.summary for f in left), observed)
    return result(Outcome.REMEDIATED)


def _now_compliant(action: Action, detectors: Sequence[Detector], rt: Runtime) -> bool:
    try:
        current = rt.accounts.read_account(action.resource_id)
    except AzureError:
        return False
    return not [f for f in _detect(detectors, current, rt.baseline) if f.control_id in action.control_ids]


def _already_written(rt: Runtime, records: Sequence[AuditRecord]) -> bool:
    wanted = {_identity(record_to_json(r)) for r in records}
    try:
        return wanted <= {_identity(e) for e in rt.audit.entries(since=records[0].time)}
    except (WardenError, OSError):
        return False


def _identity(entry: Mapping[str, Json]) -> tuple[Json, ...]:
    return tuple(entry.get(k) for k in ("kind", "eventId", "resourceId", "controlId", "time", "outcome"))


def _count_attempt(rt: Runtime, resource_id: str) -> None:
    try:
        rt.state.record_attempt(resource_id, rt.clock())
    except WardenError as exc:
        # The change is made; its result must still be audited. A lost count only loosens the cap once.
        log.warning("could not count the attempt on %s: %s", resource_id, exc)


def _audit_result(
    rt: Runtime,
    intents: Sequence[AuditRecord],
    outcome: Outcome,
    *,
    error: str,
    observed: Mapping[str, Json] | None,
    started: float,
) -> None:
    """The result of an applied intent; retried briefly, because after a change a lost result leaves the
    trail with an intent and no outcome (the AuditWriteError still propagates if the log stays down)."""
    records = [
        replace(
            r,
            time=rt.clock(),  # when the outcome was known, not when it was intended
            kind="result",
            outcome=outcome.value,
            error=error,
            observed=observed or r.observed,
            duration_ms=_ms(started),
        )
        for r in intents
    ]
    for attempt in range(1, RESULT_WRITE_ATTEMPTS + 1):
        try:
            rt.audit.append(records)
            return
        except AuditWriteError as exc:
            if attempt == RESULT_WRITE_ATTEMPTS:
                raise
            log.warning("audit result write failed (attempt %d): %s", attempt, exc)
            time.sleep(0.2 * attempt)
            if _already_written(rt, records):  # the failed write may have landed: never record it twice
                return


def _decision_record(
    rt: Runtime, ctx: Context, pf: PlannedFinding, started: float, kind: str = "decision"
) -> AuditRecord:
    finding = pf.finding
    change = pf.action.change if pf.action is not None else {}
    outcome = "" if kind == "intent" else _OUTCOME_OF.get(pf.decision, Outcome.SKIPPED).value
    return _record(
        rt,
        ctx,
        kind,
        finding.resource_id,
        control_id=finding.control_id,
        mode=pf.mode.value,
        decision=pf.decision.value,
        outcome=outcome,
        observed=finding.observed,
        expected=finding.expected,
        change=change,
        reason=f"{pf.reason}; drift: {finding.summary}" if pf.reason else finding.summary,
        started=started,
    )


def _record(
    rt: Runtime,
    ctx: Context,
    kind: str,
    resource_id: str,
    *,
    started: float,
    outcome: Outcome | str = "",
    **fields: Any,
) -> AuditRecord:
    base = AuditRecord(
        time=rt.clock(),
        kind=kind,
        event_id=ctx.event_id,
        correlation_id=ctx.correlation_id,
        caller=ctx.caller,
        resource_id=resource_id,
        trigger=ctx.trigger,
        app_version=__version__,
        outcome=outcome.value if isinstance(outcome, Outcome) else outcome,
        duration_ms=_ms(started),
    )
    return replace(base, **fields)


def _evaluation(rt: Runtime, ctx: Context, resource_id: str, outcome: Outcome, started: float, **fields: Any) -> None:
    """One evaluation record for an account that could not be judged (gone, unreadable, not OpenAI)."""
    _audit(rt, ctx, [_record(rt, ctx, "evaluation", resource_id, outcome=outcome, started=started, **fields)])


def _audit(rt: Runtime, ctx: Context, records: Sequence[AuditRecord]) -> None:
    if records:
        rt.audit.append(records)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)

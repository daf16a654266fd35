"""The flow for one resource: snapshot, detect, plan, audit intent, apply, verify, audit result.

Events and the sweep both end up in `evaluate`, so modes, exemptions and limits hold on every trigger path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from warden import __version__
from warden.audit import AuditLog
from warden.baseline import Baseline
from warden.controls import Detector
from warden.errors import AzureError, ResourceGoneError, TransientError
from warden.model import (
    AccountSnapshot,
    Action,
    AuditRecord,
    Caller,
    Decision,
    Finding,
    Mode,
    Outcome,
    PlannedFinding,
    normalize_id,
)
from warden.planner import plan
from warden.ports import AccountPort, Remediator
from warden.state import StateStore

log = logging.getLogger(__name__)

#: Only these account kinds host Azure OpenAI; other Cognitive Services kinds are not ours to judge.
OPENAI_KINDS = frozenset({"openai", "aiservices"})

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
        _audit(
            rt,
            ctx,
            [
                _record(
                    rt, ctx, "evaluation", resource_id, outcome=Outcome.RESOURCE_GONE, reason=str(exc), started=started
                )
            ],
        )
        result.outcomes.append(Outcome.RESOURCE_GONE)
        return result
    except AzureError as exc:
        _audit(
            rt,
            ctx,
            [_record(rt, ctx, "evaluation", resource_id, outcome=Outcome.FAILED, error=str(exc), started=started)],
        )
        if isinstance(exc, TransientError):
            raise
        result.outcomes.append(Outcome.FAILED)
        return result
    if snapshot.kind.lower() not in OPENAI_KINDS:
        log.info("skipping %s: kind %s is not OpenAI or AIServices", resource_id, snapshot.kind)
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
            mode=_mode(rt, d.control_id).value,
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
    the_plan = plan(
        findings,
        baseline=rt.baseline,
        remediators=rt.remediators,
        now=now,
        history=history,
        actions_used=budget.actions_used,
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
        outcome = _enforce(action, the_plan.decisions, detectors, rt, ctx, started=started)
        result.outcomes.append(outcome)
    return result


def _detect(detectors: Sequence[Detector], snapshot: AccountSnapshot, baseline: Baseline) -> list[Finding]:
    return [f for d in detectors for f in d.detect(snapshot, baseline.params(d.control_id))]


def _mode(rt: Runtime, control_id: str) -> Mode:
    mode = rt.baseline.control_mode(control_id)
    if rt.mode_override is not None and rt.mode_override.rank < mode.rank:
        return rt.mode_override
    return mode


def _enforce(
    action: Action,
    decisions: Sequence[PlannedFinding],
    detectors: Sequence[Detector],
    rt: Runtime,
    ctx: Context,
    *,
    started: float,
) -> Outcome:
    """Audit intent, apply, verify by re-reading, audit result. No audit, no action."""
    planned = [pf for pf in decisions if pf.action == action]
    intents = [_decision_record(rt, ctx, pf, started, kind="intent") for pf in planned]
    _audit(rt, ctx, intents)  # raises AuditWriteError: then nothing has been changed
    rt.state.record_attempt(action.resource_id, rt.clock())
    remediator = next(r for r in rt.remediators if r.kind == action.kind)

    outcome, error, observed = Outcome.FAILED, "", {}
    try:
        remediator.apply(action, rt.accounts)
        after = rt.accounts.read_account(action.resource_id)
        left = [f for f in _detect(detectors, after, rt.baseline) if f.control_id in action.control_ids]
        outcome = Outcome.NOT_VERIFIED if left else Outcome.REMEDIATED
        observed = {k: v for f in left for k, v in f.observed.items()}
        if left:
            error = "; ".join(f.summary for f in left)
    except ResourceGoneError as exc:
        outcome, error = Outcome.RESOURCE_GONE, str(exc)
    except TransientError as exc:
        _audit(
            rt,
            ctx,
            [
                replace(r, kind="result", outcome=Outcome.FAILED.value, error=str(exc), duration_ms=_ms(started))
                for r in intents
            ],
        )
        raise  # Event Grid redelivers; the retry re-reads and finds the drift again
    except AzureError as exc:
        outcome, error = Outcome.FAILED, str(exc)
        log.warning("remediation of %s failed: %s", action.resource_id, exc)
    _audit(
        rt,
        ctx,
        [
            replace(
                r,
                kind="result",
                outcome=outcome.value,
                error=error,
                observed=observed or r.observed,
                duration_ms=_ms(started),
            )
            for r in intents
        ],
    )
    return outcome


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
    **fields: object,
) -> AuditRecord:
    return AuditRecord(
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
        **fields,  # type: ignore[arg-type]
    )


def _audit(rt: Runtime, ctx: Context, records: Sequence[AuditRecord]) -> None:
    if records:
        rt.audit.append(records)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)

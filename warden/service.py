"""Entry points every trigger shares: one event, a rejected event, the sweep of the whole scope.

Idempotency and per-resource serialization live here, around the pipeline's `evaluate`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from warden.errors import AuditWriteError, AzureError, RetryLaterError, WardenError
from warden.intake import triage
from warden.model import Json, Outcome, ResourceEvent, Trigger, account_id_of
from warden.pipeline import OPENAI_KINDS, evaluate
from warden.records import Context, Recorder
from warden.runtime import RunBudget, Runtime

log = logging.getLogger(__name__)


@dataclass
class EventResult:
    """What became of one event: accepted or why not, and the outcomes of its evaluation."""

    event_id: str
    accepted: bool
    reason: str = ""
    outcomes: list[Outcome] = field(default_factory=list)


def handle_event(event: ResourceEvent, rt: Runtime, budget: RunBudget | None = None) -> EventResult:
    """Triage an event (no Azure call for drops), then evaluate its resource once, under its lock."""
    verdict = triage(
        event,
        subscriptions=rt.baseline.subscriptions,
        self_object_ids=rt.self_object_ids,
        self_app_ids=rt.self_app_ids,
        implemented_controls=rt.active_controls(),
    )
    ctx = Context(Trigger.EVENT, event.event_id, event.correlation_id, event.caller)
    if verdict.self_caused:
        # Our own PATCH comes back as an event: recorded once for the trail, never remediated (loop guard).
        if not rt.state.is_done(event.event_id):
            rt.audit.append([_recorder(rt, ctx).event(event.resource_id, Outcome.IGNORED, verdict.reason)])
            rt.state.mark_done(event.event_id, rt.clock())
        return EventResult(event.event_id, False, verdict.reason)
    if not verdict.accepted:
        log.info("dropped event %s: %s", event.event_id, verdict.reason)
        return EventResult(event.event_id, False, verdict.reason)
    # Child and extension resources (deployments, RAI policies, role assignments) are judged on their account.
    target = account_id_of(event.resource_id)
    if target is None:
        log.info("dropped event %s: %s is not under a Cognitive Services account", event.event_id, event.resource_id)
        return EventResult(event.event_id, False, "not under a Cognitive Services account")
    if rt.state.is_done(event.event_id):
        log.info("event %s was already handled; redelivery ignored", event.event_id)
        return EventResult(event.event_id, True, "duplicate delivery")
    with rt.state.lock(target):
        if rt.state.is_done(event.event_id):  # a concurrent delivery finished while we waited
            return EventResult(event.event_id, True, "duplicate delivery")
        result = evaluate(target, verdict.controls, rt, ctx, budget or RunBudget())
        if result.cooldown_until is not None:
            # Not done: leaving the drift until the next sweep would reward flipping a setting back quickly.
            # Event Grid redelivers with back-off; the attempt cap still hands endless flipping to a human.
            raise RetryLaterError(f"{target}: cool-down until {result.cooldown_until.isoformat()}")
        rt.state.mark_done(event.event_id, rt.clock())
    return EventResult(event.event_id, True, outcomes=result.outcomes)


def record_rejected(rt: Runtime, event_id: str, message: str, raw: Json) -> None:
    """A malformed event is never dropped silently: its error and (claim-reduced) payload are audited."""
    log.warning("rejected event %s: %s", event_id or "(no id)", message)
    rec = _recorder(rt, Context(Trigger.EVENT, event_id))
    rt.audit.append([rec.event("", Outcome.REJECTED, "", error=message, observed={"raw": raw})])


@dataclass
class SweepReport:
    accounts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def sweep(rt: Runtime, trigger: Trigger = Trigger.SWEEP) -> SweepReport:
    """Re-check every account in scope: events can be lost, and some drift emits no event at all."""
    report = SweepReport()
    budget = RunBudget()  # one per-run cap across the whole sweep
    controls = rt.active_controls()
    ctx = Context(trigger)
    rec = _recorder(rt, ctx)
    for subscription in sorted(rt.baseline.subscriptions):
        try:
            account_ids = rt.ports.accounts.list_accounts(subscription)
        except AzureError as exc:
            report.errors.append(f"subscription {subscription}: {exc}")
            log.warning("sweep could not list subscription %s: %s", subscription, exc)
            scope = f"/subscriptions/{subscription}"
            rt.audit.append([rec.event(scope, Outcome.FAILED, "sweep could not list accounts", error=str(exc))])
            continue
        for resource_id, kind in account_ids:
            if kind.lower() not in OPENAI_KINDS:
                continue  # the list already says it is not an Azure OpenAI account: no read needed
            report.accounts += 1
            try:
                with rt.state.lock(resource_id):
                    result = evaluate(resource_id, controls, rt, ctx, budget)
            except AuditWriteError:
                raise  # no audit, no action: stop rather than go on changing things unrecorded
            except Exception as exc:
                # One account's failure, even an unforeseen one, must not leave the rest unchecked; the next
                # sweep retries it. Evaluate audited the classified ones; this records the rest too.
                report.errors.append(f"{resource_id}: {exc}")
                log.warning("sweep failed on %s: %s", resource_id, exc)
                if not isinstance(exc, WardenError):
                    error = f"{type(exc).__name__}: {exc}"
                    rt.audit.append([rec.event(resource_id, Outcome.FAILED, "sweep evaluation failed", error=error)])
                continue
            for outcome in result.outcomes:
                report.outcomes[outcome.value] = report.outcomes.get(outcome.value, 0) + 1
    return report


def _recorder(rt: Runtime, ctx: Context) -> Recorder:
    """Event-level records carry no evaluation duration."""
    return Recorder(ctx, rt.clock, time.monotonic())

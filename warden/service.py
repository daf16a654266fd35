"""Entry points every trigger shares: one event, a rejected event, the sweep of the whole scope.

Idempotency and per-resource serialization live here, around the pipeline's `evaluate`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from warden import cmk_index
from warden.errors import AuditWriteError, AzureError, RetryLaterError, TransientError, WardenError
from warden.ids import account_parts, assignment_scope, group_assignment_parts, is_assignment_id, vault_parts
from warden.intake import Triage, triage
from warden.model import Json, Outcome, ResourceEvent, Trigger, account_id_of
from warden.pipeline import OPENAI_KINDS, evaluate
from warden.records import Context, Recorder
from warden.redact import bounded_text, for_log
from warden.runtime import RunBudget, Runtime
from warden.state import event_digest
from warden.throttle import SweepThrottle

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
    ctx = Context(
        Trigger.EVENT,
        event.event_id,
        event.correlation_id,
        event.caller,
        event.event_time,
        operation=event.operation_name,
        subject=event.resource_id,
    )
    # Done markers are keyed on the id and what the event says: another event reusing a real event's id (a
    # forged echo, say) neither passes for it nor makes it look handled (docs/state.md "Done markers").
    said = event_digest(event)
    if verdict.self_caused:
        # Our own PATCH comes back as an event: recorded once for the trail, never remediated (loop guard).
        if rt.state.is_done(event.event_id, said):
            return _duplicate(rt, ctx, event, accepted=False)
        rt.audit.append([_recorder(rt, ctx).event(event.resource_id, Outcome.IGNORED, verdict.reason)])
        rt.state.mark_done(event.event_id, rt.clock(), said)
        return EventResult(event.event_id, False, verdict.reason)
    if not verdict.accepted:
        log.info("dropped event %s: %s", for_log(event.event_id), for_log(verdict.reason))
        return EventResult(event.event_id, False, verdict.reason)
    # Child and extension resources (deployments, RAI policies, role assignments) are judged on their account.
    target = account_id_of(event.resource_id)
    if target is None and (find := _fan_finder(event, rt)) is not None:
        return _fan_out(event, verdict, rt, ctx, find, said=said, budget=budget or RunBudget())
    if target is None:
        why = _not_an_account(event)
        log.info("dropped event %s: %s", for_log(event.event_id), for_log(why))
        return EventResult(event.event_id, False, why)
    if rt.state.is_done(event.event_id, said):
        return _duplicate(rt, ctx, event)
    with rt.state.lock(target):
        if rt.state.is_done(event.event_id, said):  # a concurrent delivery finished while we waited
            return _duplicate(rt, ctx, event)
        result = evaluate(target, verdict.controls, rt, ctx, budget or RunBudget())
        if result.cooldown_until is not None:
            # Not done: leaving the drift until the next sweep would reward flipping a setting back quickly.
            # Event Grid redelivers with back-off; the attempt cap still hands endless flipping to a human.
            raise RetryLaterError(f"{target}: cool-down until {result.cooldown_until.isoformat()}")
        rt.state.mark_done(event.event_id, rt.clock(), said)
    return EventResult(event.event_id, True, outcomes=result.outcomes)


def _is_vault(resource_id: str) -> bool:
    try:
        vault_parts(resource_id)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Reach:
    """The accounts an event about something else reaches, and why it reaches none when that is so."""

    accounts: list[str]
    none_reason: str
    vault: str | None = None  # a vault's event: its index of CMK users is kept up to date as they are judged


def _fan_finder(event: ResourceEvent, rt: Runtime) -> Callable[[], Reach] | None:
    """How to find the accounts an event reaches, when it is about a vault (the accounts whose CMK it holds,
    from warden's index) or a role assignment at a resource group (the group's accounts, listed); None else."""
    if _is_vault(event.resource_id):
        return lambda: _vault_reach(event, rt)
    group = group_assignment_parts(event.resource_id)
    if group is None:
        return None

    def listed() -> Reach:
        found = rt.ports.accounts.list_accounts_in_group(*group)
        accounts = [rid for rid, kind in found if kind.lower() in OPENAI_KINDS]
        return Reach(accounts, f"resource group {group[1]} holds no Azure OpenAI account")

    return listed


def _vault_reach(event: ResourceEvent, rt: Runtime) -> Reach:
    vault, accounts = cmk_index.accounts_for(rt.state, event)
    key = event.details.get("ObjectName")
    reason = f"no account known to use vault {vault}" + (f" key {key}" if key else "")
    return Reach(accounts, reason + " (warden's index of CMK users); the sweep checks every account", vault)


def _not_an_account(event: ResourceEvent) -> str:
    if is_assignment_id(event.resource_id) and assignment_scope(event.resource_id).strip("/").count("/") == 1:
        # At a subscription (events come only for ids under one), an assignment reaches every account in it:
        # warden changes nothing there, and the sweep reports it on every account as needs-human, with its scope.
        return "a role assignment above a resource group: reported by the sweep, never changed"
    return "not under a Cognitive Services account or its resource group"


def _fan_out(
    event: ResourceEvent,
    verdict: Triage,
    rt: Runtime,
    ctx: Context,
    find: Callable[[], Reach],
    *,
    said: str,
    budget: RunBudget,
) -> EventResult:
    """An event about a vault or a resource group re-checks every account in scope that it reaches, each under
    its own lock; the accounts are found only for an event not handled yet."""
    if rt.state.is_done(event.event_id, said):
        return _duplicate(rt, ctx, event)
    try:
        reach = find()
    except AzureError as exc:
        transient = isinstance(exc, TransientError)
        reason = "could not list the accounts the event reaches" + ("; Event Grid redelivers it" if transient else "")
        rt.audit.append([_recorder(rt, ctx).event(event.resource_id, Outcome.FAILED, reason, error=str(exc))])
        if transient:
            raise
        return EventResult(event.event_id, True, reason)
    accounts = [a for a in reach.accounts if rt.baseline.in_scope(account_parts(a)[0])]
    result = EventResult(event.event_id, True)
    if not accounts:
        rt.audit.append([_recorder(rt, ctx).event(event.resource_id, Outcome.IGNORED, reach.none_reason)])
    cooldown = None
    for account_id in accounts:
        with rt.state.lock(account_id):
            evaluated = evaluate(account_id, verdict.controls, rt, ctx, budget)
        if reach.vault is not None:
            cmk_index.still_uses(rt.state, reach.vault, evaluated.account, account_id)
        result.outcomes += evaluated.outcomes
        cooldown = cooldown or evaluated.cooldown_until
    if cooldown is not None:
        raise RetryLaterError(f"{event.resource_id}: an account is in cool-down until {cooldown.isoformat()}")
    rt.state.mark_done(event.event_id, rt.clock(), said)
    return result


def _duplicate(rt: Runtime, ctx: Context, event: ResourceEvent, *, accepted: bool = True) -> EventResult:
    """A redelivery of an event already handled (same id, same content): dropped, and the drop audited."""
    reason = f"duplicate delivery: event {event.event_id} with this content was already handled"
    log.info("%s", for_log(reason))
    rt.audit.append([_recorder(rt, ctx).event(event.resource_id, Outcome.IGNORED, reason)])
    return EventResult(event.event_id, accepted, "duplicate delivery")


#: Longest rejection message stored; the message quotes the event, which a hostile sender controls.
MAX_REJECTION_CHARS = 4096


def record_rejected(rt: Runtime, event_id: str, message: str, raw: Json) -> None:
    """A malformed event is never dropped silently: its error and (claim-reduced, size-bounded: see
    warden.azure.event_raw.reduce_raw) payload are audited. The log line is scrubbed as the record is."""
    event_id, message = bounded_text(event_id, 256), bounded_text(message, MAX_REJECTION_CHARS)
    log.warning("rejected event %s: %s", for_log(event_id or "(no id)"), for_log(message))
    rec = _recorder(rt, Context(Trigger.EVENT, event_id))
    rt.audit.append([rec.event("", Outcome.REJECTED, "", error=message, observed={"raw": raw})])


def check_account(rt: Runtime, account_id: str, controls: frozenset[str] | None = None) -> EventResult:
    """Evaluate one account now, on an admin's request (the data plane emits no event to do it): every active
    control, or the named ones. ValueError for an id that is not an account in scope or an unknown control."""
    try:
        subscription = account_parts(account_id)[0]
    except ValueError as exc:
        raise ValueError(f"account: {exc}") from None
    if not rt.baseline.in_scope(subscription):
        raise ValueError(f"account: subscription {subscription} is not in the baseline's scope")
    active = rt.active_controls()
    unknown = sorted((controls or frozenset()) - active)
    if unknown:
        raise ValueError(
            f"control: {', '.join(unknown)} is not an active control (active: {', '.join(sorted(active))})"
        )
    with rt.state.lock(account_id):
        result = evaluate(account_id, controls or active, rt, Context(Trigger.ADMIN), RunBudget())
    return EventResult("", True, outcomes=result.outcomes)


@dataclass
class SweepReport:
    accounts: int = 0  # accounts checked
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stopped: str = ""  # why the sweep stopped before the end ("" when it finished); also in `errors`
    unchecked: int = 0  # accounts listed but left unchecked by the stop


def sweep(rt: Runtime, trigger: Trigger = Trigger.SWEEP, *, data_plane: bool | None = None) -> SweepReport:
    """Re-check every account in scope: events can be lost, and some drift emits no event at all. Stops early,
    with one record, when the tenant keeps throttling or the time budget runs out (warden/throttle.py).

    `data_plane` picks the controls: False those that read ARM only (the hourly sweep), True those that read a
    data plane (a call per account: a sweep on its own schedule), None every active control."""
    report = SweepReport()
    budget = RunBudget()  # one per-run cap across the whole sweep
    throttle = SweepThrottle(rt.clock, rt.sleep)
    active = rt.active_controls()
    controls = frozenset(c.id for c in rt.controls if c.id in active and data_plane in (None, c.data_plane))
    if not controls:
        return report
    ctx = Context(trigger)
    rec = _recorder(rt, ctx)
    subscriptions = sorted(rt.baseline.subscriptions)
    for position, subscription in enumerate(subscriptions):
        scope = f"/subscriptions/{subscription}"
        if why := throttle.before_next():
            _stop(rt, rec, report, scope=scope, why=why, left=[], unlisted=len(subscriptions) - position)
            return report
        try:
            account_ids = rt.ports.accounts.list_accounts(subscription)
        except AzureError as exc:
            throttle.saw(exc)
            report.errors.append(f"subscription {subscription}: {exc}")
            log.warning("sweep could not list subscription %s: %s", subscription, exc)
            rt.audit.append([rec.event(scope, Outcome.FAILED, "sweep could not list accounts", error=str(exc))])
            continue
        throttle.saw(None)
        # The list already says which accounts are not Azure OpenAI: those need no read.
        todo = [rid for rid, kind in account_ids if kind.lower() in OPENAI_KINDS]
        for index, resource_id in enumerate(todo):
            if why := throttle.before_next():
                unlisted = len(subscriptions) - position - 1
                _stop(rt, rec, report, scope=scope, why=why, left=todo[index:], unlisted=unlisted)
                return report
            report.accounts += 1
            try:
                with rt.state.lock(resource_id):
                    result = evaluate(resource_id, controls, rt, ctx, budget)
            except AuditWriteError:
                raise  # no audit, no action: stop rather than go on changing things unrecorded
            except Exception as exc:
                # One account's failure, even an unforeseen one, must not leave the rest unchecked; the next
                # sweep retries it. Evaluate audited the classified ones; this records the rest too.
                throttle.saw(exc)
                report.errors.append(f"{resource_id}: {exc}")
                log.warning("sweep failed on %s: %s", resource_id, exc)
                if not isinstance(exc, WardenError):
                    error = f"{type(exc).__name__}: {exc}"
                    rt.audit.append([rec.event(resource_id, Outcome.FAILED, "sweep evaluation failed", error=error)])
                continue
            throttle.saw(None)
            for outcome in result.outcomes:
                report.outcomes[outcome.value] = report.outcomes.get(outcome.value, 0) + 1
    return report


def _stop(
    rt: Runtime, rec: Recorder, report: SweepReport, *, scope: str, why: str, left: list[str], unlisted: int
) -> None:
    """The one record of a sweep that stops early: why, and what it left unchecked (the next sweep's work)."""
    reason = f"sweep stopped early: {why}; {len(left)} account(s) left unchecked"
    if unlisted:
        reason += f" and {unlisted} subscription(s) not listed"
    observed: dict[str, Json] = {"uncheckedAccounts": len(left), "unlistedSubscriptions": unlisted}
    log.warning("%s", reason)
    rt.audit.append([rec.event(scope, Outcome.FAILED, reason, observed=observed)])
    report.stopped, report.unchecked = reason, len(left)
    report.errors.append(reason)


def _recorder(rt: Runtime, ctx: Context) -> Recorder:
    """Event-level records carry no evaluation duration."""
    return Recorder(ctx, rt.clock, time.monotonic())

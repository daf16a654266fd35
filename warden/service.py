"""Entry points every trigger shares: one event, a rejected event, the sweep of the whole scope.

Idempotency and per-resource serialization live here, around the pipeline's `evaluate`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from warden import cmk_index
from warden.audit_held import HoldsBack
from warden.errors import AzureError, RetryLaterError, TransientError
from warden.ids import account_parts, assignment_scope, group_assignment_parts, is_assignment_id, vault_parts
from warden.intake import Triage, triage
from warden.model import AuditRecord, Json, Outcome, ResourceEvent, Trigger, account_id_of
from warden.pipeline import OPENAI_KINDS, evaluate
from warden.records import Context, Recorder
from warden.redact import bounded_text, for_log
from warden.runtime import RunBudget, Runtime
from warden.state import LockContendedError, event_digest

log = logging.getLogger(__name__)


@dataclass
class EventResult:
    """What became of one event: accepted or why not, and the outcomes of its evaluation."""

    event_id: str
    accepted: bool
    reason: str = ""
    outcomes: list[Outcome] = field(default_factory=list)


def triage_for(event: ResourceEvent, rt: Runtime) -> Triage:
    """The event's triage against this runtime's baseline scope, own identity and active controls."""
    return triage(
        event,
        subscriptions=rt.baseline.subscriptions,
        self_object_ids=rt.self_object_ids,
        self_app_ids=rt.self_app_ids,
        implemented_controls=rt.active_controls(),
    )


def handle_event(
    event: ResourceEvent, rt: Runtime, budget: RunBudget | None = None, *, verdict: Triage | None = None
) -> EventResult:
    """Triage an event (no Azure call for drops), then evaluate its resource once, under its lock. `verdict`:
    the event's triage when the caller already made it (`triage_for`)."""
    verdict = verdict or triage_for(event, rt)
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
        # Our own PATCH comes back as an event: traced, never remediated (loop guard). No state round trip and a
        # held-back, batched trace record: a duplicate is known from memory in this process only; delivered to
        # another instance it is traced once more, which is harmless (docs/audit.md "Self-caused echoes").
        rec = _recorder(rt, ctx)
        if rt.state.echo_seen(event.event_id, said):
            _trace(rt, [rec.event(event.resource_id, Outcome.IGNORED, _duplicate_reason(event))])
            return EventResult(event.event_id, False, "duplicate delivery")
        _trace(rt, [rec.event(event.resource_id, Outcome.IGNORED, verdict.reason)])
        return EventResult(event.event_id, False, verdict.reason)
    if not verdict.accepted:
        log.debug("dropped event %s: %s", for_log(event.event_id), for_log(verdict.reason))
        return EventResult(event.event_id, False, verdict.reason)
    # Child and extension resources (deployments, RAI policies, role assignments) are judged on their account.
    target = account_id_of(event.resource_id)
    if target is None and (find := _fan_finder(event, rt)) is not None:
        return _fan_out(event, verdict, rt, ctx, find, said=said, budget=budget or RunBudget())
    if target is None:
        why = _not_an_account(event)
        log.debug("dropped event %s: %s", for_log(event.event_id), for_log(why))
        return EventResult(event.event_id, False, why)
    budget = budget or RunBudget()
    try:
        # Optimistic: the account's state is read, and its lock taken only before a first action (`claim`, in
        # `evaluate`), so an event that changes nothing costs no lock (docs/state.md "How an event uses it").
        return _judge(
            event, rt, ctx, verdict=verdict, target=target, said=said, budget=budget, opened=rt.state.optimistic
        )
    except LockContendedError:
        # Another instance took the lock first (the same event redelivered, or another about the account): wait
        # for it and judge again from a fresh read; nothing was recorded or changed before the claim.
        log.info("%s: locked by another instance; judging event %s again", for_log(target), for_log(event.event_id))
        return _judge(event, rt, ctx, verdict=verdict, target=target, said=said, budget=budget, opened=rt.state.lock)


def _judge(
    event: ResourceEvent,
    rt: Runtime,
    ctx: Context,
    *,
    verdict: Triage,
    target: str,
    said: str,
    budget: RunBudget,
    opened: Callable[[str], AbstractContextManager[None]],
) -> EventResult:
    """One evaluation of the event's account inside `opened` (the store's `optimistic` or `lock`)."""
    with opened(target):
        # The marker is read with the account's state, once: a delivery of this event that finished before (or
        # while we waited for the lock) is seen here.
        if rt.state.is_done(event.event_id, said, target):
            return _duplicate(rt, ctx, event)
        result = evaluate(target, verdict.controls, rt, ctx, budget)
        if result.cooldown_until is not None:
            # Not done: leaving the drift until the next sweep would reward flipping a setting back quickly.
            # Event Grid redelivers with back-off; the attempt cap still hands endless flipping to a human.
            raise RetryLaterError(f"{target}: cool-down until {result.cooldown_until.isoformat()}")
        rt.state.mark_done(event.event_id, rt.clock(), said, target)
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


def _duplicate_reason(event: ResourceEvent) -> str:
    return f"duplicate delivery: event {event.event_id} with this content was already handled"


def _duplicate(rt: Runtime, ctx: Context, event: ResourceEvent) -> EventResult:
    """A redelivery of an event already handled (same id, same content): dropped, and the drop audited."""
    reason = _duplicate_reason(event)
    log.info("%s", for_log(reason))
    rt.audit.append([_recorder(rt, ctx).event(event.resource_id, Outcome.IGNORED, reason)])
    return EventResult(event.event_id, True, "duplicate delivery")


def _trace(rt: Runtime, records: list[AuditRecord]) -> None:
    """Records of self-caused echoes: held back and written batched when the sink can (docs/audit.md)."""
    if isinstance(rt.audit, HoldsBack):  # a class check: a Protocol isinstance costs more than the rest
        rt.audit.hold(records)
    else:
        rt.audit.append(records)


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


def _recorder(rt: Runtime, ctx: Context) -> Recorder:
    """Event-level records carry no evaluation duration."""
    return Recorder(ctx, rt.clock, time.monotonic())

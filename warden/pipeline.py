"""The flow for one resource: read its facts, detect, plan, then enforce each action (warden/execute.py).

Events and the sweep both end up in `evaluate`, so modes, exemptions and limits hold on every trigger path.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warden import cmk_index
from warden.baseline import Baseline
from warden.control import Control
from warden.errors import AzureError, NotFoundYetError, ResourceGoneError, TransientError
from warden.execute import HOUR, TENANT_KEY, count_attempt, enforce
from warden.facts import LazyFacts, Scope
from warden.model import AccountSnapshot, AuditRecord, Decision, Finding, Outcome, Trigger, normalize_id
from warden.pending import PendingSteps
from warden.planner import effective_mode, is_exempt, plan
from warden.records import OUTCOME_OF, Context, Recorder
from warden.redact import scrub
from warden.runtime import RunBudget, Runtime

log = logging.getLogger(__name__)

#: Only these account kinds host Azure OpenAI; other Cognitive Services kinds are not ours to judge.
OPENAI_KINDS = frozenset({"openai", "aiservices"})
#: Provisioning states in which no operation runs on the account any more.
SETTLED_STATES = frozenset({"succeeded", "failed", "canceled"})
#: How long after a write event ARM's reads may still miss the resource (read-after-write lag across its
#: regional replicas): within it, a 404 is retried by redelivery, not called gone (docs/architecture.md).
READ_LAG = timedelta(minutes=5)
#: The pause before the read that confirms a 404, in seconds.
CONFIRM_DELAY = 2.0


@dataclass
class EvaluationResult:
    resource_id: str
    findings: list[Finding] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    cooldown_until: datetime | None = None  # set when a cool-down blocked an action
    account: AccountSnapshot | None = None  # the account as first read (None: it could not be read)


def evaluate(
    resource_id: str,
    controls: Iterable[str],
    rt: Runtime,
    ctx: Context,
    budget: RunBudget,
    *,
    shown: AccountSnapshot | None = None,
) -> EvaluationResult:
    """Re-read one account and bring the given controls back to the baseline. Raises TransientError to retry.

    `shown` is the account as the sweep's list page showed it (fresh from ARM, etag included): then it is not
    read again before judging; every change is still verified by a read."""
    wanted = frozenset(controls) & rt.active_controls()
    chosen = [c for c in rt.controls if c.id in wanted]
    rec = Recorder(ctx, rt.clock, time.monotonic())
    result = EvaluationResult(resource_id)
    facts = LazyFacts(resource_id, rt.ports, scope_of(rt), account=shown)
    account = _read(resource_id, facts, rt, rec, result)
    if account is None:
        return result
    result.account = account
    cmk_index.note(rt.state, account)  # so a Key Vault event finds the accounts its vault's keys protect
    if account.kind.lower() not in OPENAI_KINDS:
        # An event pointed at it, so the trail says why nothing was judged (the sweep skips these unread).
        reason = f"kind {account.kind or '(none)'} is not OpenAI or AIServices"
        rt.audit.append([rec.evaluation(resource_id, Outcome.SKIPPED, reason=reason)])
        result.outcomes.append(Outcome.SKIPPED)
        return result

    chosen, findings, unread = _judge(chosen, facts, rt, rec, result)
    pending = PendingSteps(rt.state, account.resource_id, rt.clock)
    findings += pending.findings(findings)
    result.findings = findings
    drifted = {f.control_id for f in findings}
    compliant = compliant_records(rec, account.resource_id, [c.id for c in chosen if c.id not in drifted], rt)
    result.outcomes.extend(Outcome.COMPLIANT for _ in compliant)

    now = rt.clock()
    window = rt.baseline.limits.attempt_window
    history = {normalize_id(account.resource_id): rt.state.history(account.resource_id, now, window)}
    # Advisory (the planner's reason); `reserve` decides atomically, so a count that may lag a minute is enough.
    recent = rt.state.recent(TENANT_KEY, now, HOUR) if findings else 0
    the_plan = plan(
        findings,
        baseline=rt.baseline,
        now=now,
        history=history,
        actions_used=budget.actions_used,
        recent_actions=recent,
        mode_override=rt.mode_override,
    )
    not_enforced = [pf for pf in the_plan.decisions if pf.decision is not Decision.ENFORCE]
    _claim_and_record(rt, resource_id, bool(the_plan.enforce), compliant + [rec.decision(pf) for pf in not_enforced])
    result.cooldown_until = the_plan.cooldown_until
    result.outcomes.extend(OUTCOME_OF[pf.decision] for pf in not_enforced)

    def recheck(control_ids: frozenset[str], read: AccountSnapshot | None = None) -> Mapping[str, list[Finding]]:
        facts.forget()  # every fact read fresh: a step may have changed a key or a vault, not only the account
        facts.seed_account(read)  # the poller's read after the last step's operation ended (docs/architecture.md)
        found, unread = detect_each([c for c in rt.controls if c.id in control_ids], facts, rt.baseline)
        if unread:  # the verifying read failed: execute records the action as not verified
            raise next(iter(unread.values()))
        return {c: [f for f in found if f.control_id == c] for c in control_ids}

    known = [account]  # the state the next action starts from: the read, then each action's re-read

    def changed_elsewhere(ours: frozenset[str]) -> list[str]:
        # Called after a recheck, so `facts.account` is the re-read.
        before, now = known[0].settings(), facts.account.settings()
        known[0] = facts.account
        return sorted(name for name in before if name not in ours and before[name] != now[name])

    def busy() -> str | None:
        # Called after a recheck: an operation still running may yet apply a change whose answer was lost.
        state = facts.account.provisioning_state
        return state if state and state.lower() not in SETTLED_STATES else None

    # One attempt per evaluation, however many actions it ran (each file deleted is an action of its own).
    attempted = functools.cache(lambda: count_attempt(rt, account.resource_id))

    for action in the_plan.enforce:
        planned = [pf for pf in the_plan.decisions if pf.action is action]
        outcomes = enforce(
            action,
            planned,
            rt,
            rec,
            recheck=recheck,
            pending=pending,
            changed_elsewhere=changed_elsewhere,
            busy=busy,
            attempted=attempted,
            budget=budget,
        )
        result.outcomes.extend(outcomes)
    transient = next((exc for exc in unread.values() if isinstance(exc, TransientError)), None)
    if transient is not None:
        raise transient  # after the others' actions: the redelivery judges the control again
    return result


def _claim_and_record(rt: Runtime, resource_id: str, enforcing: bool, records: list[AuditRecord]) -> None:
    """With something to enforce, hold the resource's lock (`resource_id`: the id the caller opened the
    evaluation with) before anything of the plan is recorded or done: an optimistic evaluation that loses the
    claim (LockContendedError) is judged again under the lock (warden/service.py). Then the records."""
    if enforcing:
        rt.state.claim(resource_id)
    if records:
        rt.audit.append(records)


def compliant_records(rec: Recorder, resource_id: str, control_ids: Iterable[str], rt: Runtime) -> list[AuditRecord]:
    """One `compliant` evaluation record per control, each with the mode it runs in."""
    return [
        rec.evaluation(
            resource_id, Outcome.COMPLIANT, control_id=c, mode=effective_mode(c, rt.baseline, rt.mode_override)
        )
        for c in control_ids
    ]


def detect_each(
    controls: Sequence[Control[Any]], facts: LazyFacts, baseline: Baseline
) -> tuple[list[Finding], dict[str, AzureError]]:
    """Every finding of `controls` (each detector sees only the facts its control declares), and the controls
    whose facts could not be read, with why."""
    findings: list[Finding] = []
    unread: dict[str, AzureError] = {}
    for control in controls:
        try:
            findings += control.detect(facts.view(control.facts), baseline.params(control.id))
        except AzureError as exc:
            unread[control.id] = exc
    return findings, unread


def _judge(
    chosen: Sequence[Control[Any]], facts: LazyFacts, rt: Runtime, rec: Recorder, result: EvaluationResult
) -> tuple[list[Control[Any]], list[Finding], dict[str, AzureError]]:
    """The controls judged, their findings, and those whose facts could not be read (recorded as failed). A route
    with a condition (a deployment of a fine-tuned model) is judged first, now that the account is read."""
    wanted = [c for c in chosen if _wanted(c, rec.ctx, facts)]
    findings, unread = detect_each(wanted, facts, rt.baseline)
    if unread:
        _record_unread(rt, rec, facts.account.resource_id, unread, result)
    return [c for c in wanted if c.id not in unread], findings, unread


def _record_unread(
    rt: Runtime, rec: Recorder, resource_id: str, unread: Mapping[str, AzureError], result: EvaluationResult
) -> None:
    """A control whose facts could not be read is neither compliant nor drifted: recorded as failed, and the
    other controls go on. The sweep checks it again; a throttled event is redelivered (`evaluate`)."""
    for control_id, exc in unread.items():
        log.warning("%s: %s could not be judged: %s", resource_id, control_id, scrub(str(exc)))
    records = [
        rec.evaluation(
            resource_id,
            Outcome.FAILED,
            control_id=control_id,
            mode=effective_mode(control_id, rt.baseline, rt.mode_override),
            error=str(exc),
        )
        for control_id, exc in unread.items()
    ]
    rt.audit.append(records)
    result.outcomes.extend(Outcome.FAILED for _ in unread)


def _wanted(control: Control[Any], ctx: Context, facts: LazyFacts) -> bool:
    """A route condition that cannot be judged (its read failed) does not hold the control back."""
    try:
        return control.wanted_for(ctx.operation, ctx.subject, facts.view(control.facts))
    except AzureError:
        return True


def scope_of(rt: Runtime) -> Scope:
    """The evaluation's instant, read once, and what the baseline says about scope and exemptions then."""
    now = rt.clock()
    return Scope(
        now=now,
        subscriptions=tuple(sorted(rt.baseline.subscriptions)),
        exempt=lambda resource_id, control_id: is_exempt(resource_id, control_id, rt.baseline, now),
        own_principals=frozenset(p.strip().lower() for p in rt.self_object_ids),
    )


def _read(
    resource_id: str, facts: LazyFacts, rt: Runtime, rec: Recorder, result: EvaluationResult
) -> AccountSnapshot | None:
    """The account; None when it cannot be judged (gone, or a final error), recorded. Raises to retry."""
    try:
        return _first_read(resource_id, facts, rt, rec.ctx)
    except NotFoundYetError:
        raise  # judged on redelivery: one record then, not one per delivery
    except ResourceGoneError as exc:
        rt.audit.append([rec.evaluation(resource_id, Outcome.RESOURCE_GONE, reason=str(exc))])
        result.outcomes.append(Outcome.RESOURCE_GONE)
        return None
    except AzureError as exc:
        log.warning("reading %s failed: %s", resource_id, scrub(str(exc)))
        rt.audit.append([rec.evaluation(resource_id, Outcome.FAILED, error=str(exc))])
        if isinstance(exc, TransientError):
            raise
        result.outcomes.append(Outcome.FAILED)
        return None


def _first_read(resource_id: str, facts: LazyFacts, rt: Runtime, ctx: Context) -> AccountSnapshot:
    """The account, for an event only called gone once a 404 is confirmed: ARM's reads can lag the write the
    event reports. A second read after CONFIRM_DELAY; still 404 within READ_LAG of the event's time, the event
    is redelivered (NotFoundYetError, nothing audited yet); after it, ResourceGoneError. The sweep's 404 is
    final for that sweep: its list is as fresh as the read, and the next sweep lists again."""
    try:
        return facts.account
    except ResourceGoneError as exc:
        if ctx.trigger is not Trigger.EVENT:
            raise
        log.info("%s not found (%s); reading it again in %.0fs", resource_id, exc, CONFIRM_DELAY)
    rt.sleep(CONFIRM_DELAY)
    try:
        return facts.account
    except ResourceGoneError as exc:
        written = ctx.event_time
        if written is not None and rt.clock() - written < READ_LAG:
            raise NotFoundYetError(
                f"{resource_id} not found yet, {rt.clock() - written} after the event; ARM's reads can lag a "
                "write, so it is read again on redelivery",
                status=404,
            ) from exc
        raise

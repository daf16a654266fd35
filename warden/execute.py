"""Enforcing one planned Action: reserve a slot, audit intent, apply the steps in order, verify, audit results.

No audit, no action: the intents are written before the first step. A step that fails after others applied
ends `partial`: the steps left are kept as pending (warden/pending.py) and the next evaluation finishes them.
A write whose answer was lost (a 5xx or no answer after the SDK's retries: it may have been carried out) is
judged by the re-read: applied if it shows the change, not applied only if it shows the drift on a settled
target, unknown otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from warden.audit import record_to_json
from warden.errors import (
    AuditWriteError,
    AzureError,
    ConflictError,
    OutcomeUnknownError,
    ReplyLostError,
    ResourceGoneError,
    TransientError,
    WardenError,
)
from warden.model import (
    AccountSnapshot,
    Action,
    AuditRecord,
    Decision,
    Finding,
    Json,
    Outcome,
    PlannedFinding,
    normalize_id,
)
from warden.pending import PendingSteps
from warden.records import Recorder, result, steps_of
from warden.redact import scrub
from warden.runtime import RunBudget, Runtime
from warden.steps import StepStatus, Verify, alone_unit, new_etag, touched

log = logging.getLogger(__name__)

RESULT_WRITE_ATTEMPTS = 3
#: The state store key under which every enforced action is also counted, for the tenant-wide hourly cap.
TENANT_KEY = "*"
HOUR = timedelta(hours=1)


class Recheck(Protocol):
    """Re-reads the resource and re-runs the given controls' detectors: control id -> its findings now. `read`:
    the account as a read already made after the last step (StepRun.read), taken instead of a GET of it."""

    def __call__(
        self, controls: frozenset[str], read: AccountSnapshot | None = None, /
    ) -> Mapping[str, list[Finding]]: ...


#: After a recheck: the settings that differ from the first read although the action did not change them
#: (given the names it changed). Someone else wrote around our change.
ChangedElsewhere = Callable[[frozenset[str]], list[str]]
#: After a recheck: the target's provisioning state while an operation still runs on it, else None (settled).
Busy = Callable[[], str | None]


def _nothing_elsewhere(ours: frozenset[str]) -> list[str]:
    return []


def _settled() -> str | None:
    return None


@dataclass
class StepRun:
    """What became of each step of an action (indexed like its steps), and the error that stopped it."""

    statuses: list[StepStatus]
    errors: list[str]
    failure: AzureError | None = None
    lost: int | None = None  # the step whose answer was lost (it may have applied): judged by the re-read
    read: AccountSnapshot | None = None  # the account as the last step that ran left it, read once it completed


def enforce(
    action: Action,
    planned: Sequence[PlannedFinding],
    rt: Runtime,
    rec: Recorder,
    *,
    recheck: Recheck,
    pending: PendingSteps,
    changed_elsewhere: ChangedElsewhere = _nothing_elsewhere,
    busy: Busy = _settled,
    attempted: Callable[[], None],
    budget: RunBudget,
) -> list[Outcome]:
    """One outcome per planned finding. Re-raises a TransientError after the results are written, so that
    Event Grid redelivers and the next evaluation re-reads, re-plans and finishes what is pending.

    `attempted` counts an attempt on the resource once something may have changed: the evaluation passes one
    that counts once, however many actions it runs on the resource."""
    # A continuation was counted when its remediation started.
    if not action.continues and (reason := _no_slot(rt, budget)):
        blocked = [replace(pf, decision=Decision.BLOCKED, reason=reason) for pf in planned]
        rt.audit.append([rec.decision(pf) for pf in blocked])
        return [Outcome.BLOCKED for _ in planned]
    intents = [rec.intent(pf) for pf in planned]
    rt.audit.append(intents)  # raises AuditWriteError: then nothing has been changed

    run = _apply(action, rt, recheck)
    drifted, verify_error = _verify(action, run, recheck)
    drifted = _ours(action, drifted)
    _judge_lost(action, run, drifted, busy)
    if touched(run.statuses) and not action.continues:  # only what may have changed Azure counts
        attempted()
    pending.settle(action, run.statuses)
    elsewhere = changed_elsewhere(_names_changed(action)) if drifted else []
    outcomes: list[Outcome] = []
    records: list[AuditRecord] = []
    for pf, intent in zip(planned, intents, strict=True):
        outcome, error = _outcome(action, pf.finding.control_id, run, drifted, verify_error)
        if outcome is Outcome.REMEDIATED and elsewhere:
            outcome, error = Outcome.NOT_VERIFIED, _elsewhere(elsewhere)
        left = drifted.get(pf.finding.control_id, []) if drifted is not None else []
        observed = {k: v for f in left for k, v in f.observed.items()} or None
        steps = steps_of(pf, run.statuses, run.errors)
        when, took = rt.clock(), rec.elapsed_ms()
        records.append(result(intent, when, outcome, steps=steps, error=error, observed=observed, duration_ms=took))
        outcomes.append(outcome)
    _write_results(rt, records)
    if isinstance(run.failure, TransientError):
        raise run.failure
    if isinstance(verify_error, TransientError):
        raise verify_error
    return outcomes


def _apply(action: Action, rt: Runtime, recheck: Recheck) -> StepRun:
    """Each step in order, with the etag its target has now (the one the previous step's answer carried)."""
    run = StepRun([StepStatus.NOT_ATTEMPTED] * len(action.steps), [""] * len(action.steps))
    etags: dict[str, str | None] = {}
    resource = normalize_id(action.resource_id)
    for index, step in enumerate(action.steps):
        target = normalize_id(step.target)
        # A read verifies only if made after every step that ran: this step voids a read an earlier step's
        # operation ended with (docs/architecture.md, "Verifying from the operation's read").
        run.read = None
        try:
            written = step.apply(rt.ports, etags.get(target, step.etag))
        except OutcomeUnknownError as exc:
            # Accepted, not followed to the end: it may still land, and a second write would meet a 409.
            run.statuses[index], run.errors[index], run.failure = StepStatus.UNKNOWN, str(exc), exc
            if isinstance(exc, ReplyLostError):
                run.lost = index
            break
        except ConflictError as exc:
            served = frozenset(c for c, steps in action.serves.items() if index in steps)
            if exc.status == 412 and step.verify is Verify.REREAD and not _still_drifted(recheck, served):
                # Changed since our read, and compliant now: either this step landed and the SDK's retry of it
                # hit the new etag, or someone else fixed it. Never called remediated; the next steps go on.
                why = "the target changed since it was read and is compliant now, by this change or someone else's"
                run.statuses[index], run.errors[index] = StepStatus.UNKNOWN, f"{exc}; {why}"
                etags[target] = None
                continue
            run.statuses[index], run.errors[index], run.failure = StepStatus.FAILED, str(exc), exc
            break
        except AzureError as exc:
            if not isinstance(exc, TransientError | ResourceGoneError):
                log.warning("step %s on %s failed: %s", step.kind, step.target, scrub(str(exc)))
            run.statuses[index], run.errors[index], run.failure = StepStatus.FAILED, str(exc), exc
            break
        run.statuses[index] = StepStatus.APPLIED
        if isinstance(written, AccountSnapshot) and normalize_id(written.resource_id) == resource:
            run.read = written
        if etag := new_etag(written):
            etags[target] = etag
    return run


def _names_changed(action: Action) -> frozenset[str]:
    return frozenset(name for step in action.steps for name in step.change())


def _elsewhere(names: Sequence[str]) -> str:
    """Why a verified fix is still not called remediated: it was decided on a state someone else changed."""
    return (
        f"applied, but {', '.join(names)} changed by someone else around this change, so it was decided on a "
        "state that no longer held (a write that does not honour If-Match cannot be refused): review it"
    )


def _still_drifted(recheck: Recheck, controls: frozenset[str]) -> bool:
    try:
        return any(recheck(controls).values())
    except AzureError:
        return True


Verdict = tuple[Mapping[str, list[Finding]] | None, AzureError | None]


def _ours(action: Action, drifted: Mapping[str, list[Finding]] | None) -> Mapping[str, list[Finding]] | None:
    """The drift the re-read still shows that this action was meant to fix: findings with a fix, and for an
    action that stands alone (one file, one role assignment), only those about its own unit. Another
    assignment's drift, or one only a human can fix, does not make this one unverified."""
    if drifted is None:
        return None
    unit = alone_unit(action.steps)
    return {c: [f for f in found if f.fix and alone_unit(f.fix) == unit] for c, found in drifted.items()}


def _verify(action: Action, run: StepRun, recheck: Recheck) -> Verdict:
    """Re-read once if any applied step (or one whose answer was lost) is verified that way: control id -> the
    drift still found."""
    rereads = [i for i, s in enumerate(action.steps) if s.verify is Verify.REREAD]
    if not any(run.statuses[i] is StepStatus.APPLIED or i == run.lost for i in rereads):
        return {}, None
    controls = frozenset(action.serves)
    try:
        if run.read is not None:
            # The poller's read once ARM finished the last step's operation is the account's verifying read;
            # every other fact is read fresh (docs/architecture.md, "Verifying from the operation's read").
            return recheck(controls, run.read), None
        return recheck(controls), None
    except AzureError as exc:
        log.warning("verifying %s after the change failed: %s", action.resource_id, scrub(str(exc)))
        return None, exc


def _judge_lost(action: Action, run: StepRun, drifted: Mapping[str, list[Finding]] | None, busy: Busy) -> None:
    """The step whose answer was lost, as the re-read shows it: applied if its controls are compliant now; not
    applied if their drift is still there on a settled target; unknown if the re-read failed or an operation
    still runs (it may yet land)."""
    index = run.lost
    if index is None or drifted is None or action.steps[index].verify is not Verify.REREAD:
        return
    served = [c for c, steps in action.serves.items() if index in steps]
    left = [f.summary for c in served for f in drifted.get(c, [])]
    if not left:
        run.statuses[index] = StepStatus.APPLIED
        run.errors[index] += "; the re-read shows it applied"
        if index == len(action.steps) - 1:
            run.failure = None  # nothing is left to retry
        return
    state = busy()
    if state is not None:
        run.errors[index] += f"; the re-read still shows the drift while the target is {state}: it may yet apply"
        return
    run.statuses[index] = StepStatus.FAILED
    run.errors[index] += f"; the re-read shows it not applied: {'; '.join(left)}"


def _outcome(
    action: Action,
    control_id: str,
    run: StepRun,
    drifted: Mapping[str, list[Finding]] | None,
    verify_error: AzureError | None,
) -> tuple[Outcome, str]:
    """A control's outcome from its own steps: all applied and verified, some applied (partial), or none."""
    own = action.serves.get(control_id, ())
    statuses = [run.statuses[i] for i in own]
    errors = "; ".join(run.errors[i] for i in own if run.errors[i])
    if all(s is StepStatus.APPLIED for s in statuses):
        if not any(action.steps[i].verify is Verify.REREAD for i in own):
            return Outcome.REMEDIATED, ""
        if drifted is None:
            return Outcome.NOT_VERIFIED, f"applied; the verifying read failed: {verify_error}"
        left = drifted.get(control_id, [])
        return (Outcome.NOT_VERIFIED, "; ".join(f.summary for f in left)) if left else (Outcome.REMEDIATED, "")
    if all(s in (StepStatus.APPLIED, StepStatus.UNKNOWN) for s in statuses):
        return Outcome.NOT_VERIFIED, errors
    if any(s in (StepStatus.APPLIED, StepStatus.UNKNOWN) for s in statuses):
        return Outcome.PARTIAL, f"{errors or run.failure}; the steps not applied are retried"
    if isinstance(run.failure, ResourceGoneError):
        return Outcome.RESOURCE_GONE, errors or str(run.failure)
    return Outcome.FAILED, errors or f"not attempted: an earlier step failed ({run.failure})"


def _no_slot(rt: Runtime, budget: RunBudget) -> str:
    """Why the action may not run ("" when it may). The planner checked both caps on counts; concurrent
    evaluations (the sweep's workers, other instances) may all have seen room. Taking the slot is the atomic
    check-and-count that decides (a slot stays used if the change fails)."""
    run_cap, hour_cap = rt.baseline.limits.max_actions_per_run, rt.baseline.limits.max_actions_per_hour
    if not budget.take(run_cap):
        return f"per-run cap of {run_cap} actions reached (by concurrent actions)"
    if not rt.state.reserve(TENANT_KEY, rt.clock(), HOUR, hour_cap):
        return f"tenant-wide cap of {hour_cap} actions per hour reached (by concurrent actions)"
    return ""


def count_attempt(rt: Runtime, resource_id: str) -> None:
    try:
        rt.state.record_attempt(resource_id, rt.clock())
    except WardenError as exc:
        # The change is made; its result must still be audited. A lost count only loosens the cap once.
        log.warning("could not count the attempt on %s: %s", resource_id, exc)


def _write_results(rt: Runtime, records: Sequence[AuditRecord]) -> None:
    """Retried briefly: after a change, a lost result leaves the trail with an intent and no outcome (the
    AuditWriteError still propagates if the log stays down)."""
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


def _already_written(rt: Runtime, records: Sequence[AuditRecord]) -> bool:
    wanted = {_identity(record_to_json(r)) for r in records}
    try:
        return wanted <= {_identity(e) for e in rt.audit.entries(since=records[0].time)}
    except (WardenError, OSError):
        return False


def _identity(entry: Mapping[str, Json]) -> tuple[Json, ...]:
    return tuple(entry.get(k) for k in ("kind", "eventId", "resourceId", "controlId", "time", "outcome"))

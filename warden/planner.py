"""The planner, the one place deciding each finding: off, exempt, no remediator, dry-run, blocked or enforce.

Pure: no network, no clock, no environment; `now`, the remediation history and spent actions are arguments.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from warden.baseline import Baseline
from warden.baseline_exemptions import when
from warden.model import (
    Action,
    Decision,
    Exemption,
    Finding,
    Limits,
    Mode,
    Plan,
    PlannedFinding,
    RemediationHistory,
    normalize_id,
)
from warden.steps import Step, alone_unit, step_key


@dataclass
class _Member:
    """A finding waiting for its group's action, with the reason text it has gathered so far."""

    index: int
    finding: Finding
    mode_source: str
    prefix: str


#: A group of findings that become one Action: (resource key, mode, continues an earlier remediation, the
#: target of a step that stands alone, or "").
_GroupKey = tuple[str, Mode, bool, str]


def plan(
    findings: Sequence[Finding],
    *,
    baseline: Baseline,
    now: datetime,
    history: Mapping[str, RemediationHistory],
    actions_used: int = 0,
    recent_actions: int = 0,
    mode_override: Mode | None = None,
) -> Plan:
    """Decide every finding; the same inputs always give the same Plan (ordered by resource id, then control).

    `history` is keyed by normalize_id(resource_id); `actions_used` is what earlier resources of the same
    sweep spent of the per-run cap; `recent_actions` is the enforced actions tenant-wide in the hour before
    `now`, as the state store knows them (every event and sweep, including earlier resources of this sweep
    once recorded: it is not added to `actions_used`, nor the other way round); `mode_override` (WARDEN_MODE)
    can only make a control more conservative.

    The enforced findings of one resource become one Action: their steps merged (one PATCH per account) and
    ordered. It passes the limits in this order, the first that stops it giving the blocked reason: cool-down,
    attempt cap, per-run cap, tenant-wide hourly cap. A continuation (the rest of a remediation that stopped
    part-way) passed them when it started, and is not a new action.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("plan() needs a timezone-aware `now`")
    if actions_used < 0:
        raise ValueError(f"actions_used must be >= 0, got {actions_used}")
    if recent_actions < 0:
        raise ValueError(f"recent_actions must be >= 0, got {recent_actions}")

    ordered = sorted(findings, key=_order)
    decided: list[PlannedFinding | None] = [None] * len(ordered)
    groups: dict[_GroupKey, list[_Member]] = {}

    for index, finding in enumerate(ordered):
        mode, source = _mode(finding.control_id, baseline, mode_override)
        if mode is Mode.OFF:
            decided[index] = PlannedFinding(finding, mode, Decision.OFF, f"control is off ({source})")
            continue
        active, expired = _exemptions(finding.resource_id, finding.control_id, baseline.exemptions, now)
        active, expired = _with_own(finding.exemption, active, expired, now)
        if active is not None:
            reason = f"exempt until {when(active.expires)} (owner {active.owner}): {active.reason}"
            decided[index] = PlannedFinding(finding, mode, Decision.EXEMPT, reason, exemption=active)
            continue
        prefix = ""
        if expired is not None:
            prefix = f"exemption expired {when(expired.expires)} (owner {expired.owner}), enforced again; "
        if not finding.fix:
            why = f"{prefix}no automatic remediation for this drift; a human must fix it"
            decided[index] = PlannedFinding(finding, mode, Decision.NO_REMEDIATOR, why)
            continue
        # Mode is part of the key, so a resource with enforce and dry-run findings gets two actions. A step
        # that stands alone (one file deleted) is an action of its own: each counts against the caps.
        key = (normalize_id(finding.resource_id), mode, finding.continues, alone_unit(finding.fix))
        groups.setdefault(key, []).append(_Member(index, finding, source, prefix))

    enforce, dry_run, cooldown_until = _decide_groups(
        groups,
        decided,
        baseline=baseline,
        now=now,
        history=history,
        actions_used=actions_used,
        recent_actions=recent_actions,
    )

    assert all(d is not None for d in decided)  # every finding got exactly one decision above
    return Plan(
        decisions=tuple(d for d in decided if d is not None),
        enforce=tuple(enforce),
        dry_run=tuple(dry_run),
        cooldown_until=cooldown_until,
    )


def merge_steps(findings: Sequence[Finding]) -> tuple[tuple[Step, ...], dict[str, tuple[int, ...]]]:
    """The findings' steps as one ordered list (mergeable kinds combined per target, equal steps once), and
    for each control the indexes of the steps it needs. ValueError when two fixes contradict each other."""
    merged: dict[tuple[int, str, str, str], Step] = {}
    needs: dict[str, list[tuple[int, str, str, str]]] = {}
    for finding in findings:
        for step in finding.fix:
            same = "" if step.merges else step_key(step)
            key = (step.order, step.kind, normalize_id(step.target), same)
            merged[key] = merged[key].merge(step) if key in merged and step.merges else merged.get(key, step)
            needs.setdefault(finding.control_id, []).append(key)
    ordered = sorted(merged)
    position = {key: i for i, key in enumerate(ordered)}
    serves = {control: tuple(sorted({position[k] for k in keys})) for control, keys in needs.items()}
    return tuple(merged[k] for k in ordered), serves


def _decide_groups(
    groups: Mapping[_GroupKey, list[_Member]],
    decided: list[PlannedFinding | None],
    *,
    baseline: Baseline,
    now: datetime,
    history: Mapping[str, RemediationHistory],
    actions_used: int,
    recent_actions: int,
) -> tuple[list[Action], list[Action], datetime | None]:
    """One Action per group; dry-run groups are described, enforce groups pass the limits in order."""
    enforce: list[Action] = []
    dry_run: list[Action] = []
    cooldown_until: datetime | None = None
    for (resource_key, mode, continues, _), members in groups.items():
        batch = [m.finding for m in members]
        try:
            steps, serves = merge_steps(batch)
        except ValueError as exc:
            for m in members:
                why = f"{m.prefix}the fixes contradict each other ({exc}); a human must fix it"
                decided[m.index] = PlannedFinding(m.finding, mode, Decision.NO_REMEDIATOR, why)
            continue
        action = Action(batch[0].resource_id, steps, serves, continues)
        kinds = ", ".join(s.kind for s in steps)
        if mode is Mode.DRY_RUN:
            dry_run.append(action)
            decision, outcome = Decision.DRY_RUN, f"would apply {kinds}, nothing changed"
        else:
            past = history.get(resource_key, RemediationHistory())
            fresh = sum(1 for a in enforce if not a.continues)  # a continuation was counted when it started
            blocked = (
                ""
                if continues
                else _blocked(
                    past,
                    baseline.limits,
                    now,
                    spent_in_run=actions_used + fresh,
                    spent_in_hour=recent_actions + fresh,
                )
            )
            if blocked:
                decision, outcome = Decision.BLOCKED, blocked
                until = _cooldown_end(past, baseline.limits, now)
                cooldown_until = min(until, cooldown_until or until) if until else cooldown_until
            else:
                enforce.append(action)
                decision, outcome = Decision.ENFORCE, f"apply {kinds}"
        for m in members:
            reason = f"{m.prefix}{mode.value} ({m.mode_source}): {outcome}"
            decided[m.index] = PlannedFinding(m.finding, mode, decision, reason, action=action)

    return enforce, dry_run, cooldown_until


def effective_mode(control_id: str, baseline: Baseline, override: Mode | None) -> Mode:
    """The mode a control runs in: its own mode, else the baseline mode, made more conservative (never less)
    by `override` (WARDEN_MODE). The one rule for every record, including compliant ones.
    Raises KeyError for an unknown control id."""
    return _mode(control_id, baseline, override)[0]


def _mode(control_id: str, baseline: Baseline, override: Mode | None) -> tuple[Mode, str]:
    """The effective mode and where it came from (for the reason the admin reads)."""
    base = baseline.control_mode(control_id)
    config = baseline.controls.get(control_id)
    own = config is not None and config.mode is not None
    source = f"controls.{control_id}.mode" if own else "baseline mode"
    if config is None:
        source = f"{control_id} is not listed under controls"
    elif not own and base.rank < baseline.mode.rank:
        source = f"{control_id} runs in {base.value} until controls.{control_id}.mode says otherwise"
    if override is not None and override.rank < base.rank:
        return override, f"WARDEN_MODE override; {source} is {base.value}"
    return base, source


def is_exempt(resource_id: str, control_id: str, baseline: Baseline, now: datetime) -> bool:
    """Whether an exemption in force at `now` covers the control on the resource (a control whose scope
    depends on another's exemption asks this: identity.key-vault-keys applies where local auth is exempt)."""
    return _exemptions(resource_id, control_id, baseline.exemptions, now)[0] is not None


def _exemptions(
    resource_id: str, control_id: str, exemptions: Sequence[Exemption], now: datetime
) -> tuple[Exemption | None, Exemption | None]:
    """The first matching exemption in force (baseline order), else the matching one that expired last."""
    resource = normalize_id(resource_id)
    active: Exemption | None = None
    expired: Exemption | None = None
    for ex in exemptions:
        if ex.control_id not in ("*", control_id):
            continue
        # fnmatchcase on lower-cased sides: case-insensitive on every platform (fnmatch follows the OS).
        if not fnmatch.fnmatchcase(resource, normalize_id(ex.resource_pattern)):
            continue
        if now < ex.expires:  # in force until the instant `expires`; at that instant it has expired
            active = active or ex
        elif expired is None or ex.expires > expired.expires:
            expired = ex
    return active, expired


def _with_own(
    own: Exemption | None, active: Exemption | None, expired: Exemption | None, now: datetime
) -> tuple[Exemption | None, Exemption | None]:
    """The baseline's resource exemptions, joined by one the finding carries (a part of the resource that the
    control's parameters exempt): in force, it exempts; expired, it is named when enforcement resumes."""
    if own is None:
        return active, expired
    if now < own.expires:
        return active or own, expired
    if expired is None or own.expires > expired.expires:
        return active, own
    return active, expired


def _cooldown_end(past: RemediationHistory, limits: Limits, now: datetime) -> datetime | None:
    """When the cool-down on a resource ends, if it is what holds the action back now."""
    if past.last_attempt is not None and now - past.last_attempt < limits.cooldown:
        return past.last_attempt + limits.cooldown
    return None


def _blocked(
    past: RemediationHistory,
    limits: Limits,
    now: datetime,
    *,
    spent_in_run: int,
    spent_in_hour: int,
) -> str:
    """Why a limit stops an enforced action ("" when none does), checked in the documented order."""
    if _cooldown_end(past, limits, now) is not None:
        assert past.last_attempt is not None
        seconds = int(limits.cooldown.total_seconds())
        return f"cool-down: last action at {past.last_attempt.isoformat()}, less than {seconds}s ago"
    # One fresh action per resource per plan (its steps merged), so only earlier plans' attempts count here.
    attempts = past.attempts_in_window
    if attempts >= limits.max_attempts:
        hours = int(limits.attempt_window.total_seconds() // 3600)
        return f"handed to a human: {attempts} attempts within {hours}h"
    if spent_in_run >= limits.max_actions_per_run:
        return f"per-run cap of {limits.max_actions_per_run} actions reached"
    if spent_in_hour >= limits.max_actions_per_hour:
        return f"tenant-wide cap of {limits.max_actions_per_hour} actions per hour reached"
    return ""


def _order(finding: Finding) -> tuple[str, ...]:
    """A total order over findings, so that shuffled input gives the same plan."""

    def dump(value: Mapping[str, object]) -> str:
        return json.dumps(dict(value), sort_keys=True, default=str)

    return (
        normalize_id(finding.resource_id),
        finding.control_id,
        finding.resource_id,
        finding.summary,
        dump(finding.observed),
        dump(finding.expected),
        json.dumps([step.to_json() for step in finding.fix], sort_keys=True),
    )

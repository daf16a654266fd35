"""The planner: every decision path, mode precedence, exemptions and expiry, merging, limits, determinism."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from warden.baseline import Baseline, ControlConfig, parse_baseline
from warden.model import (
    Action,
    Decision,
    Exemption,
    Finding,
    Json,
    Limits,
    Mode,
    Plan,
    RemediationHistory,
    normalize_id,
)
from warden.planner import effective_mode, plan

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SUB = "11111111-2222-3333-4444-555555555555"
PREFIX = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts"
A, B, C = (f"{PREFIX}/{name}" for name in ("acct-a", "acct-b", "acct-c"))
PUBLIC, LOCAL, OUTBOUND, ROLES = (
    "network.public-access",
    "identity.local-auth",
    "network.outbound",
    "identity.role-assignments",
)


class FakeRemediator:
    """A remediator for the given controls that merges every handled finding's `fix` into one payload."""

    permissions = ("Microsoft.CognitiveServices/accounts/write",)

    def __init__(self, kind: str = "account-patch", controls: Sequence[str] = (PUBLIC, LOCAL, OUTBOUND)) -> None:
        self.kind = kind
        self.controls = frozenset(controls)
        self.calls: list[tuple[str, tuple[Finding, ...]]] = []

    def handles(self, finding: Finding) -> bool:
        return finding.control_id in self.controls

    def plan(self, resource_id: str, findings: Sequence[Finding]) -> Action:
        self.calls.append((resource_id, tuple(findings)))
        payload: dict[str, Json] = {}
        change: dict[str, Json] = {}
        for f in findings:
            payload.update(f.fix)
            change.update({k: {"before": f.observed.get(k), "after": v} for k, v in f.fix.items()})
        return Action(self.kind, resource_id, tuple(f.control_id for f in findings), payload, change)

    def apply(self, action: Action, accounts: object) -> None:
        raise AssertionError("the planner must never apply anything")


def finding(resource: str = A, control: str = PUBLIC, *, fix: Mapping[str, Json] | None = None) -> Finding:
    prop = {PUBLIC: "publicNetworkAccess", LOCAL: "disableLocalAuth", OUTBOUND: "restrictOutbound"}.get(control, "x")
    value = {PUBLIC: "Disabled"}.get(control, True)
    return Finding(
        control_id=control,
        resource_id=resource,
        summary=f"{control} drift",
        observed={prop: None},
        expected={prop: value},
        fix={prop: value} if fix is None else fix,
    )


def baseline(
    mode: Mode = Mode.ENFORCE,
    *,
    controls: Mapping[str, Mode] | None = None,
    exemptions: Sequence[Exemption] = (),
    limits: Limits | None = None,
) -> Baseline:
    configs = {cid: ControlConfig(mode=m, params=MappingProxyType({})) for cid, m in (controls or {}).items()}
    return Baseline(
        version=1,
        mode=mode,
        subscriptions=frozenset({SUB}),
        limits=limits or Limits(max_actions_per_run=10, cooldown=timedelta(seconds=60), max_attempts=5),
        controls=MappingProxyType(configs),
        exemptions=tuple(exemptions),
        source="<test>",
    )


def run(
    findings: Sequence[Finding],
    base: Baseline | None = None,
    *,
    remediators: Sequence[FakeRemediator] | None = None,
    history: Mapping[str, RemediationHistory] | None = None,
    actions_used: int = 0,
    recent_actions: int = 0,
    mode_override: Mode | None = None,
    now: datetime = NOW,
) -> Plan:
    return plan(
        findings,
        baseline=base or baseline(),
        remediators=[FakeRemediator()] if remediators is None else remediators,
        now=now,
        history=history or {},
        actions_used=actions_used,
        recent_actions=recent_actions,
        mode_override=mode_override,
    )


def exempt(pattern: str = A, control: str = PUBLIC, expires: datetime = NOW + timedelta(days=30)) -> Exemption:
    return Exemption(pattern, control, "vendor needs it", "alice@contoso.com", expires)


# -- the decision paths --------------------------------------------------------------------------------------


def test_enforce_path() -> None:
    result = run([finding()])
    (pf,) = result.decisions
    assert pf.decision is Decision.ENFORCE
    assert pf.mode is Mode.ENFORCE
    assert result.enforce == (pf.action,)
    assert result.dry_run == ()
    assert pf.action is not None and pf.action.payload == {"publicNetworkAccess": "Disabled"}
    assert "enforce" in pf.reason


def test_off_control_is_not_planned() -> None:
    remediator = FakeRemediator()
    result = run([finding()], baseline(controls={PUBLIC: Mode.OFF}), remediators=[remediator])
    (pf,) = result.decisions
    assert pf.decision is Decision.OFF
    assert pf.action is None
    assert "controls.network.public-access.mode" in pf.reason
    assert remediator.calls == []
    assert result.enforce == result.dry_run == ()


def test_top_level_off() -> None:
    (pf,) = run([finding()], baseline(Mode.OFF)).decisions
    assert pf.decision is Decision.OFF
    assert "baseline mode" in pf.reason


def test_dry_run_path() -> None:
    result = run([finding()], baseline(Mode.DRY_RUN))
    (pf,) = result.decisions
    assert pf.decision is Decision.DRY_RUN
    assert result.dry_run == (pf.action,)
    assert result.enforce == ()
    assert "would apply account-patch" in pf.reason


def test_no_remediator_handles_it() -> None:
    remediator = FakeRemediator(controls=(LOCAL,))
    (pf,) = run([finding(control=PUBLIC)], remediators=[remediator]).decisions
    assert pf.decision is Decision.NO_REMEDIATOR
    assert "no remediator handles network.public-access" in pf.reason
    assert remediator.calls == []


def test_empty_fix_means_no_remediator() -> None:
    remediator = FakeRemediator()
    result = run([finding(fix={})], remediators=[remediator])
    (pf,) = result.decisions
    assert pf.decision is Decision.NO_REMEDIATOR
    assert "a human must fix it" in pf.reason
    assert remediator.calls == []
    assert result.enforce == ()


def test_no_remediators_at_all() -> None:
    (pf,) = run([finding()], remediators=[]).decisions
    assert pf.decision is Decision.NO_REMEDIATOR


# -- mode precedence -----------------------------------------------------------------------------------------

MODES = [Mode.OFF, Mode.DRY_RUN, Mode.ENFORCE]
EXPECTED_DECISION = {Mode.OFF: Decision.OFF, Mode.DRY_RUN: Decision.DRY_RUN, Mode.ENFORCE: Decision.ENFORCE}


@pytest.mark.parametrize("control_mode", MODES)
@pytest.mark.parametrize("override", [None, *MODES])
def test_override_only_makes_things_more_conservative(control_mode: Mode, override: Mode | None) -> None:
    (pf,) = run([finding()], baseline(controls={PUBLIC: control_mode}), mode_override=override).decisions
    effective = control_mode if override is None else min(control_mode, override, key=lambda m: m.rank)
    assert pf.mode is effective
    assert pf.decision is EXPECTED_DECISION[effective]
    assert pf.mode.rank <= control_mode.rank  # never escalated past the baseline
    if override is not None and override.rank < control_mode.rank:
        assert "WARDEN_MODE" in pf.reason


@pytest.mark.parametrize("control_mode", MODES)
@pytest.mark.parametrize("override", [None, *MODES])
def test_effective_mode_is_the_mode_plan_uses(control_mode: Mode, override: Mode | None) -> None:
    base = baseline(controls={PUBLIC: control_mode})
    (pf,) = run([finding()], base, mode_override=override).decisions
    assert effective_mode(PUBLIC, base, override) is pf.mode


def test_effective_mode_falls_back_to_the_baseline_mode() -> None:
    base = baseline(Mode.DRY_RUN, controls={PUBLIC: Mode.ENFORCE})
    assert effective_mode(LOCAL, base, None) is Mode.DRY_RUN
    assert effective_mode(PUBLIC, base, None) is Mode.ENFORCE
    assert effective_mode(PUBLIC, base, Mode.DRY_RUN) is Mode.DRY_RUN
    assert effective_mode(LOCAL, base, Mode.ENFORCE) is Mode.DRY_RUN  # the override never escalates
    with pytest.raises(KeyError):
        effective_mode("network.public_access", base, None)


def test_control_mode_overrides_top_level_mode() -> None:
    base = baseline(Mode.DRY_RUN, controls={PUBLIC: Mode.ENFORCE})
    result = run([finding(control=PUBLIC), finding(control=LOCAL)], base)
    by_control = {pf.finding.control_id: pf.decision for pf in result.decisions}
    assert by_control == {PUBLIC: Decision.ENFORCE, LOCAL: Decision.DRY_RUN}


# -- exemptions ----------------------------------------------------------------------------------------------


def test_matching_exemption_exempts_and_is_attached() -> None:
    remediator = FakeRemediator()
    ex = exempt()
    result = run([finding()], baseline(exemptions=[ex]), remediators=[remediator])
    (pf,) = result.decisions
    assert pf.decision is Decision.EXEMPT
    assert pf.exemption == ex
    assert pf.action is None
    assert "alice@contoso.com" in pf.reason and "vendor needs it" in pf.reason
    assert remediator.calls == []
    assert result.enforce == ()


def test_off_wins_over_exemption() -> None:
    (pf,) = run([finding()], baseline(Mode.OFF, exemptions=[exempt()])).decisions
    assert pf.decision is Decision.OFF


def test_exemption_glob_is_case_insensitive() -> None:
    pattern = f"/SUBSCRIPTIONS/{SUB}/resourcegroups/RG-AI/providers/microsoft.cognitiveservices/accounts/ACCT-*/"
    resource = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/Acct-Z"
    (pf,) = run([finding(resource)], baseline(exemptions=[exempt(pattern)])).decisions
    assert pf.decision is Decision.EXEMPT


def test_exemption_glob_does_not_match_other_accounts() -> None:
    (pf,) = run([finding(f"{PREFIX}/prod-1")], baseline(exemptions=[exempt(f"{PREFIX}/acct-*")])).decisions
    assert pf.decision is Decision.ENFORCE


def test_star_control_exempts_every_control() -> None:
    result = run([finding(control=PUBLIC), finding(control=LOCAL)], baseline(exemptions=[exempt(control="*")]))
    assert [pf.decision for pf in result.decisions] == [Decision.EXEMPT, Decision.EXEMPT]


def test_exemption_for_another_control_does_not_apply() -> None:
    result = run([finding(control=PUBLIC), finding(control=LOCAL)], baseline(exemptions=[exempt(control=LOCAL)]))
    by_control = {pf.finding.control_id: pf.decision for pf in result.decisions}
    assert by_control == {PUBLIC: Decision.ENFORCE, LOCAL: Decision.EXEMPT}


@pytest.mark.parametrize(
    ("expires_in", "decision", "expired_at"),
    [
        (timedelta(seconds=1), Decision.EXEMPT, ""),  # still in force
        (timedelta(0), Decision.ENFORCE, "2026-03-01T12:00:00+00:00"),  # in force until `expires`, not at it
        (timedelta(seconds=-1), Decision.ENFORCE, "2026-03-01T11:59:59+00:00"),
    ],
)
def test_exemption_expiry_boundary(expires_in: timedelta, decision: Decision, expired_at: str) -> None:
    (pf,) = run([finding()], baseline(exemptions=[exempt(expires=NOW + expires_in)])).decisions
    assert pf.decision is decision
    if expired_at:
        assert pf.exemption is None
        assert pf.reason.startswith(f"exemption expired {expired_at} (owner alice@contoso.com), enforced again; ")


def test_expired_date_exemption_from_the_file() -> None:
    text = (
        f"version: 1\nmode: enforce\nscope:\n  subscriptions: [{SUB}]\nexemptions:\n"
        f"  - resource: {PREFIX}/acct-*\n    control: network.public-access\n"
        "    reason: vendor\n    owner: alice@contoso.com\n    expires: 2026-02-28\n"
    )
    base = parse_baseline(text)
    end_of_day = datetime(2026, 3, 1, tzinfo=UTC)
    (pf,) = run([finding()], base, now=end_of_day - timedelta(microseconds=1)).decisions
    assert pf.decision is Decision.EXEMPT  # the whole of 2026-02-28 UTC is covered
    (pf,) = run([finding()], base, now=end_of_day).decisions
    assert pf.decision is Decision.ENFORCE
    assert pf.reason.startswith(
        "exemption expired 2026-02-28 (end of day UTC) (owner alice@contoso.com), enforced again"
    )


def test_never_expiring_exemption_from_the_file_is_exempt_and_says_until_when() -> None:
    text = (
        f"version: 1\nmode: enforce\nscope:\n  subscriptions: [{SUB}]\nexemptions:\n"
        f"  - resource: {PREFIX}/acct-*\n    control: network.public-access\n"
        "    reason: vendor\n    owner: alice@contoso.com\n    expires: 9999-12-31\n"
    )
    (pf,) = run([finding()], parse_baseline(text), now=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)).decisions
    assert pf.decision is Decision.EXEMPT  # still audited as an exempt decision, with its owner and reason
    assert pf.reason == "exempt until 9999-12-31 (end of day UTC) (owner alice@contoso.com): vendor"


def test_expired_exemption_with_dry_run_and_no_remediator_keeps_the_note() -> None:
    ex = exempt(expires=NOW - timedelta(days=1))
    (pf,) = run([finding(fix={})], baseline(exemptions=[ex])).decisions
    assert pf.decision is Decision.NO_REMEDIATOR
    assert pf.reason.startswith("exemption expired")


def test_unexpired_exemption_wins_over_expired_one() -> None:
    old = exempt(expires=NOW - timedelta(days=1))
    new = exempt(control="*", expires=NOW + timedelta(days=1))
    (pf,) = run([finding()], baseline(exemptions=[old, new])).decisions
    assert pf.decision is Decision.EXEMPT
    assert pf.exemption == new


# -- grouping ------------------------------------------------------------------------------------------------


def test_two_drifts_on_one_account_merge_into_one_action() -> None:
    remediator = FakeRemediator()
    upper_case_b = A.replace("resourceGroups", "resourcegroups").upper()
    result = run([finding(A, PUBLIC), finding(upper_case_b, LOCAL)], remediators=[remediator])
    assert len(result.enforce) == 1
    (action,) = result.enforce
    assert action.control_ids == (LOCAL, PUBLIC)
    assert action.payload == {"publicNetworkAccess": "Disabled", "disableLocalAuth": True}
    assert [pf.action for pf in result.decisions] == [action, action]
    assert len(remediator.calls) == 1


def test_enforce_and_dry_run_in_one_group_split_into_two_actions() -> None:
    remediator = FakeRemediator()
    base = baseline(Mode.ENFORCE, controls={LOCAL: Mode.DRY_RUN})
    result = run([finding(control=PUBLIC), finding(control=LOCAL)], base, remediators=[remediator])
    (enforced,) = result.enforce
    (dry,) = result.dry_run
    assert enforced.control_ids == (PUBLIC,)
    assert dry.control_ids == (LOCAL,)
    by_control = {pf.finding.control_id: (pf.decision, pf.action) for pf in result.decisions}
    assert by_control == {PUBLIC: (Decision.ENFORCE, enforced), LOCAL: (Decision.DRY_RUN, dry)}
    assert len(remediator.calls) == 2


def test_different_kinds_on_one_account_are_separate_actions() -> None:
    patch, roles = FakeRemediator("account-patch", (PUBLIC,)), FakeRemediator("role-delete", (ROLES,))
    result = run([finding(control=PUBLIC), finding(control=ROLES)], remediators=[patch, roles])
    assert sorted(a.kind for a in result.enforce) == ["account-patch", "role-delete"]


def test_first_matching_remediator_wins() -> None:
    first, second = FakeRemediator("first"), FakeRemediator("second")
    result = run([finding()], remediators=[first, second])
    assert [a.kind for a in result.enforce] == ["first"]
    assert second.calls == []


# -- limits --------------------------------------------------------------------------------------------------


def capped(n: int) -> Baseline:
    return baseline(limits=Limits(max_actions_per_run=n, cooldown=timedelta(seconds=60), max_attempts=5))


def test_cap_counts_actions_not_findings() -> None:
    findings = [finding(r, c) for r in (A, B, C) for c in (PUBLIC, LOCAL)]
    result = run(findings, capped(2))
    assert [a.resource_id for a in result.enforce] == [A, B]
    by_resource: dict[str, set[Decision]] = {}
    for pf in result.decisions:
        by_resource.setdefault(pf.finding.resource_id, set()).add(pf.decision)
    assert by_resource == {A: {Decision.ENFORCE}, B: {Decision.ENFORCE}, C: {Decision.BLOCKED}}
    blocked = [pf for pf in result.decisions if pf.decision is Decision.BLOCKED]
    assert all("per-run cap of 2 actions reached" in pf.reason for pf in blocked)
    assert all(pf.action is not None and pf.action.resource_id == C for pf in blocked)  # what it would have done


@pytest.mark.parametrize(("used", "enforced"), [(0, 2), (1, 1), (2, 0), (5, 0)])
def test_cap_honours_actions_used_earlier_in_the_run(used: int, enforced: int) -> None:
    result = run([finding(A), finding(B), finding(C)], capped(2), actions_used=used)
    assert len(result.enforce) == enforced
    assert sum(pf.decision is Decision.BLOCKED for pf in result.decisions) == 3 - enforced


def test_dry_run_actions_do_not_spend_the_cap() -> None:
    base = dataclasses.replace(capped(1), mode=Mode.DRY_RUN)
    result = run([finding(A), finding(B)], base, actions_used=1)
    assert len(result.dry_run) == 2
    assert all(pf.decision is Decision.DRY_RUN for pf in result.decisions)


@pytest.mark.parametrize(
    ("ago", "decision"),
    [(timedelta(seconds=30), Decision.BLOCKED), (timedelta(seconds=60), Decision.ENFORCE)],
)
def test_cool_down(ago: timedelta, decision: Decision) -> None:
    history = {normalize_id(A): RemediationHistory(attempts_in_window=1, last_attempt=NOW - ago)}
    result = run([finding(A.upper())], history=history)
    (pf,) = result.decisions
    assert pf.decision is decision
    if decision is Decision.BLOCKED:
        assert pf.reason.endswith("cool-down: last action at 2026-03-01T11:59:30+00:00, less than 60s ago")
        assert result.cooldown_until == NOW + timedelta(seconds=30)  # when a redelivery may act
    else:
        assert result.cooldown_until is None


def test_attempt_cap_sets_no_cool_down_end() -> None:
    base = baseline(limits=Limits(max_actions_per_run=10, cooldown=timedelta(0), max_attempts=1))
    history = {normalize_id(A): RemediationHistory(attempts_in_window=1, last_attempt=NOW)}
    result = run([finding()], base, history=history)
    assert result.decisions[0].decision is Decision.BLOCKED and result.cooldown_until is None


def test_zero_cool_down_never_blocks() -> None:
    base = baseline(limits=Limits(max_actions_per_run=10, cooldown=timedelta(0), max_attempts=5))
    history = {normalize_id(A): RemediationHistory(attempts_in_window=1, last_attempt=NOW)}
    (pf,) = run([finding()], base, history=history).decisions
    assert pf.decision is Decision.ENFORCE


@pytest.mark.parametrize(("attempts", "decision"), [(4, Decision.ENFORCE), (5, Decision.BLOCKED)])
def test_attempt_cap_hands_to_a_human(attempts: int, decision: Decision) -> None:
    history = {normalize_id(A): RemediationHistory(attempts, NOW - timedelta(hours=1))}
    (pf,) = run([finding()], history=history).decisions
    assert pf.decision is decision
    if decision is Decision.BLOCKED:
        assert pf.reason.endswith("handed to a human: 5 attempts within 24h")


def test_actions_planned_in_this_run_count_as_attempts() -> None:
    base = baseline(limits=Limits(max_actions_per_run=10, cooldown=timedelta(0), max_attempts=1))
    patch, roles = FakeRemediator("account-patch", (PUBLIC,)), FakeRemediator("role-delete", (ROLES,))
    result = run([finding(control=PUBLIC), finding(control=ROLES)], base, remediators=[patch, roles])
    assert [pf.decision for pf in result.decisions] == [Decision.ENFORCE, Decision.BLOCKED]


def test_limits_apply_in_order_cool_down_first() -> None:
    history = {normalize_id(A): RemediationHistory(99, NOW - timedelta(seconds=1))}
    (pf,) = run([finding()], capped(1), history=history, actions_used=1).decisions
    assert "cool-down" in pf.reason


def test_blocked_resource_does_not_spend_the_cap() -> None:
    history = {normalize_id(A): RemediationHistory(99, NOW - timedelta(hours=2))}
    result = run([finding(A), finding(B)], capped(1), history=history)
    assert [pf.decision for pf in result.decisions] == [Decision.BLOCKED, Decision.ENFORCE]


def hourly(n: int, *, per_run: int = 10) -> Baseline:
    return baseline(
        limits=Limits(
            max_actions_per_run=per_run, max_actions_per_hour=n, cooldown=timedelta(seconds=60), max_attempts=5
        )
    )


@pytest.mark.parametrize(("recent", "enforced"), [(0, 2), (1, 2), (2, 1), (3, 0), (40, 0)])
def test_hourly_cap_counts_recent_actions_tenant_wide(recent: int, enforced: int) -> None:
    result = run([finding(A), finding(B)], hourly(3), recent_actions=recent)
    assert [a.resource_id for a in result.enforce] == [A, B][:enforced]
    blocked = [pf for pf in result.decisions if pf.decision is Decision.BLOCKED]
    assert len(blocked) == 2 - enforced
    assert all(pf.reason.endswith("tenant-wide cap of 3 actions per hour reached") for pf in blocked)
    assert all(pf.action is not None for pf in blocked)  # audited with what it would have changed
    assert result.cooldown_until is None


def test_hourly_cap_counts_actions_not_findings() -> None:
    findings = [finding(r, c) for r in (A, B, C) for c in (PUBLIC, LOCAL)]
    result = run(findings, hourly(5), recent_actions=3)  # room for two actions, six findings
    assert [a.resource_id for a in result.enforce] == [A, B]
    by_resource: dict[str, set[Decision]] = {}
    for pf in result.decisions:
        by_resource.setdefault(pf.finding.resource_id, set()).add(pf.decision)
    assert by_resource == {A: {Decision.ENFORCE}, B: {Decision.ENFORCE}, C: {Decision.BLOCKED}}


@pytest.mark.parametrize(
    ("used", "recent", "enforced", "reason"),
    [
        (0, 0, 2, ""),
        (1, 0, 1, "per-run cap of 2 actions reached"),  # the run is nearly spent, the hour is not
        (0, 3, 1, "tenant-wide cap of 4 actions per hour reached"),  # the hour is nearly spent, the run is not
        (1, 3, 1, "per-run cap of 2 actions reached"),  # both spent at once: the per-run cap is checked first
        (2, 4, 0, "per-run cap of 2 actions reached"),
        (0, 4, 0, "tenant-wide cap of 4 actions per hour reached"),
    ],
)
def test_hourly_cap_combined_with_actions_used(used: int, recent: int, enforced: int, reason: str) -> None:
    result = run([finding(A), finding(B), finding(C)], hourly(4, per_run=2), actions_used=used, recent_actions=recent)
    assert len(result.enforce) == enforced
    blocked = [pf for pf in result.decisions if pf.decision is Decision.BLOCKED]
    assert len(blocked) == 3 - enforced
    assert all(pf.reason.endswith(reason) for pf in blocked)


def test_hourly_cap_is_checked_after_cool_down_and_attempt_cap() -> None:
    history = {
        normalize_id(A): RemediationHistory(1, NOW - timedelta(seconds=1)),
        normalize_id(B): RemediationHistory(5, NOW - timedelta(hours=2)),
    }
    result = run([finding(A), finding(B), finding(C)], hourly(1), history=history, recent_actions=1)
    reasons = [pf.reason for pf in result.decisions]
    assert "cool-down" in reasons[0]
    assert "handed to a human" in reasons[1]
    assert reasons[2].endswith("tenant-wide cap of 1 actions per hour reached")


def test_hourly_cap_ignores_dry_run_and_is_not_spent_by_blocked_actions() -> None:
    base = dataclasses.replace(hourly(1), mode=Mode.DRY_RUN)
    result = run([finding(A), finding(B)], base, recent_actions=1)
    assert all(pf.decision is Decision.DRY_RUN for pf in result.decisions)
    history = {normalize_id(A): RemediationHistory(99, NOW - timedelta(hours=2))}
    result = run([finding(A), finding(B)], hourly(1), history=history)
    assert [pf.decision for pf in result.decisions] == [Decision.BLOCKED, Decision.ENFORCE]


def test_negative_recent_actions_are_refused() -> None:
    with pytest.raises(ValueError, match="recent_actions must be >= 0, got -1"):
        run([finding()], recent_actions=-1)


# -- determinism and input checks ----------------------------------------------------------------------------


def test_every_finding_gets_one_decision_in_stable_order() -> None:
    findings = [finding(r, c) for r in (C, A, B) for c in (OUTBOUND, PUBLIC, LOCAL)]
    result = run(findings)
    assert len(result.decisions) == len(findings)
    keys = [(normalize_id(pf.finding.resource_id), pf.finding.control_id) for pf in result.decisions]
    assert keys == sorted(keys)


def test_shuffled_input_gives_the_same_plan() -> None:
    base = baseline(
        controls={LOCAL: Mode.DRY_RUN, OUTBOUND: Mode.OFF},
        exemptions=[exempt(B, "*")],
        limits=Limits(max_actions_per_run=2, cooldown=timedelta(seconds=60), max_attempts=5),
    )
    findings = [finding(r, c) for r in (A, B, C, f"{PREFIX}/acct-d") for c in (PUBLIC, LOCAL, OUTBOUND, ROLES)]
    findings.append(finding(A.upper(), PUBLIC))  # same resource in another case
    history = {normalize_id(C): RemediationHistory(1, NOW - timedelta(seconds=5))}
    expected = run(findings, base, history=history)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = findings[:]
        rng.shuffle(shuffled)
        assert run(shuffled, base, history=history) == expected


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run([finding()], now=NOW.replace(tzinfo=None))


def test_duplicate_remediator_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        run([finding()], remediators=[FakeRemediator(), FakeRemediator()])


def test_unknown_control_id_in_a_finding_is_a_bug() -> None:
    with pytest.raises(KeyError):
        run([finding(control="network.public_access")])


def test_no_findings_no_plan() -> None:
    assert run([]) == Plan(decisions=(), enforce=(), dry_run=())

"""The planner: every decision path, mode precedence, exemptions and expiry, merging, limits, determinism."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from remediators.account_patch import AccountPatch
from remediators.delete_training_file import DeleteTrainingFile
from remediators.regenerate_key import RegenerateKey
from warden.baseline import Baseline, ControlConfig, parse_baseline
from warden.model import (
    Action,
    Decision,
    Exemption,
    Finding,
    Limits,
    Mode,
    Plan,
    RemediationHistory,
    normalize_id,
)
from warden.planner import effective_mode, merge_steps, plan
from warden.registry import control
from warden.steps import Step

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SUB = "11111111-2222-3333-4444-555555555555"
PREFIX = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts"
A, B, C = (f"{PREFIX}/{name}" for name in ("acct-a", "acct-b", "acct-c"))
PUBLIC, LOCAL = "network.public-access", "identity.local-auth"


def finding(
    resource: str = A, control: str = PUBLIC, *, fix: tuple[Step, ...] | None = None, continues: bool = False
) -> Finding:
    prop = {PUBLIC: "publicNetworkAccess", LOCAL: "disableLocalAuth"}[control]
    value = {PUBLIC: "Disabled"}.get(control, True)
    steps: tuple[Step, ...] = (AccountPatch(resource, {prop: value}, {prop: None}, '"e1"'),)
    if control == LOCAL:
        steps += (RegenerateKey(resource, "Key1"), RegenerateKey(resource, "Key2"))
    return Finding(
        control_id=control,
        resource_id=resource,
        summary=f"{control} drift",
        observed={prop: None},
        expected={prop: value},
        fix=steps if fix is None else fix,
        continues=continues,
    )


def baseline(
    mode: Mode = Mode.ENFORCE,
    *,
    controls: Mapping[str, Mode | None] | None = None,
    exemptions: Sequence[Exemption] = (),
    limits: Limits | None = None,
) -> Baseline:
    """Both controls listed (a control not listed is off), each in the top-level mode unless `controls` says."""
    modes: dict[str, Mode | None] = {PUBLIC: None, LOCAL: None, **(controls or {})}
    configs = {cid: ControlConfig(mode=m, params=control(cid).default_params()) for cid, m in modes.items()}
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
    history: Mapping[str, RemediationHistory] | None = None,
    actions_used: int = 0,
    recent_actions: int = 0,
    mode_override: Mode | None = None,
    now: datetime = NOW,
) -> Plan:
    return plan(
        findings,
        baseline=base or baseline(),
        now=now,
        history=history or {},
        actions_used=actions_used,
        recent_actions=recent_actions,
        mode_override=mode_override,
    )


def patched(action: Action | None) -> dict[str, object]:
    """The properties of the action's account PATCH."""
    assert action is not None
    return {k: v for s in action.steps if isinstance(s, AccountPatch) for k, v in s.properties.items()}


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
    assert patched(pf.action) == {"publicNetworkAccess": "Disabled"}
    assert "enforce" in pf.reason


def test_off_control_is_not_planned() -> None:
    result = run([finding()], baseline(controls={PUBLIC: Mode.OFF}))
    (pf,) = result.decisions
    assert pf.decision is Decision.OFF
    assert pf.action is None
    assert "controls.network.public-access.mode" in pf.reason
    assert result.enforce == result.dry_run == ()


def test_a_control_not_listed_is_off() -> None:
    base = dataclasses.replace(baseline(), controls=MappingProxyType({PUBLIC: baseline().controls[PUBLIC]}))
    (pf,) = run([finding(control=LOCAL)], base).decisions
    assert pf.decision is Decision.OFF
    assert "identity.local-auth is not listed under controls" in pf.reason


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
    assert "would apply account.patch, nothing changed" in pf.reason


def test_empty_fix_means_no_remediation() -> None:
    result = run([finding(fix=())])
    (pf,) = result.decisions
    assert pf.decision is Decision.NO_REMEDIATOR
    assert "a human must fix it" in pf.reason
    assert result.enforce == ()


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
    ex = exempt()
    result = run([finding()], baseline(exemptions=[ex]))
    (pf,) = result.decisions
    assert pf.decision is Decision.EXEMPT
    assert pf.exemption == ex
    assert pf.action is None
    assert "alice@contoso.com" in pf.reason and "vendor needs it" in pf.reason
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
        f"version: 1\nmode: enforce\nscope:\n  subscriptions: [{SUB}]\n"
        "controls:\n  network.public-access:\nexemptions:\n"
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
        f"version: 1\nmode: enforce\nscope:\n  subscriptions: [{SUB}]\n"
        "controls:\n  network.public-access:\nexemptions:\n"
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


def test_two_drifts_on_one_account_merge_into_one_action_with_one_patch() -> None:
    upper_case_b = A.replace("resourceGroups", "resourcegroups").upper()
    result = run([finding(A, PUBLIC), finding(upper_case_b, LOCAL)])
    (action,) = result.enforce
    assert action.control_ids == (LOCAL, PUBLIC)
    # One PATCH carrying both properties, then the two regenerations: never a second PATCH (and its 412).
    assert [s.kind for s in action.steps] == ["account.patch", "account.regenerate-key", "account.regenerate-key"]
    assert patched(action) == {"publicNetworkAccess": "Disabled", "disableLocalAuth": True}
    assert action.serves == {PUBLIC: (0,), LOCAL: (0, 1, 2)}
    assert [pf.action for pf in result.decisions] == [action, action]


def test_enforce_and_dry_run_on_one_account_split_into_two_actions() -> None:
    base = baseline(Mode.ENFORCE, controls={LOCAL: Mode.DRY_RUN})
    result = run([finding(control=PUBLIC), finding(control=LOCAL)], base)
    (enforced,) = result.enforce
    (dry,) = result.dry_run
    assert enforced.control_ids == (PUBLIC,)
    assert dry.control_ids == (LOCAL,)
    assert [s.kind for s in dry.steps] == ["account.patch", "account.regenerate-key", "account.regenerate-key"]
    by_control = {pf.finding.control_id: (pf.decision, pf.action) for pf in result.decisions}
    assert by_control == {PUBLIC: (Decision.ENFORCE, enforced), LOCAL: (Decision.DRY_RUN, dry)}


def test_steps_are_ordered_equal_steps_kept_once_and_contradictions_refused() -> None:
    key1 = RegenerateKey(A, "Key1")
    steps, serves = merge_steps([finding(fix=(key1,)), finding(control=LOCAL)])
    assert steps == (
        AccountPatch(A, {"disableLocalAuth": True}, {"disableLocalAuth": None}, '"e1"'),
        key1,
        RegenerateKey(A, "Key2"),
    )
    assert serves == {PUBLIC: (1,), LOCAL: (0, 1, 2)}
    with pytest.raises(ValueError, match="disagree"):
        merge_steps([finding(), finding(fix=(AccountPatch(A, {"publicNetworkAccess": "Enabled"}),))])


def test_contradicting_fixes_go_to_a_human() -> None:
    opposite = finding(control=LOCAL, fix=(AccountPatch(A, {"publicNetworkAccess": "Enabled"}),))
    result = run([finding(), opposite])
    assert [pf.decision for pf in result.decisions] == [Decision.NO_REMEDIATOR, Decision.NO_REMEDIATOR]
    assert "contradict" in result.decisions[0].reason
    assert result.enforce == ()


def test_a_continuation_passes_no_limit_and_spends_none() -> None:
    history = {normalize_id(A): RemediationHistory(99, NOW - timedelta(seconds=1))}  # cooling down, capped
    rest = finding(control=LOCAL, fix=(RegenerateKey(A, "Key2"),), continues=True)
    result = run([rest, finding(B)], capped(1), history=history, recent_actions=10_000)
    assert (result.decisions[0].finding.resource_id, result.decisions[0].decision) == (A, Decision.ENFORCE)
    assert result.enforce[0].continues and result.enforce[0].steps == (RegenerateKey(A, "Key2"),)


def test_a_continuation_leaves_the_caps_to_fresh_actions() -> None:
    rest = finding(control=LOCAL, fix=(RegenerateKey(A, "Key2"),), continues=True)
    result = run([rest, finding(B)], capped(1))  # a per-run cap of one action
    assert [pf.decision for pf in result.decisions] == [Decision.ENFORCE, Decision.ENFORCE]
    hourly = baseline(limits=Limits(max_actions_per_hour=1, cooldown=timedelta(0)))
    assert [pf.decision for pf in run([rest, finding(B)], hourly).decisions] == [Decision.ENFORCE] * 2


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
    findings = [finding(r, c) for r in (C, A, B) for c in (LOCAL, PUBLIC)]
    result = run(findings)
    assert len(result.decisions) == len(findings)
    keys = [(normalize_id(pf.finding.resource_id), pf.finding.control_id) for pf in result.decisions]
    assert keys == sorted(keys)


def test_shuffled_input_gives_the_same_plan() -> None:
    base = baseline(
        controls={LOCAL: Mode.DRY_RUN},
        exemptions=[exempt(B, "*")],
        limits=Limits(max_actions_per_run=2, cooldown=timedelta(seconds=60), max_attempts=5),
    )
    findings = [finding(r, c) for r in (A, B, C, f"{PREFIX}/acct-d") for c in (PUBLIC, LOCAL)]
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


def test_unknown_control_id_in_a_finding_is_a_bug() -> None:
    with pytest.raises(KeyError):
        run([dataclasses.replace(finding(), control_id="network.public_access")])


def test_no_findings_no_plan() -> None:
    assert run([]) == Plan(decisions=(), enforce=(), dry_run=())


TRAINING = "data.training-files"


def file_finding(file_id: str, *, exemption: Exemption | None = None) -> Finding:
    step = DeleteTrainingFile.of("https://acct-a.openai.azure.com/", file_id, f"{file_id}.jsonl")
    return Finding(
        TRAINING, A, f"leftover {file_id}", {"fileId": file_id}, {"deleted": True}, (step,), exemption=exemption
    )


def test_each_file_deletion_is_an_action_of_its_own_and_counts_against_the_per_run_cap() -> None:
    base = baseline(controls={TRAINING: None}, limits=Limits(max_actions_per_run=2))
    result = run([file_finding(f"file-{i}") for i in range(3)], base)
    assert [len(a.steps) for a in result.enforce] == [1, 1]
    decisions = [pf.decision for pf in result.decisions]
    assert decisions.count(Decision.ENFORCE) == 2 and decisions.count(Decision.BLOCKED) == 1
    [blocked] = [pf for pf in result.decisions if pf.decision is Decision.BLOCKED]
    assert "per-run cap of 2 actions reached" in blocked.reason


def test_account_fixes_still_merge_beside_file_deletions() -> None:
    base = baseline(controls={TRAINING: None})
    result = run([finding(A), finding(A, LOCAL), file_finding("file-1")], base)
    assert sorted(len(a.steps) for a in result.enforce) == [1, 3]  # one PATCH + two keys; one deletion


def test_an_exemption_the_finding_carries_is_weighed_like_a_baseline_one() -> None:
    base = baseline(controls={TRAINING: None})
    active = Exemption("filename:golden-*", TRAINING, "reference set", "ann@contoso.com", NOW + timedelta(days=1))
    expired = dataclasses.replace(active, expires=NOW - timedelta(days=1))
    [exempt] = run([file_finding("file-1", exemption=active)], base).decisions
    assert exempt.decision is Decision.EXEMPT and "owner ann@contoso.com" in exempt.reason
    [again] = run([file_finding("file-1", exemption=expired)], base).decisions
    assert again.decision is Decision.ENFORCE and again.reason.startswith("exemption expired")

"""encryption.cmk-freshness detector: pure checks on snapshots built in code."""

from __future__ import annotations

import pytest

from detectors.encryption_cmk_freshness import CONTROL, Params
from remediators.key_version import PointAtKeyVersion
from remediators.rotate_key import RotateKey
from remediators.rotation_policy import PutRotationPolicy
from tests.detectors.given import RID, VAULT_URI, Given, cmk, key, snapshot, version
from warden.vault_model import RotationPolicy

KEY_ID = "https://kv-cmk.vault.azure.net/keys/cmk"
DEFAULT_POLICY = RotationPolicy(notify_before_expiry="P30D", explicit=False)


def detect(encryption: object, *keys: object, params: Params | None = None) -> list:  # type: ignore[type-arg]
    params = params or Params()
    facts = Given(snapshot(encryption=encryption), keys={"cmk": keys[0]} if keys else {})  # type: ignore[dict-item]
    return CONTROL.detect(facts, params)


def test_a_young_key_with_a_rotation_policy_is_fresh() -> None:
    assert detect(cmk(), key(version("v1", 10, expires_in=200))) == []


def test_no_cmk_is_not_this_controls_finding() -> None:
    assert CONTROL.detect(Given(snapshot()), Params()) == []


def test_a_fresh_key_without_a_policy_gets_only_the_policy() -> None:
    [finding] = detect(cmk(), key(version("v1", 10), policy=DEFAULT_POLICY))
    assert finding.fix == (
        PutRotationPolicy(KEY_ID, VAULT_URI, "cmk", 180, 30, 240, "none (Key Vault's default: notify only)"),
    )


def test_a_policy_rotating_later_than_the_max_age_is_replaced() -> None:
    late = RotationPolicy(rotate_after_create="P365D")
    [finding] = detect(cmk(), key(version("v1", 10), policy=late))
    assert [s.kind for s in finding.fix] == ["key.rotation-policy"]


def test_a_stale_pinned_key_without_policy_gets_policy_rotation_and_repoint_in_that_order() -> None:
    [finding] = detect(cmk(version="v1"), key(version("v1", 200), policy=DEFAULT_POLICY))
    assert [type(s) for s in finding.fix] == [PutRotationPolicy, RotateKey, PointAtKeyVersion]
    rotate = finding.fix[1]
    assert isinstance(rotate, RotateKey) and rotate.etag == "v1"
    assert "older than 180 days" in finding.summary


def test_a_stale_versionless_key_is_rotated_and_needs_no_repoint() -> None:
    [finding] = detect(cmk(), key(version("v1", 200)))
    assert [s.kind for s in finding.fix] == ["key.rotate"]


def test_a_pinned_stale_version_when_the_newest_is_fresh_is_only_repointed() -> None:
    [finding] = detect(cmk(version="v1"), key(version("v2", 5), in_use=version("v1", 200)))
    [step] = finding.fix
    assert isinstance(step, PointAtKeyVersion) and step.target == RID and not step.versionless


def test_the_baseline_may_ask_for_versionless() -> None:
    [finding] = detect(
        cmk(version="v1"), key(version("v2", 5), in_use=version("v1", 200)), params=Params(versionless=True)
    )
    [step] = finding.fix
    assert isinstance(step, PointAtKeyVersion) and step.versionless


@pytest.mark.parametrize(
    ("in_use", "why"),
    [
        (version("v1", 1, enabled=False), "disabled"),
        (version("v1", 1, expires_in=-1), "expired"),
        (version("v1", 1, expires_in=29), "within 30 days"),
    ],
    ids=["disabled", "expired", "near-expiry"],
)
def test_disabled_expired_and_near_expiry_versions_are_rotated(in_use: object, why: str) -> None:
    [finding] = detect(cmk(), key(in_use))  # type: ignore[arg-type]
    assert why in finding.summary and [s.kind for s in finding.fix] == ["key.rotate"]


def test_one_day_before_the_max_age_is_fresh_and_one_day_after_is_not() -> None:
    assert detect(cmk(), key(version("v1", 179))) == []
    assert detect(cmk(), key(version("v1", 181))) != []


def test_a_missing_key_is_handed_to_a_human() -> None:
    [finding] = detect(cmk())
    assert finding.fix == () and "not found" in finding.summary

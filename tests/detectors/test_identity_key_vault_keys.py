"""identity.key-vault-keys detector: pure checks on snapshots built in code."""

from __future__ import annotations

from datetime import timedelta

from detectors.identity_key_vault_keys import CONTROL, Params
from remediators.key_to_secret import ACTIVE_TAG, KeyToSecret
from tests.detectors.given import NOW, RID, Given, snapshot, vault
from warden.params_vault import KeySecret
from warden.vault_model import SecretSnapshot

MAPPED = Params(secrets=(KeySecret(RID[:-1] + "*", "kv-cmk", "aoai-keys"),), max_age_days=90)
EXEMPT = frozenset({"identity.local-auth"})


def secret(age_days: float, active: str | None) -> SecretSnapshot:
    tags = {ACTIVE_TAG: active} if active else {}
    return SecretSnapshot(
        "https://kv-cmk.vault.azure.net/", "aoai-keys", "s1", True, NOW - timedelta(days=age_days), tags=tags
    )


def detect(
    *, secrets: dict[str, SecretSnapshot] | None = None, exempt: frozenset[str] = EXEMPT, **account: object
) -> list:  # type: ignore[type-arg]
    facts = Given(
        snapshot(disable_local_auth=False, **account),
        vaults={"kv-cmk": vault()},
        secrets=secrets or {},
        exempt_from=exempt,
    )
    return CONTROL.detect(facts, MAPPED)


def test_only_accounts_exempt_from_local_auth_are_judged() -> None:
    assert detect(exempt=frozenset()) == []
    facts = Given(snapshot(disable_local_auth=True), exempt_from=EXEMPT)
    assert CONTROL.detect(facts, MAPPED) == []


def test_a_young_secret_marked_with_its_key_is_compliant() -> None:
    assert detect(secrets={"aoai-keys": secret(10, "Key1")}) == []


def test_an_old_secret_rotates_the_other_key_into_it() -> None:
    [finding] = detect(secrets={"aoai-keys": secret(91, "Key1")})
    [step] = finding.fix
    assert isinstance(step, KeyToSecret)
    assert (step.key_name, step.secret, step.expires) == ("Key2", "aoai-keys", NOW + timedelta(days=180))
    [finding] = detect(secrets={"aoai-keys": secret(91, "Key2")})
    assert finding.fix[0].key_name == "Key1"  # type: ignore[attr-defined]


def test_no_secret_yet_stores_key2_first() -> None:
    [finding] = detect()
    assert finding.fix[0].key_name == "Key2" and "not held in Key Vault yet" in finding.summary  # type: ignore[attr-defined]


def test_an_untagged_secret_is_handed_to_a_human() -> None:
    [finding] = detect(secrets={"aoai-keys": secret(1, None)})
    assert finding.fix == () and ACTIVE_TAG in finding.summary


def test_an_unmapped_account_is_handed_to_a_human() -> None:
    facts = Given(snapshot(disable_local_auth=False), exempt_from=EXEMPT)
    [finding] = CONTROL.detect(facts, Params())
    assert finding.fix == () and "no secret is mapped" in finding.summary

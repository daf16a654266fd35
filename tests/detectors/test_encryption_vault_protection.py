"""encryption.vault-protection detector: pure checks on snapshots built in code."""

from __future__ import annotations

from detectors.encryption_vault_protection import CONTROL, Params
from remediators.vault_patch import VaultPatch
from tests.detectors.given import VAULT_ID, Given, cmk, snapshot, vault


def test_a_protected_vault_is_compliant() -> None:
    assert CONTROL.detect(Given(snapshot(encryption=cmk()), vaults={"kv-cmk": vault()}), Params()) == []


def test_an_account_without_cmk_has_no_vault_to_protect() -> None:
    assert CONTROL.detect(Given(snapshot()), Params()) == []


def test_missing_purge_protection_gets_one_patch_marked_irreversible() -> None:
    facts = Given(snapshot(encryption=cmk()), vaults={"kv-cmk": vault(purge=None)})
    [finding] = CONTROL.detect(facts, Params())
    assert finding.fix == (VaultPatch(VAULT_ID, {"enablePurgeProtection": True}, {"enablePurgeProtection": None}),)
    assert finding.fix[0].change() == {"enablePurgeProtection": {"before": None, "after": True, "irreversible": True}}
    assert "irreversible" in finding.summary


def test_soft_delete_off_is_turned_on_too() -> None:
    facts = Given(snapshot(encryption=cmk()), vaults={"kv-cmk": vault(purge=False, soft=False)})
    [finding] = CONTROL.detect(facts, Params())
    [step] = finding.fix
    assert isinstance(step, VaultPatch)
    assert step.properties == {"enableSoftDelete": True, "enablePurgeProtection": True}


def test_a_vault_outside_the_scope_is_handed_to_a_human() -> None:
    [finding] = CONTROL.detect(Given(snapshot(encryption=cmk())), Params())
    assert finding.fix == () and "not in the subscriptions in scope" in finding.summary

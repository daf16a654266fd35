"""encryption.cmk detector: pure checks on snapshots built in code."""

from __future__ import annotations

import pytest

from detectors.encryption_cmk import CONTROL, Params
from remediators.account_patch import AccountPatch
from tests.detectors.given import RID, Given, cmk, key, snapshot, system_identity, vault, version
from warden.model import AccountIdentity, Encryption
from warden.vault_model import KeyAccess

REQUIRED = Params(required=True, approved_vaults=("kv-cmk",), vault="kv-cmk", key="cmk")


def given(**account: object) -> Given:
    return Given(
        snapshot(identity=system_identity(), **account), vaults={"kv-cmk": vault()}, keys={"cmk": key(version("v1", 1))}
    )


def test_not_required_means_no_finding_even_with_microsoft_managed_keys() -> None:
    assert CONTROL.detect(given(), Params()) == []
    assert CONTROL.detect(given(), Params(required=("/subscriptions/other/*",))) == []


def test_a_cmk_in_an_approved_vault_is_compliant() -> None:
    assert CONTROL.detect(given(encryption=cmk()), REQUIRED) == []


@pytest.mark.parametrize("required", [True, (f"{RID[:-2]}*",)], ids=["everywhere", "by-pattern"])
def test_microsoft_managed_keys_are_fixed_by_one_patch_to_the_baselines_key_versionless(required: object) -> None:
    params = Params(required=required, vault="kv-cmk", key="cmk")  # type: ignore[arg-type]
    [finding] = CONTROL.detect(given(encryption=Encryption("Microsoft.CognitiveServices")), params)
    assert finding.fix == (
        AccountPatch(
            RID,
            {
                "encryption": {
                    "keySource": "Microsoft.KeyVault",
                    "keyVaultProperties": {"keyName": "cmk", "keyVaultUri": "https://kv-cmk.vault.azure.net/"},
                }
            },
            {"encryption": {"keySource": "Microsoft.CognitiveServices"}},
            '"e1"',
        ),
    )


def test_a_key_in_an_unapproved_vault_is_a_finding() -> None:
    [finding] = CONTROL.detect(given(encryption=cmk(uri="https://kv-rogue.vault.azure.net/")), REQUIRED)
    assert "kv-cmk" in finding.summary and len(finding.fix) == 1


def test_without_a_default_key_a_human_must_choose_one() -> None:
    [finding] = CONTROL.detect(given(), Params(required=True))
    assert finding.fix == () and "no default vault and key" in finding.summary


def test_an_identity_without_access_is_handed_to_a_human_naming_the_missing_grant() -> None:
    missing = "role Key Vault Crypto Service Encryption User (e147488a-f6f5-4113-8e2d-b22465e65bf6) for principal p"
    facts = Given(
        snapshot(identity=system_identity()),
        vaults={"kv-cmk": vault()},
        keys={"cmk": key(version("v1", 1))},
        access=KeyAccess(False, missing=missing),
    )
    [finding] = CONTROL.detect(facts, REQUIRED)
    assert finding.fix == () and missing in finding.summary


def test_an_account_without_a_managed_identity_cannot_use_a_key() -> None:
    facts = Given(snapshot(), vaults={"kv-cmk": vault()}, keys={"cmk": key(version("v1", 1))})
    [finding] = CONTROL.detect(facts, REQUIRED)
    assert finding.fix == () and "no managed identity" in finding.summary


def test_the_only_user_assigned_identity_is_named_by_client_id() -> None:
    uai = AccountIdentity("UserAssigned", None, {"client-1": "principal-1"})
    facts = Given(snapshot(identity=uai), vaults={"kv-cmk": vault()}, keys={"cmk": key(version("v1", 1))})
    [finding] = CONTROL.detect(facts, REQUIRED)
    [patch] = finding.fix
    assert isinstance(patch, AccountPatch)
    assert patch.properties["encryption"]["keyVaultProperties"]["identityClientId"] == "client-1"  # type: ignore[index]


def test_a_missing_key_or_vault_is_a_finding_without_a_fix() -> None:
    facts = Given(snapshot(identity=system_identity()), vaults={"kv-cmk": vault()})
    [finding] = CONTROL.detect(facts, REQUIRED)
    assert finding.fix == () and "not found" in finding.summary

"""The Key Vault step kinds (vault.patch, key.rotation-policy, key.rotate, account.key-version,
account.key-to-secret): applied through recording ports, their audit changes and stored forms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from remediators.key_to_secret import ACTIVE_TAG, KeyToSecret
from remediators.key_version import PointAtKeyVersion
from remediators.rotate_key import RotateKey
from remediators.rotation_policy import PutRotationPolicy
from remediators.vault_patch import VaultPatch
from tests.remediators.test_account_patch import RID, RecordingAccounts
from warden.model import Encryption, Json
from warden.ports import Ports
from warden.registry import step_from_json
from warden.vault_model import KeySnapshot, KeyVersion, RotationPolicy, SecretText

URI = "https://kv-cmk.vault.azure.net/"
KEY_ID = URI + "keys/cmk"
VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cmk"
WHEN = datetime(2027, 6, 1, tzinfo=UTC)
KEY_VALUE = "f" * 32


class RecordingVaults:
    """The VaultPort as a test double: records calls; the newest key version is `latest`."""

    def __init__(self, latest: str = "v2") -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.latest = latest

    def patch_vault(self, resource_id: str, properties: Mapping[str, Json]) -> None:
        self.calls.append(("patch-vault", resource_id, dict(properties)))

    def read_key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot:
        self.calls.append(("read-key", vault_uri, name))
        newest = KeyVersion(self.latest, True, WHEN)
        return KeySnapshot(vault_uri, name, newest, newest, None)

    def rotate_key(self, vault_uri: str, name: str, *, if_latest: str | None = None) -> str:
        self.calls.append(("rotate", vault_uri, name, if_latest))
        return "v3"

    def put_rotation_policy(self, vault_uri: str, name: str, policy: RotationPolicy) -> None:
        self.calls.append(("policy", vault_uri, name, policy))

    def set_secret(self, vault_uri: str, name: str, value: SecretText, **options: Any) -> str:
        self.calls.append(("set-secret", vault_uri, name, value, options))
        return "s2"


class KeyValueAccounts(RecordingAccounts):
    def regenerate_key_value(self, resource_id: str, key_name: str) -> SecretText:
        self.calls.append(("regenerate-value", resource_id, key_name))
        return SecretText(KEY_VALUE)


def test_vault_patch_sends_only_its_properties_and_says_what_is_irreversible() -> None:
    vaults = RecordingVaults()
    step = VaultPatch(VAULT, {"enablePurgeProtection": True}, {"enablePurgeProtection": False})
    assert step.apply(Ports(RecordingAccounts(), vaults), None) is None
    assert vaults.calls == [("patch-vault", VAULT, {"enablePurgeProtection": True})]
    assert step.change() == {"enablePurgeProtection": {"before": False, "after": True, "irreversible": True}}
    merged = step.merge(VaultPatch(VAULT, {"enableSoftDelete": True}))
    assert merged.properties == {"enablePurgeProtection": True, "enableSoftDelete": True}
    with pytest.raises(ValueError, match="enablePurgeProtection"):
        step.merge(VaultPatch(VAULT, {"enablePurgeProtection": False}))


def test_rotation_policy_rotates_at_the_max_age_and_expires_later() -> None:
    vaults = RecordingVaults()
    step = PutRotationPolicy(KEY_ID, URI, "cmk", 180, 30, 240, "none")
    step.apply(Ports(RecordingAccounts(), vaults), None)
    assert vaults.calls == [("policy", URI, "cmk", RotationPolicy("P180D", None, "P30D", "P240D"))]
    assert step.change()["rotationPolicy"] == {
        "before": "none",
        "after": "rotate after P180D, expire after P240D, notify P30D before expiry",
    }


def test_rotate_key_is_conditional_on_the_version_it_judged() -> None:
    vaults = RecordingVaults()
    step = RotateKey(KEY_ID, URI, "cmk", "v1")
    assert step.apply(Ports(RecordingAccounts(), vaults), step.etag) == "v3"
    assert vaults.calls == [("rotate", URI, "cmk", "v1")]
    assert RotateKey.from_json(step.to_json()).etag is None  # a stored step rotates unconditionally


@pytest.mark.parametrize(("versionless", "sent"), [(False, "v2"), (True, "")])
def test_key_version_points_at_the_newest_version_read_when_it_runs(versionless: bool, sent: str) -> None:
    accounts, vaults = RecordingAccounts(), RecordingVaults(latest="v2")
    before = Encryption("Microsoft.KeyVault", URI, "cmk", "v1")
    step = PointAtKeyVersion(RID, before, versionless, '"e1"')
    assert step.apply(Ports(accounts, vaults), '"e1"') == '"e2"'
    props = {"keyName": "cmk", "keyVaultUri": URI, "keyVersion": sent}
    assert accounts.calls == [
        ("patch", RID, {"encryption": {"keySource": "Microsoft.KeyVault", "keyVaultProperties": props}}, '"e1"')
    ]
    assert vaults.calls == ([] if versionless else [("read-key", URI, "cmk")])
    assert PointAtKeyVersion.from_json(step.to_json()) == PointAtKeyVersion(RID, before, versionless)


def test_key_to_secret_hands_the_value_over_hidden_and_never_stores_or_records_it() -> None:
    accounts, vaults = KeyValueAccounts(), RecordingVaults()
    step = KeyToSecret(RID, "Key2", URI, "aoai-keys", WHEN)
    assert step.apply(Ports(accounts, vaults), None) is None
    [regenerated] = accounts.calls
    [(_, uri, name, value, options)] = vaults.calls
    assert regenerated == ("regenerate-value", RID, "Key2") and (uri, name) == (URI, "aoai-keys")
    assert isinstance(value, SecretText) and value.reveal() == KEY_VALUE
    assert options["tags"][ACTIVE_TAG] == "Key2" and options["expires"] == WHEN
    shown = f"{value} {value!r} {step.change()} {step.to_json()}"
    assert KEY_VALUE not in shown
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(value)


def test_every_vault_step_comes_back_from_its_stored_form() -> None:
    steps = [
        VaultPatch(VAULT, {"enablePurgeProtection": True}),
        PutRotationPolicy(KEY_ID, URI, "cmk", 180, 30, 240),
        RotateKey(KEY_ID, URI, "cmk"),
        PointAtKeyVersion(RID, Encryption("Microsoft.KeyVault", URI, "cmk", "v1")),
        KeyToSecret(RID, "Key1", URI, "aoai-keys", WHEN),
    ]
    for step in steps:
        assert step_from_json(step.to_json()) == step

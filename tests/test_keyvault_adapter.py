"""warden's Key Vault adapter (KeyVaults, the VaultPort) against the emulator with the real SDK clients: the
exact requests it makes, what it maps, the errors it raises, and that no key or secret value is ever logged."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

from emulator import Emulator
from emulator.builders import vault, vault_id
from tests.keyvault_support import (
    NOW_UNIX,
    OTHER_SUB,
    SUB,
    forget_challenges,
    key_client,
    scenario,
    secret_client,
)
from warden.azure.clients import ClientFactory
from warden.azure.credentials import StaticTokenCredential
from warden.azure.keyvault import KeyVaults
from warden.errors import AzureError, PermissionDeniedError, ReplyLostError, ResourceGoneError, TransientError
from warden.ids import vault_parts
from warden.settings import RetryOptions
from warden.vault_model import AccessPolicy, RotationPolicy, SecretText

URI = "https://kv-cmk.vault.azure.net/"
VALUE = "account-key-value-that-must-never-show"
POLICY_VAULT = vault(
    "kv-policies",
    sub=OTHER_SUB,
    enableRbacAuthorization=False,
    enablePurgeProtection=True,
    accessPolicies=[
        {
            "tenantId": "00000000-0000-0000-0000-000000000000",
            "objectId": "oid-1",
            "permissions": {"keys": ["Get", "wrapKey", "UnwrapKey"], "secrets": ["get"], "certificates": []},
        }
    ],
)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(scenario(vault("kv-cmk"), POLICY_VAULT)) as running:
        yield running


@pytest.fixture
def vaults(emu: Emulator) -> KeyVaults:
    retry = RetryOptions(total=2, backoff_factor=0.01, backoff_max=0.05, max_retry_after=1)
    factory = ClientFactory(StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path, retry=retry)
    return KeyVaults(factory, vault_endpoint=emu.vault_endpoint)


def calls(emu: Emulator) -> list[tuple[str, str]]:
    """(method, path) of each request, the Key Vault challenge (401) left out."""
    return [(r.method, r.path) for r in emu.requests if r.status != 401]


def seed_key(emu: Emulator, name: str = "cmk", rotations: int = 0) -> list[str]:
    """A key made with the SDK, rotated a day apart; its versions, oldest first."""
    with key_client(emu) as client:
        versions = [client.create_rsa_key(name).properties.version]
        for _ in range(rotations):
            emu.clock.advance(86400)
            versions.append(client.rotate_key(name).properties.version)
    emu.clear_requests()
    return [str(v) for v in versions]


def test_find_vault_looks_through_the_subscriptions_in_order(emu: Emulator, vaults: KeyVaults) -> None:
    found = vaults.find_vault("KV-Policies", [SUB, OTHER_SUB])
    assert found is not None
    assert (found.resource_id, found.vault_uri) == (POLICY_VAULT["id"], "https://kv-policies.vault.azure.net/")
    assert (found.soft_delete, found.purge_protection, found.rbac_authorization) == (True, True, False)
    assert found.access_policies == (
        AccessPolicy("oid-1", frozenset({"get", "wrapkey", "unwrapkey"}), frozenset({"get"})),
    )
    assert [p for _, p in calls(emu)] == [
        f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults",
        f"/subscriptions/{OTHER_SUB}/providers/Microsoft.KeyVault/vaults",
    ]
    emu.clear_requests()
    assert vaults.find_vault("kv-cmk", [SUB, OTHER_SUB]) is not None
    assert len(calls(emu)) == 1  # found in the first subscription: the second is not asked
    assert vaults.find_vault("kv-nowhere", [SUB]) is None


def test_patch_vault_sends_only_the_given_properties(emu: Emulator, vaults: KeyVaults) -> None:
    vaults.patch_vault(vault_id("kv-cmk"), {"enablePurgeProtection": True})
    assert [(r.method, r.body) for r in emu.requests] == [("PATCH", {"properties": {"enablePurgeProtection": True}})]
    found = vaults.find_vault("kv-cmk", [SUB])
    assert found is not None and found.purge_protection is True
    with pytest.raises(AzureError) as refused:
        vaults.patch_vault(vault_id("kv-cmk"), {"enablePurgeProtection": False})
    assert (type(refused.value), refused.value.status, refused.value.code) == (AzureError, 400, "BadRequest")


def test_vault_ids_are_checked_before_any_call() -> None:
    assert vault_parts(f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-1/") == (
        SUB,
        "rg",
        "kv-1",
    )
    for bad in (f"{vault_id('kv-1')}/keys/k", vault_id("k"), vault_id("kv--1"), "/subscriptions/x/vaults/kv"):
        with pytest.raises(ValueError):
            vault_parts(bad)


def test_read_key_reads_newest_in_use_and_policy(emu: Emulator, vaults: KeyVaults) -> None:
    first, second = seed_key(emu, rotations=1)
    key = vaults.read_key(URI, "cmk", first)
    assert key is not None
    assert (key.latest.version, key.in_use.version, key.key_id) == (
        second,
        first,
        "https://kv-cmk.vault.azure.net/keys/cmk",
    )
    assert key.in_use.created == datetime.fromtimestamp(NOW_UNIX, UTC)
    assert key.latest.created == datetime.fromtimestamp(NOW_UNIX + 86400, UTC)
    assert key.rotation_policy == RotationPolicy(notify_before_expiry="P30D", explicit=False)  # the default
    assert calls(emu) == [
        ("GET", "/kv-cmk/keys/cmk/"),
        ("GET", f"/kv-cmk/keys/cmk/{first}"),
        ("GET", "/kv-cmk/keys/cmk/rotationpolicy"),
    ]
    emu.clear_requests()
    same = vaults.read_key(URI, "cmk", second)
    assert same is not None and same.in_use == same.latest
    assert len(calls(emu)) == 2  # the version in use is the newest: read once
    assert vaults.read_key(URI, "cmk", "0" * 32) is None
    assert vaults.read_key(URI, "nope") is None


def test_a_policy_that_cannot_be_read_is_none(emu: Emulator, vaults: KeyVaults) -> None:
    seed_key(emu)
    emu.add_fault("GET", "/rotationpolicy$", "server-error", status=403)
    key = vaults.read_key(URI, "cmk")
    assert key is not None and key.rotation_policy is None


def test_put_rotation_policy_round_trips(emu: Emulator, vaults: KeyVaults) -> None:
    seed_key(emu)
    policy = RotationPolicy(rotate_after_create="P90D", notify_before_expiry="P30D", expiry_time="P1Y")
    vaults.put_rotation_policy(URI, "cmk", policy)
    key = vaults.read_key(URI, "cmk")
    assert key is not None and key.rotation_policy == policy
    with pytest.raises(AzureError) as refused:
        vaults.put_rotation_policy(URI, "cmk", RotationPolicy(rotate_after_create="P1D"))
    assert (refused.value.status, refused.value.code) == (400, "BadParameter")


def test_rotate_if_latest_rotates_only_the_version_judged(emu: Emulator, vaults: KeyVaults) -> None:
    (first,) = seed_key(emu)
    new = vaults.rotate_key(URI, "cmk", if_latest=first)
    assert new is not None and new != first
    assert calls(emu) == [("GET", "/kv-cmk/keys/cmk/"), ("POST", "/kv-cmk/keys/cmk/rotate")]
    emu.clear_requests()
    assert vaults.rotate_key(URI, "cmk", if_latest=first) is None  # someone (we) rotated meanwhile
    assert calls(emu) == [("GET", "/kv-cmk/keys/cmk/")]
    emu.clear_requests()
    assert vaults.rotate_key(URI, "cmk") not in (None, first, new)
    assert calls(emu) == [("POST", "/kv-cmk/keys/cmk/rotate")]
    with pytest.raises(ResourceGoneError):
        vaults.rotate_key(URI, "nope", if_latest=first)


def test_read_secret_lists_metadata_and_never_reads_a_value(emu: Emulator, vaults: KeyVaults) -> None:
    with secret_client(emu) as client:
        client.set_secret("aoai-key", "old", content_type="text/plain")
        emu.clock.advance(3600)
        newest = client.set_secret("aoai-key", "new", tags={"warden-active": "Key1"}).properties.version
    emu.clear_requests()
    found = vaults.read_secret(URI, "aoai-key")
    assert found is not None
    assert (found.version, found.tags, found.content_type) == (newest, {"warden-active": "Key1"}, None)
    assert found.created == datetime.fromtimestamp(NOW_UNIX + 3600, UTC)
    assert calls(emu) == [("GET", "/kv-cmk/secrets/aoai-key/versions")]
    assert vaults.read_secret(URI, "nope") is None


def test_set_secret_reveals_the_value_only_to_key_vault(
    emu: Emulator, vaults: KeyVaults, tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    forget_challenges()
    expires = datetime.fromtimestamp(NOW_UNIX, UTC) + timedelta(days=90)
    version = vaults.set_secret(
        URI, "aoai-key", SecretText(VALUE), content_type="text/plain", expires=expires, tags={"warden-active": "Key2"}
    )
    assert [(r.method, r.status) for r in emu.requests] == [("PUT", 401), ("PUT", 200)]
    stored = vaults.read_secret(URI, "aoai-key")
    assert stored is not None
    assert (stored.version, stored.expires, stored.content_type) == (version, expires, "text/plain")
    with secret_client(emu) as client:
        assert client.get_secret("aoai-key").value == VALUE  # it did land
    emu.write_requests(tmp_path / "requests.jsonl")
    assert VALUE not in (tmp_path / "requests.jsonl").read_text()
    assert VALUE not in caplog.text
    assert "<redacted>" in (tmp_path / "requests.jsonl").read_text()


def test_key_values_never_reach_the_logs(emu: Emulator, vaults: KeyVaults, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    seed_key(emu)
    with key_client(emu) as client:
        modulus = client.get_key("cmk").key.n
    vaults.read_key(URI, "cmk")
    vaults.rotate_key(URI, "cmk")
    shown = "".join(str(r.to_json()) for r in emu.requests) + caplog.text
    assert modulus is not None
    encoded = base64.urlsafe_b64encode(modulus).rstrip(b"=").decode()
    assert encoded not in shown and modulus.hex() not in shown and str(modulus) not in shown


def test_failures_are_classified(emu: Emulator, vaults: KeyVaults) -> None:
    seed_key(emu)
    emu.add_fault("GET", "/keys/cmk/$", "server-error", count=5)
    with pytest.raises(TransientError) as read:
        vaults.read_key(URI, "cmk")
    assert read.value.status == 503
    emu.clear_faults()
    emu.add_fault("POST", "/rotate$", "server-error", count=5)
    with pytest.raises(ReplyLostError):
        vaults.rotate_key(URI, "cmk")
    emu.clear_faults()
    emu.add_fault("GET", "/versions$", "throttle", count=5, retry_after=5)
    with pytest.raises(TransientError) as throttled:
        vaults.read_secret(URI, "aoai-key")
    assert (throttled.value.throttled, throttled.value.retry_after) == (True, 5)
    # The BoundedRetryPolicy does not wait out a Retry-After above max_retry_after (1 s here): one request.
    assert sum(1 for r in emu.requests if r.fault == "throttle") == 1
    emu.clear_faults()
    emu.add_fault("PUT", "/secrets/", "server-error", count=1, status=401)
    with pytest.raises(PermissionDeniedError):
        vaults.set_secret(URI, "s", SecretText(VALUE), content_type="text/plain", expires=None, tags={})


def test_a_uri_that_is_no_vault_is_refused_before_any_call(emu: Emulator, vaults: KeyVaults) -> None:
    for uri in (
        "https://evil.example.com/",
        "https://kv-cmk.vault.azure.net.evil.example.com/",
        "http://kv-cmk.vault.azure.net/",
        "https://kv-cmk.vault.azure.net:8443/",
        "https://kv-cmk.vault.azure.net/keys/",
        "kv-cmk",
    ):
        with pytest.raises(AzureError, match="not a Key Vault URI"):
            vaults.read_key(uri, "cmk")
    assert emu.requests == []
    assert vaults.read_key("https://KV-CMK.vault.azure.net", "nope") is None  # case and the slash do not matter


def test_data_plane_clients_are_built_once_per_vault(emu: Emulator) -> None:
    factory = ClientFactory(StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path)
    first = factory.data_plane(KeyClient, emu.vault_url("kv-cmk"), verify_challenge_resource=False)
    assert factory.data_plane(KeyClient, emu.vault_url("KV-CMK"), verify_challenge_resource=False) is first
    assert factory.data_plane(SecretClient, emu.vault_url("kv-cmk"), verify_challenge_resource=False) is not first
    assert first.vault_url == emu.vault_url("kv-cmk")

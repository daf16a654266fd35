"""Microsoft.KeyVault/vaults on the emulator's ARM plane, driven by the real KeyVaultManagementClient: the
upstream getVault example round-trips, create fills what the RP fills, PATCH is synchronous, and purge
protection and soft delete cannot be turned off."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.keyvault.models import (
    Sku,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultPatchProperties,
    VaultProperties,
)

from emulator import Emulator
from emulator.builders import vault, vault_id
from tests.conftest import reference_dir
from tests.emulator.conftest import raw, raw_json
from tests.keyvault_support import OTHER_SUB, RG, SUB, mgmt_client, scenario

API = "2026-05-15"  # azure-mgmt-keyvault 14.1.0's default


def get_vault_example() -> dict[str, Any]:
    path = reference_dir() / "keyvault/resource-manager/2025-05-01/examples/getVault.json"
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["responses"]["200"]["body"]
    return body


def test_the_upstream_get_vault_example_comes_back_unchanged() -> None:
    body = get_vault_example()
    with Emulator({"resources": [body]}) as emu, mgmt_client(emu, body["id"].split("/")[2]) as client:
        got = client.vaults.get("sample-resource-group", "sample-vault", cls=raw_json)
        assert got == body
        assert raw(emu, "GET", body["id"], params={"api-version": "2025-05-01"}).json() == body
        model = client.vaults.get("sample-resource-group", "sample-vault")
        assert model.properties.vault_uri == "https://sample-vault.vault.azure.net"
    assert [r.query["api-version"] for r in emu.requests] == [API, "2025-05-01", API]


def test_create_is_a_finished_operation_with_what_the_rp_fills_in() -> None:
    with Emulator(scenario()) as emu, mgmt_client(emu) as client:
        params = VaultCreateOrUpdateParameters(
            location="swedencentral",
            properties=VaultProperties(tenant_id="t-1", sku=Sku(family="A", name="standard"), access_policies=[]),
        )
        created = client.vaults.begin_create_or_update(RG, "kv-new", params, polling_interval=0).result()
        props = created.properties
        assert (props.vault_uri, props.provisioning_state) == ("https://kv-new.vault.azure.net/", "Succeeded")
        assert (props.enable_soft_delete, props.soft_delete_retention_in_days) == (True, 90)
        assert props.enable_purge_protection is None
        # One PUT, answered 201 with the finished vault: the SDK has nothing to poll.
        assert [(r.method, r.status) for r in emu.requests] == [("PUT", 201)]
        assert client.vaults.get(RG, "kv-new").properties.vault_uri == "https://kv-new.vault.azure.net/"


def test_create_needs_a_location() -> None:
    with Emulator(scenario()) as emu:
        got = raw(emu, "PUT", vault_id("kv-x"), params={"api-version": API}, json={"properties": {}})
        assert (got.status_code, got.json()["error"]["code"]) == (400, "LocationRequired")


def test_list_by_subscription_lists_that_subscriptions_vaults() -> None:
    vaults = [vault("kv-a"), vault("kv-b"), vault("kv-other", sub=OTHER_SUB)]
    with Emulator(scenario(*vaults)) as emu, mgmt_client(emu) as client:
        assert sorted(v.name for v in client.vaults.list_by_subscription()) == ["kv-a", "kv-b"]
        assert [v.name for v in mgmt_client(emu, OTHER_SUB).vaults.list_by_subscription()] == ["kv-other"]
    assert emu.requests[0].path == f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults"


def test_patch_is_synchronous_and_enables_purge_protection() -> None:
    with Emulator(scenario()) as emu, mgmt_client(emu) as client:
        patch = VaultPatchParameters(properties=VaultPatchProperties(enable_purge_protection=True))
        updated = client.vaults.update(RG, "kv-cmk", patch)
        assert updated.properties.enable_purge_protection is True
        assert updated.properties.enable_soft_delete is True  # untouched
        assert [(r.method, r.status, r.body) for r in emu.requests] == [
            ("PATCH", 200, {"properties": {"enablePurgeProtection": True}})
        ]


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_purge_protection_cannot_be_turned_off(method: str) -> None:
    protected = vault("kv-cmk", enablePurgeProtection=True)
    with Emulator(scenario(protected)) as emu:
        body: dict[str, Any] = {"properties": {"enablePurgeProtection": False}}
        if method == "PUT":
            body = {"location": "swedencentral", "properties": {**protected["properties"], **body["properties"]}}
        got = raw(emu, method, protected["id"], params={"api-version": API}, json=body)
        assert got.status_code == 400
        assert got.json()["error"] == {
            "code": "BadRequest",
            "message": 'The property "enablePurgeProtection" cannot be set to false. Enabling the purge '
            "protection for a vault is an irreversible action.",
        }
        assert emu.dump_state()["resources"][0]["properties"]["enablePurgeProtection"] is True


def test_purge_protection_off_is_refused_through_the_sdk() -> None:
    with Emulator(scenario(vault("kv-cmk", enablePurgeProtection=True))) as emu, mgmt_client(emu) as client:
        patch = VaultPatchParameters(properties=VaultPatchProperties(enable_purge_protection=False))
        with pytest.raises(HttpResponseError) as refused:
            client.vaults.update(RG, "kv-cmk", patch)
        assert (refused.value.status_code, refused.value.error.code) == (400, "BadRequest")


def test_soft_delete_cannot_be_turned_off_once_on() -> None:
    with Emulator(scenario(vault("kv-cmk"), vault("kv-old", enableSoftDelete=False))) as emu:
        on = raw(
            emu,
            "PATCH",
            vault_id("kv-cmk"),
            params={"api-version": API},
            json={"properties": {"enableSoftDelete": False}},
        )
        assert (on.status_code, on.json()["error"]["code"]) == (400, "BadRequest")
        assert "enableSoftDelete" in on.json()["error"]["message"]
        # A vault made before soft delete became mandatory may still say false, and may turn it on.
        off = raw(
            emu,
            "PATCH",
            vault_id("kv-old"),
            params={"api-version": API},
            json={"properties": {"enableSoftDelete": True}},
        )
        assert (off.status_code, off.json()["properties"]["enableSoftDelete"]) == (200, True)


@pytest.mark.parametrize("version", ["2025-05-01", "2023-07-01", "2019-09-01"])
def test_older_api_versions_are_served(version: str) -> None:
    with Emulator(scenario()) as emu:
        assert raw(emu, "GET", vault_id("kv-cmk"), params={"api-version": version}).status_code == 200


def test_an_unknown_api_version_is_refused() -> None:
    with Emulator(scenario()) as emu:
        got = raw(emu, "GET", vault_id("kv-cmk"), params={"api-version": "1999-01-01"})
        assert (got.status_code, got.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")

"""Deleting, as ARM does it: accounts are soft-deleted (listed under deletedAccounts, purged after 48 hours by
the clock or on demand, their name held unless restored), deployments deleted; both as long-running
operations, raw and through the SDK."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account

from emulator import Emulator
from tests.emulator.conftest import RG, account_id, deployment, raw
from tests.emulator.test_arm_platform import DELETED_ONE, NEW_ACCOUNT, ONE, PROVIDER, _error, _follow, _instant


def test_deleting_an_account_soft_deletes_it(emu: Emulator) -> None:
    old_key = raw(emu, "POST", f"{ONE}/listKeys").json()["key1"]
    deleted = raw(emu, "DELETE", ONE)
    assert deleted.status_code == 200, deleted.text
    assert _follow(emu, deleted.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    # The account, its keys and its children are gone.
    assert _error(raw(emu, "GET", ONE)) == (404, "ResourceNotFound")
    assert [a["name"] for a in raw(emu, "GET", f"{PROVIDER}/accounts").json()["value"]] == ["aoai-two"]
    assert raw(emu, "POST", f"{ONE}/listKeys").status_code == 404
    assert _error(raw(emu, "GET", f"{ONE}/deployments/chat")) == (404, "ParentResourceNotFound")
    state = emu.dump_state()
    assert not [r["id"] for r in state["resources"] if r["id"].lower().startswith(ONE.lower())]
    assert ONE not in state["accountKeys"]
    # It is listed, and readable, as a soft-deleted account for 48 hours.
    listed = raw(emu, "GET", f"{PROVIDER}/deletedAccounts")
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["value"]] == [DELETED_ONE]
    record = raw(emu, "GET", DELETED_ONE)
    assert record.status_code == 200
    props = record.json()["properties"]
    assert _instant(props["scheduledPurgeDate"]) - _instant(props["deletionDate"]) == timedelta(hours=48)
    # The name is held: a create must ask to restore, or the record must be purged first.
    held = raw(emu, "PUT", ONE, json=NEW_ACCOUNT)
    assert _error(held) == (409, "FlagMustBeSetForRestore")
    assert DELETED_ONE.lower() in held.json()["error"]["message"].lower()
    assert raw(emu, "DELETE", DELETED_ONE).status_code in (200, 202)
    assert raw(emu, "GET", f"{PROVIDER}/deletedAccounts").json()["value"] == []
    assert raw(emu, "GET", DELETED_ONE).status_code == 404
    assert raw(emu, "PUT", ONE, json=NEW_ACCOUNT).status_code == 201
    assert raw(emu, "POST", f"{ONE}/listKeys").json()["key1"] != old_key
    assert raw(emu, "GET", f"{ONE}/deployments").json()["value"] == []


def test_an_async_delete_shows_deleting_until_the_clock_says_done(emu: Emulator) -> None:
    emu.set_lro_mode("async", 30)
    accepted = raw(emu, "DELETE", ONE)
    assert accepted.status_code == 202, accepted.text
    assert accepted.content == b""
    assert "/operationStatuses/" in accepted.headers["Azure-AsyncOperation"]
    assert raw(emu, "GET", ONE).json()["properties"]["provisioningState"] == "Deleting"
    assert _error(raw(emu, "PATCH", ONE, json={"properties": {}})) == (409, "AnotherOperationInProgress")
    assert raw(emu, "GET", f"{PROVIDER}/deletedAccounts").json()["value"] == []
    assert _follow(emu, accepted.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress"
    emu.clock.advance(30)
    assert _follow(emu, accepted.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    assert raw(emu, "GET", ONE).status_code == 404
    assert [a["name"] for a in raw(emu, "GET", f"{PROVIDER}/deletedAccounts").json()["value"]] == ["aoai-one"]


def test_a_soft_deleted_account_is_purged_after_48_hours(emu: Emulator) -> None:
    assert raw(emu, "DELETE", ONE).status_code == 200
    assert raw(emu, "GET", DELETED_ONE).status_code == 200
    emu.clock.advance(47 * 3600)
    assert _error(raw(emu, "PUT", ONE, json=NEW_ACCOUNT)) == (409, "FlagMustBeSetForRestore")
    emu.clock.advance(3600 + 1)
    assert raw(emu, "GET", DELETED_ONE).status_code == 404
    assert raw(emu, "GET", f"{PROVIDER}/deletedAccounts").json()["value"] == []
    assert emu.dump_state()["deletedAccounts"] == []
    assert raw(emu, "PUT", ONE, json=NEW_ACCOUNT).status_code == 201


def test_soft_deleted_accounts_load_from_the_scenario(scenario: dict[str, Any]) -> None:
    record = {
        "id": DELETED_ONE.replace("aoai-one", "aoai-old"),
        "name": "aoai-old",
        "type": "Microsoft.CognitiveServices/accounts",
        "location": "eastus",
        "properties": {"deletionDate": "2020-01-01T00:00:00Z", "scheduledPurgeDate": "2999-01-01T00:00:00Z"},
    }
    with Emulator({**scenario, "deletedAccounts": [record]}) as emu:
        assert raw(emu, "GET", record["id"]).json()["name"] == "aoai-old"
        assert _error(raw(emu, "PUT", account_id("aoai-old"), json=NEW_ACCOUNT)) == (409, "FlagMustBeSetForRestore")
    for bad in ({"name": "no-id"}, {**record, "properties": {"scheduledPurgeDate": "soon"}}):
        with pytest.raises(ValueError, match="deletedAccounts"):
            Emulator({**scenario, "deletedAccounts": [bad]})


def test_a_soft_deleted_name_is_held_only_in_its_own_resource_group(emu: Emulator) -> None:
    assert raw(emu, "DELETE", ONE).status_code == 200
    elsewhere = raw(emu, "PUT", account_id("aoai-one", rg="rg-other"), json=NEW_ACCOUNT)
    assert elsewhere.status_code == 201, elsewhere.text
    assert [a["id"] for a in raw(emu, "GET", f"{PROVIDER}/deletedAccounts").json()["value"]] == [DELETED_ONE]
    restored = raw(emu, "PUT", ONE, json={**NEW_ACCOUNT, "properties": {"restore": True}})
    assert restored.status_code == 201, restored.text
    assert raw(emu, "GET", f"{PROVIDER}/deletedAccounts").json()["value"] == []


def test_a_child_write_that_outlives_its_account_fails(emu: Emulator) -> None:
    """A deployment still being created when its account is deleted fails when due; it leaves no orphan."""
    emu.set_lro_mode("async", 30)
    accepted = raw(emu, "PUT", f"{ONE}/deployments/late", json=deployment("aoai-one", "late"))
    assert accepted.status_code == 201, accepted.text
    emu.set_lro_mode("sync")
    assert raw(emu, "DELETE", ONE).status_code == 200
    emu.clock.advance(30)
    status = _follow(emu, accepted.headers["Azure-AsyncOperation"]).json()
    assert (status["status"], status["error"]["code"]) == ("Failed", "ParentResourceNotFound")
    assert not [r["id"] for r in emu.dump_state()["resources"] if r["id"].lower().startswith(ONE.lower())]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_delete_list_get_and_purge_through_the_sdk(
    emu: Emulator, client: CognitiveServicesManagementClient, mode: str
) -> None:
    emu.set_lro_mode(mode)
    assert client.accounts.begin_delete(RG, "aoai-one").result() is None
    assert [a.name for a in client.accounts.list()] == ["aoai-two"]
    [gone] = list(client.deleted_accounts.list())
    assert (gone.id, gone.name, gone.location) == (DELETED_ONE, "aoai-one", "eastus")
    assert gone.properties.deletion_date and gone.properties.scheduled_purge_date
    assert client.deleted_accounts.get("eastus", RG, "aoai-one").properties.custom_sub_domain_name == "aoai-one"
    with pytest.raises(ResourceExistsError) as caught:
        client.accounts.begin_create(RG, "aoai-one", Account(location="eastus", kind="OpenAI")).result()
    assert caught.value.error is not None and caught.value.error.code == "FlagMustBeSetForRestore"
    assert client.deleted_accounts.begin_purge("eastus", RG, "aoai-one").result() is None
    assert list(client.deleted_accounts.list()) == []
    with pytest.raises(ResourceNotFoundError):
        client.deleted_accounts.get("eastus", RG, "aoai-one")
    created = client.accounts.begin_create(RG, "aoai-one", Account(location="eastus", kind="OpenAI")).result()
    assert created.properties.provisioning_state == "Succeeded"


def test_deleting_a_deployment(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    reply = raw(emu, "DELETE", f"{ONE}/deployments/chat")
    assert reply.status_code == 200, reply.text
    assert "/operationStatuses/" in reply.headers["Azure-AsyncOperation"]
    assert _error(raw(emu, "GET", f"{ONE}/deployments/chat")) == (404, "ResourceNotFound")
    again = raw(emu, "DELETE", f"{ONE}/deployments/chat")
    assert (again.status_code, again.content) == (204, b"")  # ARM's idempotent delete
    assert raw(emu, "GET", ONE).status_code == 200  # the parent stays
    assert raw(emu, "PUT", f"{ONE}/deployments/second", json=deployment("aoai-one", "second")).status_code == 201
    assert client.deployments.begin_delete(RG, "aoai-one", "second").result() is None
    assert client.deployments.begin_delete(RG, "aoai-one", "never-was").result() is None
    assert list(client.deployments.list(RG, "aoai-one")) == []

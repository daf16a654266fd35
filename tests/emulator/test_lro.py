"""Accounts_Update as a long-running operation, through the real SDK poller, in sync and async modes."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties

from emulator import Emulator
from tests.emulator.conftest import API, RG, account_id, raw

ONE = account_id("aoai-one")
DISABLE_PUBLIC = Account(properties=AccountProperties(public_network_access="Disabled"))


def _without(resource: dict[str, Any], *props: str) -> dict[str, Any]:
    """The resource minus its etag and the named properties: what a PATCH of those must leave untouched."""
    out = {k: v for k, v in resource.items() if k != "etag"}
    out["properties"] = {k: v for k, v in resource["properties"].items() if k not in props}
    return out


def _account(emu: Emulator) -> dict[str, Any]:
    return next(r for r in emu.dump_state()["resources"] if r["id"] == ONE)


def test_sync_patch_changes_only_the_sent_property(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    before = _account(emu)
    result = client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()

    after = _account(emu)
    assert result.properties.public_network_access == "Disabled"
    assert after["properties"]["publicNetworkAccess"] == "Disabled"
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert _without(after, "publicNetworkAccess") == _without(before, "publicNetworkAccess")
    assert after["etag"] != before["etag"]
    # The SDK serializes only the attributes that were set: the PATCH body carries exactly one property.
    assert [(r.method, r.status, r.body) for r in emu.requests] == [
        ("PATCH", 200, {"properties": {"publicNetworkAccess": "Disabled"}})
    ]
    assert emu.requests[0].query == {"api-version": API}


@pytest.mark.parametrize("polls", [0, 1, 3])
def test_async_patch_polls_then_reads_back(
    emu: Emulator, client: CognitiveServicesManagementClient, polls: int
) -> None:
    emu.set_lro_mode("async", polls=polls)
    before = _account(emu)
    result = client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()

    assert result.properties.public_network_access == "Disabled"
    assert result.properties.provisioning_state == "Succeeded"
    after = _account(emu)
    assert _without(after, "publicNetworkAccess") == _without(before, "publicNetworkAccess")
    log = emu.requests
    assert (log[0].method, log[0].status, log[0].body) == (
        "PATCH",
        202,
        {"properties": {"publicNetworkAccess": "Disabled"}},
    )
    polls_seen = [r for r in log if r.kind == "operation-status"]
    assert len(polls_seen) == polls + 1
    assert all(r.method == "GET" and "/operationStatuses/" in r.path for r in polls_seen)
    # FACTS.md §2: after Succeeded the poller does a final GET on the original URL.
    assert (log[-1].method, log[-1].path, log[-1].kind) == ("GET", ONE, "arm")
    assert len(log) == polls + 3


def test_async_protocol_step_by_step(emu: Emulator) -> None:
    """The wire protocol, without the poller: 202 + headers, InProgress, state applied only at Succeeded."""
    emu.set_lro_mode("async", polls=1)
    accepted = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert accepted.status_code == 202
    assert accepted.json()["properties"]["provisioningState"] == "Accepted"
    status_url = accepted.headers["Azure-AsyncOperation"]
    assert status_url.startswith(f"{emu.endpoint}/subscriptions/")
    assert "/providers/Microsoft.CognitiveServices/locations/eastus/operationStatuses/" in status_url
    assert f"api-version={API}" in status_url
    assert "/operationResults/" in accepted.headers["Location"]
    assert "retry-after-ms" in accepted.headers

    def poll(url: str) -> Any:
        return raw(emu, "GET", url.removeprefix(emu.endpoint).split("?")[0])

    assert _account(emu)["properties"]["disableLocalAuth"] is False
    first = poll(status_url)
    assert first.json()["status"] == "InProgress"
    assert first.json()["name"] in status_url
    assert raw(emu, "GET", ONE).json()["properties"]["disableLocalAuth"] is False
    done = poll(status_url)
    assert done.json()["status"] == "Succeeded"
    assert raw(emu, "GET", ONE).json()["properties"]["disableLocalAuth"] is True
    # Terminal status is stable, and the operation-results monitor agrees.
    assert poll(status_url).json()["status"] == "Succeeded"
    result = poll(accepted.headers["Location"])
    assert result.status_code == 200
    assert result.json()["properties"]["disableLocalAuth"] is True


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_lro_failed_raises_and_leaves_state(
    emu: Emulator, client: CognitiveServicesManagementClient, mode: str
) -> None:
    emu.set_lro_mode(mode, polls=1)
    emu.add_fault("PATCH", r"/accounts/aoai-one$", "lro-failed")
    before = emu.dump_state()

    with pytest.raises(HttpResponseError):
        client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()

    assert emu.dump_state()["resources"] == before["resources"]
    assert emu.requests[0].fault == "lro-failed"
    if mode == "async":
        statuses = [r for r in emu.requests if r.kind == "operation-status"]
        assert len(statuses) == 2
        last = raw(emu, "GET", statuses[-1].path)
        assert last.json()["status"] == "Failed"
        assert last.json()["error"]["code"]
    # The fault has expired: the next update goes through.
    client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()
    assert _account(emu)["properties"]["publicNetworkAccess"] == "Disabled"


def test_patch_merge_semantics(emu: Emulator) -> None:
    """Top-level tags/sku/identity replace; properties merge key by key; read-only fields are ignored."""
    before = _account(emu)
    body = {
        "location": "westeurope",
        "tags": {"owner": "sec"},
        "properties": {
            "networkAcls": {"defaultAction": "Deny", "ipRules": []},
            "provisioningState": "Deleting",
            "endpoint": "https://evil.example/",
        },
    }
    reply = raw(emu, "PATCH", ONE, json=body)
    assert reply.status_code == 200
    after = _account(emu)
    assert after["tags"] == {"owner": "sec"}
    assert after["location"] == before["location"]
    assert after["sku"] == before["sku"]
    assert after["properties"]["networkAcls"] == {"defaultAction": "Deny", "ipRules": []}
    assert after["properties"]["endpoint"] == before["properties"]["endpoint"]
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert after["properties"]["disableLocalAuth"] is False
    assert reply.json() == after


def test_patch_honours_if_match(emu: Emulator) -> None:
    stale = raw(emu, "PATCH", ONE, json={"properties": {}}, headers={"Authorization": "Bearer t", "If-Match": '"old"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "PreconditionFailed"
    etag = _account(emu)["etag"]
    fresh = raw(emu, "PATCH", ONE, json={"properties": {}}, headers={"Authorization": "Bearer t", "If-Match": etag})
    assert fresh.status_code == 200

"""Accounts_Update as a long-running operation, through the real SDK poller, in sync and async modes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
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


def _poll(emu: Emulator, url: str) -> Any:
    return raw(emu, "GET", url.removeprefix(emu.endpoint).split("?")[0])


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
    # The 200 carries Azure-AsyncOperation (as the upstream UpdateAccount example's does), so the SDK polls
    # the (already Succeeded) operation once and then GETs the account (FACTS.md §2).
    assert [(r.method, r.status, r.kind) for r in emu.requests] == [
        ("PATCH", 200, "arm"),
        ("GET", 200, "operation-status"),
        ("GET", 200, "arm"),
    ]
    assert emu.requests[0].body == {"properties": {"publicNetworkAccess": "Disabled"}}
    assert emu.requests[0].query == {"api-version": API}


def test_sync_write_reply_carries_the_example_headers(emu: Emulator) -> None:
    """Issue 6 item 4: the sync 200 has Azure-AsyncOperation and Location, and both monitors say done."""
    reply = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert reply.status_code == 200
    assert reply.json()["properties"]["provisioningState"] == "Succeeded"
    status = _poll(emu, reply.headers["Azure-AsyncOperation"])
    assert (status.status_code, status.json()["status"]) == (200, "Succeeded")
    assert "endTime" in status.json()
    result = _poll(emu, reply.headers["Location"])
    assert (result.status_code, result.json()["properties"]["disableLocalAuth"]) == (200, True)


@pytest.mark.parametrize("seconds", [0.0, 0.05])
def test_async_patch_polls_then_reads_back(
    emu: Emulator, client: CognitiveServicesManagementClient, seconds: float
) -> None:
    emu.set_lro_mode("async", seconds)
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
    assert len(polls_seen) >= 1
    assert all(r.method == "GET" and "/operationStatuses/" in r.path for r in polls_seen)
    # FACTS.md §2: after Succeeded the poller does a final GET on the original URL.
    assert (log[-1].method, log[-1].path, log[-1].kind) == ("GET", ONE, "arm")
    assert len(log) == len(polls_seen) + 2


def test_async_protocol_step_by_step(emu: Emulator) -> None:
    """The wire protocol, the clock moved by hand: 202 + headers, Accepted and InProgress until the
    operation is due, then applied; polling has no say in when."""
    emu.set_lro_mode("async", 60)
    accepted = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert accepted.status_code == 202
    assert accepted.json()["properties"]["provisioningState"] == "Accepted"
    status_url = accepted.headers["Azure-AsyncOperation"]
    assert status_url.startswith(f"{emu.endpoint}/subscriptions/")
    assert "/providers/Microsoft.CognitiveServices/locations/eastus/operationStatuses/" in status_url
    assert f"api-version={API}" in status_url
    assert "/operationResults/" in accepted.headers["Location"]
    assert "retry-after-ms" in accepted.headers

    for _ in range(3):  # polls do not move it along
        assert _poll(emu, status_url).json()["status"] == "InProgress"
    running = raw(emu, "GET", ONE).json()["properties"]
    assert (running["disableLocalAuth"], running["provisioningState"]) == (False, "Accepted")
    assert _poll(emu, accepted.headers["Location"]).status_code == 202
    emu.clock.advance(59)
    assert _poll(emu, status_url).json()["status"] == "InProgress"
    emu.clock.advance(1)
    done = _poll(emu, status_url).json()
    assert done["status"] == "Succeeded" and done["name"] in status_url
    applied = raw(emu, "GET", ONE).json()["properties"]
    assert (applied["disableLocalAuth"], applied["provisioningState"]) == (True, "Succeeded")
    result = _poll(emu, accepted.headers["Location"])
    assert result.status_code == 200
    assert result.json()["properties"]["disableLocalAuth"] is True


def test_a_write_nobody_polls_lands_when_due(emu: Emulator) -> None:
    """Issue 6 item 1: `az rest --method patch` (no polling) answered 202 and then never landed."""
    emu.set_lro_mode("async", 30)
    assert raw(emu, "PATCH", ONE, json={"properties": {"publicNetworkAccess": "Disabled"}}).status_code == 202
    emu.clock.advance(30)
    assert _account(emu)["properties"]["publicNetworkAccess"] == "Disabled"  # a dump settles too
    # A deployment created without polling exists at once (Accepted, as the upstream 2026-09-01 PutDeployment
    # example's 201 shows), then Succeeded: never a 404.
    path = f"{ONE}/deployments/unpolled"
    body = {"sku": {"name": "Standard", "capacity": 1}, "properties": {"model": {"format": "OpenAI", "name": "gpt-4o"}}}
    assert raw(emu, "PUT", path, json=body).status_code == 201
    creating = raw(emu, "GET", path)
    assert (creating.status_code, creating.json()["properties"]["provisioningState"]) == (200, "Accepted")
    emu.clock.advance(30)
    assert raw(emu, "GET", path).json()["properties"]["provisioningState"] == "Succeeded"


def test_a_raw_patch_never_polled_applies_in_real_time(emu: Emulator) -> None:
    """With a short operationSeconds and the real clock: no poll, no clock move, yet the change lands."""
    emu.set_lro_mode("async", 0.2)
    assert raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}).status_code == 202
    deadline = time.monotonic() + 10
    while raw(emu, "GET", ONE).json()["properties"]["disableLocalAuth"] is not True:
        assert time.monotonic() < deadline, "the operation never completed"
        time.sleep(0.05)
    assert not [r for r in emu.requests if r.kind == "operation-status"]


def test_a_second_write_while_one_runs_is_409(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    """ARM refuses a write to a resource whose operation is still running; it works again once done."""
    emu.set_lro_mode("async", 60)
    first = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert first.status_code == 202
    for method, body in (("PATCH", {"properties": {}}), ("PUT", {"location": "eastus", "properties": {}})):
        busy = raw(emu, method, ONE, json=body)
        assert busy.status_code == 409
        assert busy.json()["error"]["code"] == "AnotherOperationInProgress"
    with pytest.raises(ResourceExistsError) as refused:  # what the SDK (and warden) sees
        client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC)
    assert refused.value.status_code == 409
    assert raw(emu, "DELETE", ONE).status_code == 409
    emu.clock.advance(60)
    assert raw(emu, "PATCH", ONE, json={"properties": {}}).status_code == 202


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_lro_failed_raises_and_leaves_state(
    emu: Emulator, client: CognitiveServicesManagementClient, mode: str
) -> None:
    emu.set_lro_mode(mode)
    emu.add_fault("PATCH", r"/accounts/aoai-one$", "lro-failed")
    before = emu.dump_state()

    with pytest.raises(HttpResponseError):
        client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()

    assert emu.dump_state()["resources"] == before["resources"]
    assert emu.requests[0].fault == "lro-failed"
    statuses = [r for r in emu.requests if r.kind == "operation-status"]
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

"""Issue 6 items 3, 5, 6 and 7: api-versions, enum spelling, ARM's own routes, headers,
throttling, ParentResourceNotFound and stable paging, through raw HTTPS and the real SDK (deletes: test_deletes.py).

Each test fails against the emulator before the kernel/arm/services restructure (ec314ef): there the
platform routes, DELETE, the tags API, HEAD and the ARM headers did not exist, any api-version was
served, enums were stored as sent and pages were offsets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

from emulator import Emulator
from tests.emulator.conftest import (
    API,
    BEARER,
    OTHER_SUB,
    RG,
    SUB,
    account_id,
    deployment,
    openai_account,
    raw,
)
from warden.azure.credentials import StaticTokenCredential

ONE = account_id("aoai-one")
GHOST = account_id("ghost")
PROVIDER = f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices"
DELETED_ONE = f"{PROVIDER}/locations/eastus/resourceGroups/{RG}/deletedAccounts/aoai-one"
ARM_API = {"api-version": "2022-12-01"}  # a Microsoft.Resources version: subscriptions, groups, providers
TAGS_API = {"api-version": "2021-04-01"}
NEW_ACCOUNT = {"location": "eastus", "kind": "OpenAI", "sku": {"name": "S0"}, "properties": {}}


def _error(reply: requests.Response) -> tuple[int, str | None]:
    """(status, ARM error code); the code is None when the body is not an ARM error."""
    try:
        body = reply.json()
    except ValueError:
        return reply.status_code, None
    error = body.get("error") if isinstance(body, dict) else None
    return reply.status_code, error.get("code") if isinstance(error, dict) else None


def _follow(emu: Emulator, url: str) -> requests.Response:
    """GET an absolute URL the emulator handed out (a nextLink or an operation monitor)."""
    assert url.startswith(emu.endpoint), url
    return requests.get(url, headers=BEARER, verify=emu.ca_path, timeout=10)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _stored(emu: Emulator, rid: str = ONE) -> dict[str, Any]:
    return next(r for r in emu.dump_state()["resources"] if r["id"].lower() == rid.lower())


def _client_at(emu: Emulator, api_version: str) -> CognitiveServicesManagementClient:
    """The SDK client sending another api-version, as an older (or newer) SDK major does."""
    return CognitiveServicesManagementClient(
        StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path, api_version=api_version
    )


# --- item 3: api-versions -----------------------------------------------------------------------
def test_an_unsupported_api_version_is_400_naming_the_supported_ones(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    before = emu.dump_state()
    for method, path in (
        ("GET", ONE),
        ("GET", f"{PROVIDER}/accounts"),
        ("GET", f"{ONE}/deployments/chat"),
        ("PATCH", ONE),
    ):
        reply = raw(emu, method, path, params={"api-version": "1999-01-01"}, json={"properties": {}})
        assert _error(reply) == (400, "InvalidApiVersionParameter"), (method, path)
        message = reply.json()["error"]["message"]
        assert "'1999-01-01'" in message
        assert "2025-09-01" in message and "2025-06-01" in message  # the supported versions, named
    assert emu.dump_state() == before  # the refused PATCH changed nothing
    # What the SDK majors send is served: 14.x's 2025-09-01 and the 2025-06-01 of the one before.
    for version in ("2025-09-01", "2025-06-01"):
        assert raw(emu, "GET", ONE, params={"api-version": version}).status_code == 200
    with _client_at(emu, "2025-06-01") as older:
        assert older.accounts.get(RG, "aoai-one").name == "aoai-one"
    assert emu.requests[-1].query["api-version"] == "2025-06-01"
    missing = raw(emu, "GET", ONE, params={})
    assert _error(missing) == (400, "MissingApiVersionParameter")
    with _client_at(emu, "1999-01-01") as future, pytest.raises(HttpResponseError) as caught:
        future.accounts.get(RG, "aoai-one")
    assert caught.value.status_code == 400
    assert caught.value.error is not None and caught.value.error.code == "InvalidApiVersionParameter"


def test_platform_routes_check_their_own_api_versions(emu: Emulator) -> None:
    """Microsoft.Resources routes have their own versions: an accounts version is refused there, and the
    other way round."""
    tags = f"{ONE}/providers/Microsoft.Resources/tags/default"
    for path in ("/subscriptions", f"/subscriptions/{SUB}", f"/subscriptions/{SUB}/resourcegroups", PROVIDER, tags):
        refused = raw(emu, "GET", path, params={"api-version": API})
        assert _error(refused) == (400, "InvalidApiVersionParameter"), path
        assert "2021-04-01" in refused.json()["error"]["message"]
        assert raw(emu, "GET", path, params={"api-version": "2021-04-01"}).status_code == 200, path
    assert _error(raw(emu, "GET", ONE, params={"api-version": "2021-04-01"})) == (400, "InvalidApiVersionParameter")
    metadata = raw(emu, "GET", "/metadata/endpoints", params={"api-version": API}, headers={})
    assert _error(metadata) == (400, "InvalidApiVersionParameter")


# --- item 5: enum spelling ----------------------------------------------------------------------
def test_enum_values_are_stored_in_the_swagger_spelling(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    body = {
        "properties": {
            "publicNetworkAccess": "enabled",
            "networkAcls": {"defaultAction": "deny", "bypass": "azureservices"},
        }
    }
    reply = raw(emu, "PATCH", ONE, json=body)
    assert reply.status_code == 200, reply.text
    for props in (reply.json()["properties"], raw(emu, "GET", ONE).json()["properties"], _stored(emu)["properties"]):
        assert props["publicNetworkAccess"] == "Enabled"
        assert (props["networkAcls"]["defaultAction"], props["networkAcls"]["bypass"]) == ("Deny", "AzureServices")
    acls = NetworkRuleSet(default_action="allow", bypass="none")
    update = Account(properties=AccountProperties(public_network_access="disabled", network_acls=acls))
    result = client.accounts.begin_update(RG, "aoai-two", update).result()
    assert result.properties.public_network_access == "Disabled"
    assert (result.properties.network_acls.default_action, result.properties.network_acls.bypass) == ("Allow", "None")


# --- item 6: ARM's own routes -------------------------------------------------------------------
def test_cloud_metadata_is_served_without_a_token(emu: Emulator) -> None:
    reply = raw(emu, "GET", "/metadata/endpoints", params={"api-version": "2022-09-01"}, headers={})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["resourceManager"].rstrip("/") == emu.endpoint
    assert body["authentication"]["audiences"]
    assert raw(emu, "GET", "/tenants", params=ARM_API, headers={}).status_code == 401  # only metadata is anonymous


def test_subscriptions_are_derived_from_resources_and_paged(scenario: dict[str, Any]) -> None:
    scenario["resources"].append(openai_account("elsewhere", sub=OTHER_SUB))
    scenario["options"] = {"pageSize": 1}
    with Emulator(scenario) as emu:
        first = raw(emu, "GET", "/subscriptions", params=ARM_API)
        assert first.status_code == 200, first.text
        assert len(first.json()["value"]) == 1
        second = _follow(emu, first.json()["nextLink"]).json()
        assert "nextLink" not in second
        listed = first.json()["value"] + second["value"]
        assert sorted(s["subscriptionId"] for s in listed) == sorted([SUB, OTHER_SUB])
        assert all(s["id"] == f"/subscriptions/{s['subscriptionId']}" and s["state"] == "Enabled" for s in listed)
        one = raw(emu, "GET", f"/subscriptions/{SUB}", params=ARM_API)
        assert (one.status_code, one.json()["subscriptionId"]) == (200, SUB)
        unknown = raw(emu, "GET", "/subscriptions/12345678-0000-0000-0000-000000000000", params=ARM_API)
        assert _error(unknown) == (404, "SubscriptionNotFound")
        tenants = raw(emu, "GET", "/tenants", params=ARM_API)
        assert tenants.status_code == 200
        assert [t["tenantId"] for t in tenants.json()["value"]] == [listed[0]["tenantId"]]


def test_provider_registration_lists_types_and_api_versions(emu: Emulator) -> None:
    reply = raw(emu, "GET", PROVIDER, params=ARM_API)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["namespace"], body["registrationState"]) == ("Microsoft.CognitiveServices", "Registered")
    types = {t["resourceType"]: t for t in body["resourceTypes"]}
    assert {"accounts", "accounts/deployments", "accounts/raiPolicies"} <= set(types)
    assert {"2025-09-01", "2025-06-01"} <= set(types["accounts"]["apiVersions"])
    assert "eastus" in types["accounts"]["locations"]
    every = raw(emu, "GET", f"/subscriptions/{SUB}/providers", params=ARM_API).json()["value"]
    assert [p["namespace"] for p in every] == [
        "Microsoft.CognitiveServices",
        "Microsoft.Authorization",
        "Microsoft.KeyVault",
        "Microsoft.Insights",
        "Microsoft.ResourceGraph",
        "Microsoft.EventGrid",
        "Microsoft.Storage",
    ]
    unknown = raw(emu, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Nothing", params=ARM_API)
    assert unknown.status_code == 404


def test_resource_groups_list_get_and_head(emu: Emulator) -> None:
    assert raw(emu, "PUT", account_id("fresh", rg="rg-new"), json=NEW_ACCOUNT).status_code == 201
    groups = raw(emu, "GET", f"/subscriptions/{SUB}/resourcegroups", params=ARM_API)
    assert groups.status_code == 200, groups.text
    assert sorted(g["name"] for g in groups.json()["value"]) == [RG, "rg-new"]
    group = raw(emu, "GET", f"/subscriptions/{SUB}/resourceGroups/{RG}", params=ARM_API).json()
    assert group["id"] == f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert (group["type"], group["location"]) == ("Microsoft.Resources/resourceGroups", "eastus")
    assert group["properties"]["provisioningState"] == "Succeeded"
    exists = raw(emu, "HEAD", f"/subscriptions/{SUB}/resourceGroups/{RG}", params=ARM_API)
    assert (exists.status_code, exists.content) == (204, b"")
    absent = raw(emu, "HEAD", f"/subscriptions/{SUB}/resourceGroups/rg-none", params=ARM_API)
    assert (absent.status_code, absent.content) == (404, b"")
    missing = raw(emu, "GET", f"/subscriptions/{SUB}/resourceGroups/rg-none", params=ARM_API)
    assert _error(missing) == (404, "ResourceGroupNotFound")


def test_the_tags_api_reads_replaces_merges_and_deletes(emu: Emulator) -> None:
    tags = f"{ONE}/providers/Microsoft.Resources/tags/default"

    def write(method: str, body: dict[str, Any]) -> dict[str, str]:
        etag = raw(emu, "GET", ONE).json()["etag"]
        reply = raw(emu, method, tags, params=TAGS_API, json=body)
        assert reply.status_code == 200, reply.text
        assert raw(emu, "GET", ONE).json()["etag"] != etag  # every tag change is a change of the resource
        result: dict[str, str] = reply.json()["properties"]["tags"]
        assert raw(emu, "GET", ONE).json()["tags"] == result
        return result

    read = raw(emu, "GET", tags, params=TAGS_API)
    assert read.status_code == 200, read.text
    assert read.json()["id"] == tags
    assert read.json()["properties"]["tags"] == {"env": "test"}
    assert write("PUT", {"properties": {"tags": {"a": "1", "b": "2"}}}) == {"a": "1", "b": "2"}
    assert write("PATCH", {"operation": "Merge", "properties": {"tags": {"b": "3", "c": "4"}}}) == {
        "a": "1",
        "b": "3",
        "c": "4",
    }
    assert write("PATCH", {"operation": "Delete", "properties": {"tags": {"a": "1"}}}) == {"b": "3", "c": "4"}
    assert write("PATCH", {"operation": "Replace", "properties": {"tags": {"only": "x"}}}) == {"only": "x"}
    bad = raw(emu, "PATCH", tags, params=TAGS_API, json={"operation": "Append", "properties": {"tags": {}}})
    assert bad.status_code == 400
    assert raw(emu, "PUT", tags, params=TAGS_API, json={"tags": {"a": "1"}}).status_code == 400
    assert raw(emu, "DELETE", tags, params=TAGS_API).status_code == 200
    assert raw(emu, "GET", tags, params=TAGS_API).json()["properties"]["tags"] == {}
    assert raw(emu, "GET", ONE).json()["tags"] == {}
    ghost = raw(emu, "GET", f"{GHOST}/providers/Microsoft.Resources/tags/default", params=TAGS_API)
    assert ghost.status_code == 404


def test_skus_and_usages(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    skus = raw(emu, "GET", f"{PROVIDER}/skus")
    assert skus.status_code == 200, skus.text
    assert {(s["resourceType"], s["name"], s["kind"]) for s in skus.json()["value"]} >= {("accounts", "S0", "OpenAI")}
    sdk_skus = list(client.resource_skus.list())
    assert any(s.name == "S0" and s.kind == "OpenAI" and "eastus" in s.locations for s in sdk_skus)
    account_skus = client.accounts.list_skus(RG, "aoai-one").value
    assert account_skus and account_skus[0].sku.name == "S0"
    usages = client.accounts.list_usages(RG, "aoai-one").value
    assert usages and usages[0].name.value and usages[0].limit is not None
    located = list(client.usages.list("eastus"))
    assert located and located[0].unit == "Count"
    with pytest.raises(ResourceNotFoundError):
        client.accounts.list_skus(RG, "ghost")
    with pytest.raises(ResourceNotFoundError):
        client.accounts.list_usages(RG, "ghost")


def test_head_answers_with_headers_only(emu: Emulator) -> None:
    for path, status in ((ONE, 204), (f"{ONE}/deployments/chat", 204), (GHOST, 404)):
        reply = raw(emu, "HEAD", path)
        assert (reply.status_code, reply.content) == (status, b""), path
        assert "Content-Type" not in reply.headers
        assert reply.headers["x-ms-request-id"]


def test_options_is_a_405_in_the_arm_error_shape(emu: Emulator) -> None:
    for path in (ONE, "/subscriptions"):
        reply = raw(emu, "OPTIONS", path)
        assert reply.status_code == 405, path
        assert reply.headers["Content-Type"].startswith("application/json")
        assert reply.json()["error"]["code"] == "MethodNotAllowed"


# --- item 7: headers, throttling, parents, paging -----------------------------------------------
def test_every_reply_carries_request_and_correlation_ids(emu: Emulator) -> None:
    emu.add_fault("GET", "/accounts/aoai-two$", "throttle")
    calls = [
        raw(emu, "GET", ONE),
        raw(emu, "GET", GHOST),
        raw(emu, "GET", account_id("aoai-two")),  # the injected 429
        raw(emu, "GET", ONE, params={"api-version": "1999-01-01"}),
        raw(emu, "GET", ONE, headers={}),
        raw(emu, "OPTIONS", ONE),
        raw(emu, "HEAD", ONE),
        raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}),
        raw(emu, "GET", "/metadata/endpoints", params={"api-version": "2022-09-01"}, headers={}),
    ]
    assert [c.status_code for c in calls] == [200, 404, 429, 400, 401, 405, 204, 200, 200]
    request_ids = [c.headers["x-ms-request-id"] for c in calls]
    assert len(set(request_ids)) == len(calls)
    assert all(c.headers["x-ms-correlation-request-id"] for c in calls)
    sent = {**BEARER, "x-ms-correlation-request-id": "c0ffee00-0000-0000-0000-000000000001"}
    echoed = raw(emu, "GET", ONE, headers=sent)
    assert echoed.headers["x-ms-correlation-request-id"] == "c0ffee00-0000-0000-0000-000000000001"
    assert (
        raw(emu, "GET", GHOST, headers=sent).headers["x-ms-correlation-request-id"]
        == sent["x-ms-correlation-request-id"]
    )


def test_rate_limit_headers_count_reads_and_writes_apart(emu: Emulator) -> None:
    reads_header, writes_header = (
        "x-ms-ratelimit-remaining-subscription-reads",
        "x-ms-ratelimit-remaining-subscription-writes",
    )
    first, second = raw(emu, "GET", ONE), raw(emu, "HEAD", ONE)
    assert int(second.headers[reads_header]) == int(first.headers[reads_header]) - 1
    patched = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    listed = raw(emu, "POST", f"{ONE}/listKeys")
    assert int(listed.headers[writes_header]) == int(patched.headers[writes_header]) - 1
    assert reads_header not in patched.headers and writes_header not in first.headers
    assert int(raw(emu, "GET", f"{PROVIDER}/accounts").headers[reads_header]) == int(second.headers[reads_header]) - 1


def test_spent_rate_limits_are_429_until_the_window_ends(scenario: dict[str, Any]) -> None:
    scenario["options"] = {"rateLimits": {"reads": 3, "writes": 2}}
    with Emulator(scenario) as emu:
        remaining = [raw(emu, "GET", ONE).headers["x-ms-ratelimit-remaining-subscription-reads"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        throttled = raw(emu, "GET", f"{PROVIDER}/accounts")
        assert _error(throttled) == (429, "SubscriptionRequestsThrottled")
        assert 0 < int(throttled.headers["Retry-After"]) <= 3601
        # Writes have their own budget.
        writes = [raw(emu, "PATCH", ONE, json={"properties": {}}).status_code for _ in range(3)]
        assert writes == [200, 200, 429]
        emu.clock.advance(3600)
        again = raw(emu, "GET", ONE)
        assert again.status_code == 200
        assert again.headers["x-ms-ratelimit-remaining-subscription-reads"] == "2"


def test_children_of_a_missing_account_are_parent_not_found(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    for method, path in (
        ("GET", f"{GHOST}/deployments"),
        ("GET", f"{GHOST}/raiPolicies"),
        ("GET", f"{GHOST}/deployments/chat"),
        ("GET", f"{GHOST}/raiPolicies/strict"),
        ("PUT", f"{GHOST}/deployments/chat"),
    ):
        reply = raw(emu, method, path, json=deployment("ghost", "chat"))
        assert _error(reply) == (404, "ParentResourceNotFound"), (method, path)
        assert "ghost" in reply.json()["error"]["message"]
    with pytest.raises(ResourceNotFoundError) as caught:
        list(client.deployments.list(RG, "ghost"))
    assert caught.value.error is not None and caught.value.error.code == "ParentResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as caught:
        client.rai_policies.get(RG, "ghost", "strict")
    assert caught.value.error is not None and caught.value.error.code == "ParentResourceNotFound"


def test_pages_neither_repeat_nor_skip_when_accounts_change_between_them() -> None:
    """The page token names the last id served, so writes between pages shift nothing. An offset over the
    id order would serve acct-d twice after acct-a is created, and skip one after acct-b is deleted."""
    names = ["acct-b", "acct-d", "acct-f", "acct-h", "acct-j"]
    with Emulator({"resources": [openai_account(n) for n in names], "options": {"pageSize": 2}}) as emu:
        first = raw(emu, "GET", f"{PROVIDER}/accounts")
        assert first.status_code == 200, first.text
        served = [a["name"] for a in first.json()["value"]]
        assert served == ["acct-b", "acct-d"]
        # One sorts before everything served so far, one after everything.
        for name in ("acct-a", "acct-z"):
            assert raw(emu, "PUT", account_id(name), json=NEW_ACCOUNT).status_code == 201
        second = _follow(emu, first.json()["nextLink"])
        served += [a["name"] for a in second.json()["value"]]
        assert raw(emu, "DELETE", account_id("acct-b")).status_code == 200  # one already served goes
        link = second.json().get("nextLink")
        while link:
            page = _follow(emu, link)
            assert page.status_code == 200, page.text
            served += [a["name"] for a in page.json()["value"]]
            link = page.json().get("nextLink")
        assert len(served) == len(set(served)), served
        assert set(names) <= set(served), served
        assert "acct-z" in served

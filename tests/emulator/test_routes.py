"""Routes: paging, keys, auth and api-version checks, ARM errors, PUTs, the request log and state dumps."""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import (
    Account,
    AccountProperties,
    Deployment,
    DeploymentModel,
    DeploymentProperties,
    RaiPolicy,
    RaiPolicyContentFilter,
    RaiPolicyProperties,
    Sku,
)

from emulator import Emulator
from tests.emulator.conftest import (
    API,
    OTHER_SUB,
    RG,
    SUB,
    account_id,
    deployment,
    make_client,
    openai_account,
    raw,
)

ONE = account_id("aoai-one")
PROVIDER = "providers/Microsoft.CognitiveServices"


# --- paging -------------------------------------------------------------------------------------
@pytest.fixture
def many() -> dict[str, Any]:
    accounts = [openai_account(f"a{i}", rg="rg-a" if i < 3 else "rg-b") for i in range(5)]
    accounts.append(openai_account("elsewhere", sub=OTHER_SUB))
    deployments = [deployment("a0", f"d{i}", rg="rg-a") for i in range(3)]
    return {"resources": accounts + deployments, "options": {"pageSize": 2}}


def test_list_accounts_pages_through_the_sdk(many: dict[str, Any]) -> None:
    with Emulator(many) as emu, make_client(emu) as client:
        assert [a.name for a in client.accounts.list()] == ["a0", "a1", "a2", "a3", "a4"]
        pages = emu.requests
        tokens = [r.query.get("$skipToken") for r in pages]
        assert tokens[0] is None and all(tokens[1:]) and len(set(tokens)) == 3
        assert all(r.path == f"/subscriptions/{SUB}/{PROVIDER}/accounts" for r in pages)
        emu.clear_requests()
        assert [a.name for a in client.accounts.list_by_resource_group("rg-a")] == ["a0", "a1", "a2"]
        assert [a.name for a in client.accounts.list_by_resource_group("RG-B")] == ["a3", "a4"]
        assert len(emu.requests) == 3
        emu.clear_requests()
        assert [d.name for d in client.deployments.list("rg-a", "a0")] == ["d0", "d1", "d2"]
        assert len(emu.requests) == 2


def test_next_link_is_absolute_on_the_emulator(many: dict[str, Any]) -> None:
    with Emulator(many) as emu:
        first = raw(emu, "GET", f"/subscriptions/{SUB}/{PROVIDER}/accounts").json()
        assert len(first["value"]) == 2
        assert first["nextLink"].startswith(f"{emu.endpoint}/subscriptions/{SUB}/")
        second = requests.get(first["nextLink"], headers={"Authorization": "Bearer t"}, verify=emu.ca_path, timeout=10)
        last = requests.get(
            second.json()["nextLink"], headers={"Authorization": "Bearer t"}, verify=emu.ca_path, timeout=10
        )
        assert [a["name"] for a in last.json()["value"]] == ["a4"]
        assert "nextLink" not in last.json()
        for token in ("x", "4", "eyJhZnRlciI6IDR9"):  # not base64 JSON; an offset; {"after": 4}
            bad = raw(
                emu,
                "GET",
                f"/subscriptions/{SUB}/{PROVIDER}/accounts",
                params={"api-version": API, "$skipToken": token},
            )
            assert (bad.status_code, bad.json()["error"]["code"]) == (400, "InvalidSkipToken")


# --- keys ---------------------------------------------------------------------------------------
def test_list_and_regenerate_keys(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    keys = client.accounts.list_keys(RG, "aoai-one")
    assert (keys.key1, keys.key2) == ("scenario-key-one", "scenario-key-two")
    after = client.accounts.regenerate_key(RG, "aoai-one", "Key2")
    assert after.key1 == "scenario-key-one"
    assert after.key2 not in ("scenario-key-two", "")
    assert emu.requests[-1].body == {"keyName": "Key2"}
    assert emu.dump_state()["accountKeys"][ONE] == {"key1": after.key1, "key2": after.key2}
    generated = client.accounts.list_keys(RG, "aoai-two")  # no keys in the scenario: made at load
    assert generated.key1 and generated.key2 and generated.key1 != generated.key2


def test_regenerate_key_needs_a_valid_key_name(emu: Emulator) -> None:
    for body in ({"keyName": "Key3"}, {}, None):
        reply = raw(emu, "POST", f"{ONE}/regenerateKey", json=body)
        assert reply.status_code == 400, body
        assert reply.json()["error"]["code"] in ("InvalidKeyName", "InvalidRequestContent")


def test_keys_never_reach_the_log(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="emulator"):
        raw(emu, "POST", f"{ONE}/listKeys")
        fresh = raw(emu, "POST", f"{ONE}/regenerateKey", json={"keyName": "Key1"}).json()
    assert "listKeys" in caplog.text
    assert "scenario-key" not in caplog.text
    assert fresh["key1"] not in caplog.text
    assert "emulator-token" not in caplog.text


# --- ARM checks and errors ----------------------------------------------------------------------
def test_bearer_token_required(emu: Emulator) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer "}):
        reply = raw(emu, "GET", ONE, headers=headers)
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == "AuthenticationFailed"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer ")


def test_api_version_required(emu: Emulator) -> None:
    reply = raw(emu, "GET", ONE, params={})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "MissingApiVersionParameter"
    assert raw(emu, "GET", ONE, params={"api-version": "2023-05-01"}).status_code == 200


def test_missing_resources_are_arm_404s(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        client.accounts.get(RG, "ghost")
    assert caught.value.error is not None
    assert caught.value.error.code == "ResourceNotFound"
    assert caught.value.error.message.startswith(
        f"The Resource 'Microsoft.CognitiveServices/accounts/ghost' under resource group '{RG}' was not found."
    )
    with pytest.raises(ResourceNotFoundError):
        client.deployments.get(RG, "aoai-one", "ghost")
    with pytest.raises(ResourceNotFoundError):
        client.rai_policies.get(RG, "aoai-one", "ghost")
    with pytest.raises(ResourceNotFoundError):
        list(client.deployments.list(RG, "ghost"))
    assert raw(emu, "POST", f"{account_id('ghost')}/listKeys").status_code == 404


def test_unknown_routes_and_methods(emu: Emulator) -> None:
    unknown = raw(emu, "GET", f"{ONE}/commitmentPlans")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "InvalidResourceType"
    assert "commitmentPlans" in unknown.json()["error"]["message"]
    assert raw(emu, "GET", "/nowhere").json()["error"]["code"] == "InvalidResourceType"
    not_allowed = raw(emu, "POST", ONE)
    assert not_allowed.status_code == 405
    assert not_allowed.json()["error"]["code"] == "MethodNotAllowed"
    patch_policy = raw(emu, "PATCH", f"{ONE}/raiPolicies/raiPolicyName", json={})
    assert (patch_policy.status_code, patch_policy.json()["error"]["code"]) == (405, "MethodNotAllowed")


def test_ids_compare_case_insensitively(emu: Emulator) -> None:
    lowered = ONE.replace("resourceGroups", "resourcegroups").replace("aoai-one", "AOAI-ONE")
    reply = raw(emu, "GET", lowered)
    assert reply.status_code == 200
    assert reply.json()["id"] == ONE  # the stored id comes back as stored


def test_invalid_json_body_is_a_400(emu: Emulator) -> None:
    reply = raw(emu, "PATCH", ONE, data=b"{not json", headers={"Authorization": "Bearer t"})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "InvalidRequestContent"
    assert emu.requests[-1].body is None


# --- PUTs (create or replace) -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_put_account_and_children(emu: Emulator, client: CognitiveServicesManagementClient, mode: str) -> None:
    emu.set_lro_mode(mode)
    created = client.accounts.begin_create(
        RG,
        "aoai-new",
        Account(
            location="eastus",
            kind="OpenAI",
            sku=Sku(name="S0"),
            properties=AccountProperties(disable_local_auth=True),
        ),
    ).result()
    assert created.id == account_id("aoai-new")
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.disable_local_auth is True
    assert client.accounts.list_keys(RG, "aoai-new").key1

    policy = client.rai_policies.create_or_update(
        RG,
        "aoai-new",
        "strict",
        RaiPolicy(
            properties=RaiPolicyProperties(
                base_policy_name="Microsoft.Default",
                mode="Blocking",
                content_filters=[
                    RaiPolicyContentFilter(name="Jailbreak", enabled=True, blocking=True, source="Prompt")
                ],
            )
        ),
    )
    assert policy.properties.type == "UserManaged"
    dep = client.deployments.begin_create_or_update(
        RG,
        "aoai-new",
        "chat",
        Deployment(
            sku=Sku(name="Standard", capacity=1),
            properties=DeploymentProperties(
                model=DeploymentModel(format="OpenAI", name="gpt-4o", version="2024-08-06"),
                rai_policy_name="strict",
            ),
        ),
    ).result()
    assert dep.properties.rai_policy_name == "strict"
    assert dep.properties.provisioning_state == "Succeeded"
    assert client.deployments.get(RG, "aoai-new", "chat").properties.rai_policy_name == "strict"
    puts = [r for r in emu.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [201, 201, 201]


def test_put_account_requires_a_location(emu: Emulator) -> None:
    reply = raw(emu, "PUT", account_id("nowhere"), json={"kind": "OpenAI", "properties": {}})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "LocationRequired"


# --- request log and state ----------------------------------------------------------------------
def test_write_requests_as_json_lines(emu: Emulator, tmp_path: Path) -> None:
    emu.add_fault("GET", r"/accounts/aoai-two$", "throttle", retry_after=0)
    raw(emu, "GET", account_id("aoai-two"))
    raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    out = tmp_path / "requests.jsonl"
    emu.write_requests(out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    query = {"api-version": API}
    agent = {"User-Agent": requests.utils.default_user_agent()}
    assert lines == [
        {
            "method": "GET",
            "path": account_id("aoai-two"),
            "query": query,
            "headers": agent,
            "body": None,
            "status": 429,
            "fault": "throttle",
        },
        {
            "method": "PATCH",
            "path": ONE,
            "query": query,
            "headers": {**agent, "Content-Type": "application/json"},
            "body": {"properties": {"disableLocalAuth": True}},
            "status": 200,
        },
    ]


def test_dump_state_round_trips(scenario: dict[str, Any]) -> None:
    scenario["options"] = {
        "lro": "async",
        "operationSeconds": 2.5,
        "pageSize": 7,
        "ifMatch": "ignored",
        "rateLimits": {"reads": 10, "writes": 5},
    }
    scenario["_note"] = "keys starting with _ are comments"
    with Emulator(scenario) as emu:
        dumped = emu.dump_state()
    assert dumped["resources"] == scenario["resources"]
    assert dumped["options"] == scenario["options"]
    assert "_note" not in dumped
    assert dumped["accountKeys"][ONE] == {"key1": "scenario-key-one", "key2": "scenario-key-two"}
    assert set(dumped["accountKeys"]) == {ONE, account_id("aoai-two")}
    assert Emulator(dumped).dump_state() == dumped


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"resources": [{"name": "no-id"}]}, "string 'id'"),
        ({"resources": [openai_account("x"), openai_account("X")]}, "duplicate"),
        ({"resources": [{**openai_account("x"), "type": "Microsoft.Storage/storageAccounts"}]}, "implies"),
        ({"options": {"lro": "later"}}, "options.lro"),
        ({"options": {"pagesize": 3}}, "unknown scenario options"),
        ({"options": {"ifMatch": "sometimes"}}, "options.ifMatch"),
        ({"options": {"operationSeconds": -1}}, "operationSeconds"),
        ({"dataPlane": {"files": []}}, r"unknown scenario sections \['dataPlane'\]"),
        ({"clock": {"now": "2026-12-01T00:00:00"}}, "no timezone"),
        ({"clock": "yesterday"}, "clock"),
        ({"faults": [{"path": "/x", "kind": "meteor"}]}, r"faults\[0\]: unknown fault kind"),
        ({"accountKeys": {ONE: {"primary": "k"}}}, "accountKeys"),
    ],
)
def test_bad_scenarios_are_rejected(scenario: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Emulator(scenario)


def test_other_resource_types_are_readable_by_id() -> None:
    site = {
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Web/sites/app1",
        "name": "app1",
        "type": "Microsoft.Web/sites",
        "location": "eastus",
        "properties": {"httpsOnly": True},
    }
    with Emulator({"resources": [site]}) as emu:
        assert raw(emu, "GET", site["id"]).json() == site


def test_lifecycle_errors() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.endpoint
    with emu:
        with pytest.raises(RuntimeError, match="already started"):
            emu.start()
        with pytest.raises(ValueError):
            emu.set_lro_mode("eventually")
    with pytest.raises(RuntimeError):
        _ = emu.ca_path


# Eight writers, each to a different writable property (a value unlike the stored one).
_CONCURRENT = {
    "disableLocalAuth": True,
    "restrictOutboundNetworkAccess": True,
    "allowedFqdnList": ["example.org"],
    "customSubDomainName": "renamed",
    "storedCompletionsDisabled": True,
    "dynamicThrottlingEnabled": True,
    "allowProjectManagement": True,
    "defaultProject": "p1",
}


def test_concurrent_writes_lose_nothing(emu: Emulator) -> None:
    """PATCHes merged under the store lock: eight writers to different properties all land.

    The store's write delay sleeps between each write's read and its store, so every writer is in flight
    at once: without the lock (a plain read-then-write) all but one change would be lost, deterministically.
    """
    emu.set_write_delay(0.05)
    barrier = threading.Barrier(len(_CONCURRENT))

    def write(item: tuple[str, Any]) -> int:
        barrier.wait(timeout=10)
        return raw(emu, "PATCH", ONE, json={"properties": {item[0]: item[1]}}).status_code

    with ThreadPoolExecutor(max_workers=len(_CONCURRENT)) as pool:
        assert list(pool.map(write, _CONCURRENT.items())) == [200] * len(_CONCURRENT)
    props = raw(emu, "GET", ONE).json()["properties"]
    assert {name: props.get(name) for name in _CONCURRENT} == _CONCURRENT
    assert len([r for r in emu.requests if r.method == "PATCH"]) == len(_CONCURRENT)

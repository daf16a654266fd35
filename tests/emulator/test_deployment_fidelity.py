"""Deployments and RAI policies in the emulator, through the real SDK client: write bodies validated against the
swagger, paging, fields of a newer API kept, SystemManaged policies read-only, which writes are long-running."""

from __future__ import annotations

import json
import time
from io import BytesIO
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import (
    Deployment,
    DeploymentModel,
    DeploymentProperties,
    RaiPolicy,
    RaiPolicyContentFilter,
    RaiPolicyProperties,
    Sku,
)

from emulator import Emulator
from emulator.deployment_builders import default_policies, deployment, rai_policy
from tests.emulator.conftest import RG, account_id, example, make_client, openai_account, raw, raw_json
from tests.emulator.swagger import Swagger

ONE = account_id("aoai-one")
CHAT = f"{ONE}/deployments/chat"
PUT_2026 = example("2026-09-01", "PutDeployment")
# Read-only per the swagger: what a client must strip before sending a GET body back as a PUT.
SERVER_OWNED = ("id", "name", "type", "etag", "systemData")


@pytest.fixture
def scenario() -> dict[str, Any]:
    return {
        "resources": [
            openai_account("aoai-one"),
            deployment(ONE, "chat", policy="strict"),
            rai_policy(ONE, "strict"),
            *default_policies(ONE),
        ]
    }


def _stored(emu: Emulator, resource_id: str) -> dict[str, Any]:
    return next(r for r in emu.dump_state()["resources"] if r["id"].lower() == resource_id.lower())


def _put_body(resource: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in resource.items() if k not in SERVER_OWNED}
    body["properties"] = {k: v for k, v in resource["properties"].items() if k != "provisioningState"}
    return body


def test_builders_give_bodies_the_swagger_accepts(emu: Emulator, swagger: Swagger) -> None:
    """The builders' JSON is valid, loads unchanged, and names its filters as the example does."""
    for resource_id, definition in ((CHAT, "Deployment"), (f"{ONE}/raiPolicies/strict", "RaiPolicy")):
        stored = raw(emu, "GET", resource_id).json()
        assert swagger.errors(definition, stored) == []
        assert stored == _stored(emu, resource_id)
    jailbreak = [f for f in rai_policy(ONE, "p")["properties"]["contentFilters"] if f["name"] == "Jailbreak"]
    assert jailbreak == [{"name": "Jailbreak", "blocking": True, "source": "Prompt", "enabled": True}]
    off = rai_policy(ONE, "p", jailbreak=(True, False), indirect_attack=(True, True))["properties"]["contentFilters"]
    assert {"name": "Jailbreak", "blocking": False, "source": "Prompt", "enabled": True} in off
    assert off[-1] == {"name": "Indirect Attack", "blocking": True, "source": "Prompt", "enabled": True}
    assert all(f["name"] != "Jailbreak" for f in rai_policy(ONE, "p", jailbreak=None)["properties"]["contentFilters"])
    assert [p["properties"]["type"] for p in default_policies(ONE)] == ["SystemManaged", "SystemManaged"]


def test_a_deployment_put_body_is_validated_against_the_swagger(
    emu: Emulator, client: CognitiveServicesManagementClient, swagger: Swagger
) -> None:
    good = _put_body(_stored(emu, CHAT))
    assert swagger.errors("Deployment", good) == []
    for bad, target in (
        ({**good, "sku": {"capacity": 1}}, "sku"),  # Sku.name is required
        ({**good, "sku": {"name": "Standard", "capacity": "ten"}}, "sku.capacity"),
        (
            {**good, "properties": {**good["properties"], "versionUpgradeOption": "Sometimes"}},
            "properties.versionUpgradeOption",
        ),
        ({**good, "properties": {**good["properties"], "raiPolicyName": 7}}, "properties.raiPolicyName"),
    ):
        assert swagger.errors("Deployment", bad), bad  # the swagger refuses it too
        reply = raw(emu, "PUT", CHAT, json=bad)
        assert reply.status_code == 400, bad
        error = reply.json()["error"]
        assert error["code"] == "InvalidRequestContent"
        assert error.get("target") == target
    with pytest.raises(HttpResponseError) as refused:  # the same through the SDK, raw bytes as warden sends them
        client.deployments.begin_create_or_update(RG, "aoai-one", "chat", BytesIO(json.dumps(bad).encode()))
    assert (refused.value.status_code, refused.value.error.code) == (400, "InvalidRequestContent")
    assert _stored(emu, CHAT)["properties"]["raiPolicyName"] == "strict"  # nothing refused was applied


def test_150_deployments_come_back_across_pages() -> None:
    names = [f"d{i:03d}" for i in range(150)]
    with Emulator({"resources": [openai_account("aoai-one"), *(deployment(ONE, n) for n in names)]}) as emu:
        emu.set_options(page_size=40)
        with make_client(emu) as client:
            listed = [d.name for d in client.deployments.list(RG, "aoai-one")]
        assert listed == names
        assert [r.path for r in emu.requests] == [f"{ONE}/deployments"] * 4  # 40 + 40 + 40 + 30
        queries = [r.query for r in emu.requests]
        assert "$skipToken" not in queries[0] and all("$skipToken" in q for q in queries[1:])


def test_fields_of_the_2026_api_survive_a_get_put_round_trip(client: CognitiveServicesManagementClient) -> None:
    """A deployment carrying the 2026-09-01 PutDeployment example's deploymentState and serviceTier, read and
    PUT back through the SDK (2025-09-01) as raw JSON, keeps them; only the etag moves."""
    stored = {**PUT_2026["responses"]["200"]["body"], "id": f"{ONE}/deployments/tiered", "name": "tiered"}
    with Emulator({"resources": [openai_account("aoai-one"), stored]}) as emu, make_client(emu) as sdk:
        read = sdk.deployments.get(RG, "aoai-one", "tiered", cls=raw_json)
        assert read == stored
        body = json.dumps(_put_body(read)).encode()
        sdk.deployments.begin_create_or_update(RG, "aoai-one", "tiered", BytesIO(body), polling_interval=0).result()
        put = next(r for r in emu.requests if r.method == "PUT")
        assert put.body["properties"]["deploymentState"] == "Running"
        assert put.body["properties"]["serviceTier"] == "Priority"
        again = sdk.deployments.get(RG, "aoai-one", "tiered", cls=raw_json)
    assert {k: v for k, v in again.items() if k != "etag"} == stored
    assert again["etag"]


def _put_2026_example(emu: Emulator) -> dict[str, Any]:
    """PutDeployment (2026-09-01): its request, sent with its api-version to a new name, in async mode."""
    params = PUT_2026["parameters"]
    emu.set_lro_mode("async", 5)
    reply = raw(emu, "PUT", CHAT, params={"api-version": params["api-version"]}, json=params["deployment"])
    assert reply.status_code == 201
    got: dict[str, Any] = reply.json()
    return got


def _ignoring(body: dict[str, Any], *top: str, state: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k not in top}
    if state:
        out["properties"] = {k: v for k, v in body["properties"].items() if k != "provisioningState"}
    return out


def test_the_2026_put_example_answers_its_201_body() -> None:
    """The example's request creates the deployment and answers its 201 body, but for the id, name and etag
    the emulator gives and the in-progress state (next test); when done, the new fields are still there."""
    expected = PUT_2026["responses"]["201"]["body"]
    with Emulator({"resources": [openai_account("aoai-one")]}) as emu:
        got = _put_2026_example(emu)
        assert _ignoring(got, "id", "name", "etag", state=True) == _ignoring(expected, "id", "name", state=True)
        emu.clock.advance(5)
        done = raw(emu, "GET", CHAT).json()["properties"]
    assert (done["provisioningState"], done["deploymentState"], done["serviceTier"]) == (
        "Succeeded",
        "Running",
        "Priority",
    )


def test_the_2026_put_example_201_is_accepted() -> None:
    with Emulator({"resources": [openai_account("aoai-one")]}) as emu:
        got = _put_2026_example(emu)
    assert (
        got["properties"]["provisioningState"]
        == PUT_2026["responses"]["201"]["body"]["properties"]["provisioningState"]
    )


def test_a_system_managed_policy_cannot_be_written(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    before = _stored(emu, f"{ONE}/raiPolicies/Microsoft.DefaultV2")
    weaker = RaiPolicy(
        properties=RaiPolicyProperties(
            mode="Blocking",
            content_filters=[RaiPolicyContentFilter(name="Jailbreak", enabled=False, blocking=False, source="Prompt")],
        )
    )
    for name in ("Microsoft.DefaultV2", "Microsoft.Default"):
        with pytest.raises(HttpResponseError) as refused:
            client.rai_policies.create_or_update(RG, "aoai-one", name, weaker)
        assert (refused.value.status_code, refused.value.error.code) == (400, "OperationNotAllowed")
    assert _stored(emu, f"{ONE}/raiPolicies/Microsoft.DefaultV2") == before
    # A UserManaged policy of a new name is created UserManaged, whatever the body claims.
    raw_policy = {"properties": {"type": "SystemManaged", "mode": "Blocking", "contentFilters": []}}
    made = client.rai_policies.create_or_update(
        RG, "aoai-one", "copy", BytesIO(json.dumps(raw_policy).encode()), cls=raw_json
    )
    assert made["properties"]["type"] == "UserManaged"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_rai_policy_put_is_not_long_running(
    emu: Emulator, client: CognitiveServicesManagementClient, mode: str
) -> None:
    emu.set_lro_mode(mode, 5)
    assert not hasattr(client.rai_policies, "begin_create_or_update")  # the SDK has no poller for it
    reply = raw(emu, "PUT", f"{ONE}/raiPolicies/strict", json={"properties": {"mode": "Deferred"}})
    assert reply.status_code == 200
    assert "Azure-AsyncOperation" not in reply.headers and "Location" not in reply.headers
    assert reply.json()["properties"]["mode"] == "Deferred"  # applied at once, whatever the LRO mode
    assert _stored(emu, f"{ONE}/raiPolicies/strict")["properties"]["mode"] == "Deferred"
    emu.clear_requests()
    client.rai_policies.create_or_update(RG, "aoai-one", "strict", RaiPolicy(properties=RaiPolicyProperties()))
    assert [(r.method, r.status, r.kind) for r in emu.requests] == [("PUT", 200, "arm")]


def _repoint(policy: str) -> Deployment:
    return Deployment(
        sku=Sku(name="GlobalStandard", capacity=10),
        properties=DeploymentProperties(
            model=DeploymentModel(format="OpenAI", name="gpt-4o", version="2024-11-20"), rai_policy_name=policy
        ),
    )


def test_a_deployment_put_is_long_running(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    """sync: 200 with the operation monitors, polled once, then the final GET (final-state-via
    azure-async-operation: the resource URL)."""
    result = client.deployments.begin_create_or_update(
        RG, "aoai-one", "chat", _repoint("Microsoft.DefaultV2"), polling_interval=0
    ).result()
    assert result.properties.rai_policy_name == "Microsoft.DefaultV2"
    assert [(r.method, r.path, r.status, r.kind) for r in emu.requests] == [
        ("PUT", CHAT, 200, "arm"),
        ("GET", emu.requests[1].path, 200, "operation-status"),
        ("GET", CHAT, 200, "arm"),
    ]
    assert "/operationStatuses/" in emu.requests[1].path


def test_a_deployment_put_is_long_running_in_async_mode(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    """async: the PUT is accepted (Accepted), polls say InProgress and the old policy holds until the clock
    reaches the operation's end; then the poller finishes and the deployment uses the new policy."""
    emu.set_lro_mode("async", 5)
    poller = client.deployments.begin_create_or_update(RG, "aoai-one", "chat", _repoint("Microsoft.DefaultV2"))
    assert (emu.requests[0].method, emu.requests[0].status) == ("PUT", 200)
    deadline = time.monotonic() + 10
    while not any(r.kind == "operation-status" for r in emu.requests):  # the poller's thread polls every 10 ms
        assert time.monotonic() < deadline, "the poller never polled"
        time.sleep(0.01)
    assert not poller.done()
    running = raw(emu, "GET", CHAT).json()["properties"]
    assert (running["raiPolicyName"], running["provisioningState"]) == ("strict", "Accepted")
    emu.clock.advance(5)
    result = poller.result(timeout=10)
    assert poller.done() and result.properties.rai_policy_name == "Microsoft.DefaultV2"
    assert result.properties.provisioning_state == "Succeeded"
    assert emu.requests[-1].method == "GET" and emu.requests[-1].path == CHAT

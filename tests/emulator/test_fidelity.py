"""Fidelity is measured: responses validate against the 2025-09-01 swagger; upstream examples round-trip."""

from __future__ import annotations

from typing import Any

import pytest
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, Sku

from emulator import Emulator
from tests.emulator.conftest import (
    RG,
    SUB,
    account_id,
    example,
    example_body,
    make_client,
    openai_account,
    raw,
    raw_json,
)
from tests.emulator.swagger import Swagger
from tests.emulator.test_etags import EMULATOR_ETAG

ACCOUNT = "/accounts/{accountName}"
ONE = account_id("aoai-one")


def test_validator_rejects_wrong_bodies(swagger: Swagger) -> None:
    """The validator can fail: enum, type and nested-item violations are all caught."""
    assert swagger.errors("Account", {"properties": {"publicNetworkAccess": "Sometimes"}})
    assert swagger.errors("Account", {"sku": "S0"})
    assert swagger.errors("ApiKeys", {"key1": 1, "key2": "x"})
    assert swagger.errors("DeploymentListResult", {"value": {"not": "a list"}})
    assert swagger.errors("RaiPolicy", {"properties": {"contentFilters": [{"severityThreshold": "Extreme"}]}})
    with pytest.raises(AssertionError, match="does not match Account"):
        swagger.validate_response(ACCOUNT, "GET", 200, {"properties": {"disableLocalAuth": "yes"}})


def test_account_responses_match_swagger(emu: Emulator, swagger: Swagger) -> None:
    got = raw(emu, "GET", ONE)
    swagger.validate_response(ACCOUNT, "GET", got.status_code, got.json())
    listed = raw(emu, "GET", f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts")
    assert swagger.errors("AccountListResult", listed.json()) == []
    in_group = raw(
        emu, "GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts"
    )
    assert swagger.errors("AccountListResult", in_group.json()) == []
    patched = raw(emu, "PATCH", ONE, json={"properties": {"publicNetworkAccess": "Disabled"}})
    swagger.validate_response(ACCOUNT, "PATCH", patched.status_code, patched.json())
    emu.set_lro_mode("async")
    accepted = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert accepted.status_code == 202
    swagger.validate_response(ACCOUNT, "PATCH", 202, accepted.json())


def test_key_responses_match_swagger(emu: Emulator, swagger: Swagger) -> None:
    keys = raw(emu, "POST", f"{ONE}/listKeys")
    swagger.validate_response("/listKeys", "POST", keys.status_code, keys.json())
    regenerated = raw(emu, "POST", f"{ONE}/regenerateKey", json={"keyName": "Key1"})
    swagger.validate_response("/regenerateKey", "POST", regenerated.status_code, regenerated.json())


def test_deployment_and_policy_responses_match_swagger(emu: Emulator, swagger: Swagger) -> None:
    one = raw(emu, "GET", f"{ONE}/deployments/chat")
    swagger.validate_response("/deployments/{deploymentName}", "GET", one.status_code, one.json())
    many = raw(emu, "GET", f"{ONE}/deployments")
    swagger.validate_response("/deployments", "GET", many.status_code, many.json())
    policy = raw(emu, "GET", f"{ONE}/raiPolicies/raiPolicyName")
    swagger.validate_response("/raiPolicies/{raiPolicyName}", "GET", policy.status_code, policy.json())
    policies = raw(emu, "GET", f"{ONE}/raiPolicies")
    swagger.validate_response("/raiPolicies", "GET", policies.status_code, policies.json())


def test_error_bodies_match_common_types(emu: Emulator, swagger: Swagger) -> None:
    missing = raw(emu, "GET", account_id("nope"))
    assert missing.status_code == 404
    assert swagger.errors("__common__ErrorResponse", missing.json()) == []
    bad_key = raw(emu, "POST", f"{ONE}/regenerateKey", json={"keyName": "Key3"})
    assert bad_key.status_code == 400
    assert swagger.errors("__common__ErrorResponse", bad_key.json()) == []


def test_sdk_built_responses_also_validate(emu: Emulator, swagger: Swagger) -> None:
    """The same checks on what the real SDK receives (cls= hands back the raw JSON)."""
    with make_client(emu) as client:
        body = client.accounts.get(RG, "aoai-one", cls=raw_json)
        swagger.validate_response(ACCOUNT, "GET", 200, body)
        poller = client.accounts.begin_update(
            RG, "aoai-one", Account(properties=AccountProperties(public_network_access="Disabled"))
        )
        updated = poller.result()
        assert updated.properties.public_network_access == "Disabled"
        keys = client.accounts.regenerate_key(RG, "aoai-one", "Key2", cls=raw_json)
        swagger.validate_response("/regenerateKey", "POST", 200, keys)


def test_read_only_lists_equal_the_swagger(swagger: Swagger) -> None:
    """PATCH/PUT ignore exactly the properties the swagger marks readOnly."""

    def read_only(definition: str) -> set[str]:
        props = swagger.doc["definitions"][definition]["properties"]
        return {name for name, spec in props.items() if spec.get("readOnly")}

    assert swagger.read_only("Account") == read_only("AccountProperties")
    assert swagger.read_only("Deployment") == read_only("DeploymentProperties")
    assert {"provisioningState", "endpoint", "privateEndpointConnections"} <= swagger.read_only("Account")
    assert swagger.read_only("RaiPolicy") == read_only("RaiPolicyProperties") == {"type"}


# --- upstream examples drop in and come back unchanged ----------------------------------------------
def _parent_of(resource_id: str) -> list[dict[str, Any]]:
    """The account a child example belongs to (the examples come without it; ARM needs the parent)."""
    segs = resource_id.strip("/").split("/")
    if len(segs) <= 8:
        return []
    return [openai_account(segs[7], segs[3], segs[1])]


SINGLE_EXAMPLES = [
    ("2025-09-01", "GetAccount", "accounts"),
    ("2025-09-01", "CreateAccount", "accounts"),
    ("2025-09-01", "GetDeployment", "deployments"),
    ("2025-09-01", "GetRaiPolicy", "rai_policies"),
]


def _get_through_sdk(emu: Emulator, operations: str, resource_id: str) -> Any:
    segs = resource_id.strip("/").split("/")
    sub, rg = segs[1], segs[3]
    with make_client(emu, sub) as client:
        if operations == "accounts":
            return client.accounts.get(rg, segs[7], cls=raw_json)
        if operations == "deployments":
            return client.deployments.get(rg, segs[7], segs[9], cls=raw_json)
        return client.rai_policies.get(rg, segs[7], segs[9], cls=raw_json)


@pytest.mark.parametrize(("version", "name", "operations"), SINGLE_EXAMPLES)
def test_single_example_round_trips(version: str, name: str, operations: str, swagger: Swagger) -> None:
    body = example_body(version, name)
    with Emulator({"resources": [*_parent_of(body["id"]), body]}) as emu:
        assert _get_through_sdk(emu, operations, body["id"]) == body
        assert raw(emu, "GET", body["id"]).json() == body
        assert emu.dump_state()["resources"][-1] == body
    definition = {"accounts": "Account", "deployments": "Deployment", "rai_policies": "RaiPolicy"}[operations]
    assert swagger.errors(definition, body) == []


@pytest.mark.parametrize(
    ("version", "name", "collection"),
    [("2025-09-01", "ListDeployments", "deployments"), ("2025-06-01", "ListRaiPolicies", "raiPolicies")],
)
def test_list_example_round_trips(version: str, name: str, collection: str) -> None:
    body = example_body(version, name)
    with Emulator({"resources": [*_parent_of(body["value"][0]["id"]), *body["value"]]}) as emu:
        account = body["value"][0]["id"].rsplit("/", 2)[0]
        assert raw(emu, "GET", f"{account}/{collection}").json() == body
        segs = account.strip("/").split("/")
        with make_client(emu, segs[1]) as client:
            ops = client.deployments if collection == "deployments" else client.rai_policies
            names = [item.name for item in ops.list(segs[3], segs[7])]
        assert names == [item["name"] for item in body["value"]]


# --- upstream write examples: the request goes in, the example's response comes back -------------------
def _without_etag(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "etag"}


def _example_account_id(params: dict[str, Any]) -> str:
    return account_id(params["accountName"], params["resourceGroupName"], params["subscriptionId"])


UPDATE = example("2025-09-01", "UpdateAccount")


def test_update_account_example_round_trips(swagger: Swagger) -> None:
    """UpdateAccount: its 200 body stored, PATCHed with its request, answers its 200 body.

    Only the etag legitimately differs: every applied write mints a fresh one (same format). Like the
    example's 200, the reply carries Location and Azure-AsyncOperation headers, which the SDK polls once.
    """
    params, expected = UPDATE["parameters"], UPDATE["responses"]["200"]["body"]
    assert _example_account_id(params) == expected["id"]
    with Emulator({"resources": [expected]}) as emu:
        reply = raw(emu, "PATCH", expected["id"], params={"api-version": params["api-version"]}, json=params["account"])
        assert reply.status_code == 200
        assert "/operationResults/" in reply.headers["Location"]
        status = raw(emu, "GET", reply.headers["Azure-AsyncOperation"].removeprefix(emu.endpoint).split("?")[0])
        assert status.json()["status"] == "Succeeded"
        got = reply.json()
        assert _without_etag(got) == _without_etag(expected)
        assert got["etag"] != expected["etag"] and EMULATOR_ETAG.match(got["etag"])
        assert raw(emu, "GET", expected["id"]).json() == got
    swagger.validate_response(ACCOUNT, "PATCH", 200, got)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_update_account_example_through_the_sdk(mode: str) -> None:
    """The SDK sends exactly the example's request; a stored S0 account comes back as the example's S2 one.

    In async mode the 202 body matches the example's 202 body except the etag and provisioningState: the
    emulator answers "Accepted" while the operation runs (the example shows "Succeeded", which a real 202
    cannot carry for an unfinished operation).
    """
    params, expected = UPDATE["parameters"], UPDATE["responses"]["200"]["body"]
    stored = {**expected, "sku": {"name": "S0"}}
    with Emulator({"resources": [stored]}) as emu:
        emu.set_lro_mode(mode)
        segs = expected["id"].strip("/").split("/")
        with make_client(emu, segs[1]) as client:
            account = Account(location=params["account"]["location"], sku=Sku(name=params["account"]["sku"]["name"]))
            got = client.accounts.begin_update(segs[3], segs[7], account, cls=raw_json).result()
        assert emu.requests[0].body == params["account"]
        assert _without_etag(got) == _without_etag(expected)
        assert EMULATOR_ETAG.match(got["etag"])
        if mode == "async":
            accepted = raw(emu, "PATCH", expected["id"], json=params["account"]).json()
            want = _without_etag(UPDATE["responses"]["202"]["body"])
            want["properties"] = {**want["properties"], "provisioningState": "Accepted"}
            assert _without_etag(accepted) == want


@pytest.mark.parametrize("name", ["ListKeys", "RegenerateKey"])
def test_key_examples_round_trip(name: str, swagger: Swagger) -> None:
    """ListKeys answers the example's keys once they are seeded; RegenerateKey (keyName from the example)
    keeps the other key as in the example and replaces the named one with a fresh key of the same shape."""
    doc = example("2025-09-01", name)
    params, expected = doc["parameters"], doc["responses"]["200"]["body"]
    aid = _example_account_id(params)
    account = openai_account(params["accountName"], params["resourceGroupName"], params["subscriptionId"])
    with Emulator({"resources": [account], "accountKeys": {aid: expected}}) as emu:
        with make_client(emu, params["subscriptionId"]) as client:
            if name == "ListKeys":
                assert raw(emu, "POST", f"{aid}/listKeys").json() == expected
                got = client.accounts.list_keys(params["resourceGroupName"], params["accountName"], cls=raw_json)
                assert got == expected
                swagger.validate_response("/listKeys", "POST", 200, got)
                return
            body = params["parameters"]
            got = client.accounts.regenerate_key(
                params["resourceGroupName"], params["accountName"], body["keyName"], cls=raw_json
            )
        assert emu.requests[-1].body == body
        swagger.validate_response("/regenerateKey", "POST", 200, got)
        assert set(got) == set(expected) and all(isinstance(v, str) and v for v in got.values())
        named = body["keyName"].lower()
        kept = next(k for k in expected if k != named)
        assert got[kept] == expected[kept]
        assert got[named] != expected[named]
        assert raw(emu, "POST", f"{aid}/listKeys").json() == got

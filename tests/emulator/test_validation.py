"""Write bodies are checked as the resource provider checks them: account PATCH/PUT against the swagger
`Account` schema (400 InvalidRequestContent naming the property), unknown properties ignored, and
SystemManaged RAI policies read-only."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

from emulator import Emulator
from tests.emulator.conftest import RG, account_id, example, example_body, raw

ONE = account_id("aoai-one")
WARDEN_BODIES = [
    {"properties": {"publicNetworkAccess": "Disabled"}},
    {"properties": {"disableLocalAuth": True}},
    {
        "properties": {
            "networkAcls": {
                "defaultAction": "Deny",
                "ipRules": [{"value": "203.0.113.10"}],
                "virtualNetworkRules": [],
                "bypass": "AzureServices",
            }
        }
    },
    {"identity": {"type": "SystemAssigned"}},
    {"properties": {"allowedFqdnList": None}},  # null removes a property
]


def _put(properties: Any) -> dict[str, Any]:
    return {"location": "eastus", "kind": "OpenAI", "sku": {"name": "S0"}, "properties": properties}


@pytest.mark.parametrize(
    ("properties", "path"),
    [
        ({"publicNetworkAccess": "Sometimes"}, "properties.publicNetworkAccess"),
        ({"networkAcls": {"ipRules": "203.0.113.10"}}, "properties.networkAcls.ipRules"),
        ({"networkAcls": {"defaultAction": "Block"}}, "properties.networkAcls.defaultAction"),
        ({"networkAcls": {"ipRules": [{"address": "203.0.113.10"}]}}, "properties.networkAcls.ipRules[0]"),
        ({"disableLocalAuth": "yes"}, "properties.disableLocalAuth"),
        ("Disabled", "properties"),
        ([], "properties"),
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_invalid_account_bodies_are_400(emu: Emulator, method: str, properties: Any, path: str) -> None:
    before = emu.dump_state()
    body = _put(properties) if method == "PUT" else {"properties": properties}
    reply = raw(emu, method, ONE, json=body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "InvalidRequestContent"
    assert error["target"] == path
    assert f"Path '{path}'" in error["message"]
    assert emu.dump_state() == before


def test_identity_type_and_tags_are_checked_too(emu: Emulator) -> None:
    refused = raw(emu, "PATCH", ONE, json={"identity": {"type": "Managed"}})
    assert (refused.status_code, refused.json()["error"]["target"]) == (400, "identity.type")
    refused = raw(emu, "PATCH", ONE, json={"tags": {"n": 1}})
    assert (refused.status_code, refused.json()["error"]["target"]) == (400, "tags.n")


def test_enum_values_match_case_insensitively(emu: Emulator) -> None:
    reply = raw(emu, "PATCH", ONE, json={"properties": {"publicNetworkAccess": "disabled"}})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("body", WARDEN_BODIES)
def test_warden_bodies_pass(emu: Emulator, body: dict[str, Any]) -> None:
    reply = raw(emu, "PATCH", ONE, json=body)
    assert reply.status_code == 200, reply.text


def test_warden_bodies_pass_through_the_sdk(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    acls = NetworkRuleSet(default_action="Deny", ip_rules=[], virtual_network_rules=[], bypass="AzureServices")
    update = Account(properties=AccountProperties(public_network_access="Disabled", network_acls=acls))
    result = client.accounts.begin_update(RG, "aoai-one", update).result()
    assert result.properties.network_acls.default_action == "Deny"


def test_upstream_example_requests_pass(emu: Emulator) -> None:
    created = raw(
        emu, "PUT", account_id("ex-new"), json=example("2025-09-01", "CreateAccount")["parameters"]["account"]
    )
    assert created.status_code == 201, created.text
    updated = raw(emu, "PATCH", ONE, json=example("2025-09-01", "UpdateAccount")["parameters"]["account"])
    assert updated.status_code == 200, updated.text


def test_unknown_properties_are_ignored(emu: Emulator) -> None:
    """Swagger declares no additionalProperties on Account/AccountProperties: ARM drops unknown names."""
    before = raw(emu, "GET", ONE).json()
    reply = raw(
        emu,
        "PATCH",
        ONE,
        json={
            "unknownTop": 1,
            "properties": {"publicNetworkAcess": "Disabled", "networkAcls": {"defaultAction": "Deny", "bogus": 1}},
        },
    )
    assert reply.status_code == 200, reply.text
    after = raw(emu, "GET", ONE).json()
    assert "unknownTop" not in after
    assert "publicNetworkAcess" not in after["properties"]
    assert after["properties"]["publicNetworkAccess"] == before["properties"]["publicNetworkAccess"] == "Enabled"
    assert after["properties"]["networkAcls"] == {"defaultAction": "Deny"}


# --- RAI policies -------------------------------------------------------------------------------
@pytest.fixture
def scenario(scenario: dict[str, Any]) -> dict[str, Any]:
    system = {
        "id": f"{ONE}/raiPolicies/Microsoft.DefaultV2",
        "name": "Microsoft.DefaultV2",
        "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
        "properties": {"type": "SystemManaged", "mode": "Blocking", "contentFilters": []},
    }
    return {**scenario, "resources": [*scenario["resources"], system]}


def test_system_managed_rai_policy_is_read_only(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    before = emu.dump_state()
    path = f"{ONE}/raiPolicies/Microsoft.DefaultV2"
    reply = raw(emu, "PUT", path, json={"properties": {"mode": "Default", "basePolicyName": "Microsoft.Default"}})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["code"], error["target"]) == ("OperationNotAllowed", "properties.type")
    assert "system managed" in error["message"]
    assert emu.dump_state() == before
    with pytest.raises(HttpResponseError) as refused:
        client.rai_policies.create_or_update(RG, "aoai-one", "Microsoft.DefaultV2", {"properties": {"mode": "Default"}})
    assert refused.value.status_code == 400
    # A user-managed policy stays writable.
    user = example_body("2025-09-01", "GetRaiPolicy")
    ok = raw(emu, "PUT", f"{ONE}/raiPolicies/raiPolicyName", json={"properties": user["properties"]})
    assert ok.status_code == 200, ok.text

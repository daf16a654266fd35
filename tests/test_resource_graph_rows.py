"""A Resource Graph row is read into the same snapshot the SDK's Account model gives (warden/azure/resource_graph.py
`row_snapshot`), for every combination of the properties the queryable controls project."""

from __future__ import annotations

import itertools
from typing import Any

from azure.mgmt.cognitiveservices.models import Account

from emulator.builders import account_id
from warden.azure.cognitive import to_snapshot
from warden.azure.resource_graph import row_snapshot

ID = account_id("a")
ACCESS: list[dict[str, Any]] = [{}, {"publicNetworkAccess": "Enabled"}, {"publicNetworkAccess": "Disabled"}]
ACLS: list[dict[str, Any]] = [
    {},
    {"networkAcls": None},
    {"networkAcls": {"defaultAction": "Allow", "ipRules": []}},
    {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.0/24"}]}},
    {
        "networkAcls": {
            "defaultAction": "Deny",
            "virtualNetworkRules": [{"id": "/subscriptions/x/subnets/s", "ignoreMissingVnetServiceEndpoint": False}],
        }
    },
]
LOCAL: list[dict[str, Any]] = [{}, {"disableLocalAuth": True}, {"disableLocalAuth": False}, {"disableLocalAuth": None}]
OUTBOUND: list[dict[str, Any]] = [
    {},
    {"restrictOutboundNetworkAccess": True, "allowedFqdnList": ["api.contoso.com", "b.example"]},
    {"restrictOutboundNetworkAccess": False, "allowedFqdnList": []},
]
MORE: list[dict[str, Any]] = [
    {},
    {"provisioningState": "Succeeded", "endpoint": "https://a.openai.azure.com/"},
    {"encryption": {"keySource": "Microsoft.CognitiveServices"}},
    {
        "encryption": {
            "keySource": "Microsoft.KeyVault",
            "keyVaultProperties": {"keyName": "k", "keyVaultUri": "https://v.vault.azure.net/", "keyVersion": "1"},
        }
    },
]


def test_every_projected_combination_reads_the_same_as_the_sdk_model() -> None:
    checked = 0
    for parts in itertools.product(ACCESS, ACLS, LOCAL, OUTBOUND, MORE):
        props = {k: v for part in parts for k, v in part.items()}
        row = {
            "id": ID,
            "name": "a",
            "type": "microsoft.cognitiveservices/accounts",
            "kind": "OpenAI",
            "location": "swedencentral",
            "tags": {"owner": "ai-team"},
            "properties": props,
        }
        assert row_snapshot(row) == to_snapshot(Account.deserialize(row)), props
        checked += 1
    assert checked == 3 * 5 * 4 * 3 * 4


def test_a_row_without_properties_is_an_account_with_none_set() -> None:
    row = {"id": ID, "name": "a", "kind": "OpenAI", "location": "swedencentral"}
    assert row_snapshot(row) == to_snapshot(Account.deserialize(row))

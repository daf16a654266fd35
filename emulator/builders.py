"""Scenario builders shared by the tests and the benchmarks: accounts as the ARM REST API returns them, and
ARM events re-aimed at them."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

#: The demo tenant's subscription (scenarios/demo), used by tests and benchmarks alike.
SUBSCRIPTION = "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c"


def account_id(name: str, sub: str = SUBSCRIPTION, rg: str = "ai-prod") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}"


def account(name: str, kind: str = "OpenAI", **properties: Any) -> dict[str, Any]:
    """An account in the emulator's scenario format; ARM always returns an etag, so this one has one too."""
    return {
        "id": account_id(name),
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts",
        "location": "swedencentral",
        "kind": kind,
        "sku": {"name": "S0"},
        "etag": '"0a00c1d2-0000-0c00-0000-000000000001"',
        "properties": {"provisioningState": "Succeeded", "customSubDomainName": name, **properties},
    }


OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def retarget_event(
    template: Mapping[str, Any],
    resource_id: str,
    *,
    event_id: str,
    oid: str,
    appid: str,
    event_type: str,
    operation: str,
) -> dict[str, Any]:
    """A copy of a real-shaped ARM event (either schema) pointed at `resource_id`, caused by `oid`/`appid`."""
    event = copy.deepcopy(dict(template))
    grid = "specversion" not in event
    sub = resource_id.split("/")[2]
    event["id"], event["subject"] = event_id, resource_id
    event["topic" if grid else "source"] = f"/subscriptions/{sub}"
    event["eventType" if grid else "type"] = event_type
    data = event["data"]
    data.update(resourceUri=resource_id, operationName=operation, subscriptionId=sub, correlationId=f"corr-{event_id}")
    data["authorization"].update(scope=resource_id, action=operation)
    data["claims"].update({OID_CLAIM: oid, "appid": appid})
    return event

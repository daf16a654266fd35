"""Scenario builders for deployments and RAI policies (content filters), as the ARM REST API returns them,
for the tests and benchmarks of the `ai.jailbreak-filter` control."""

from __future__ import annotations

import copy
import functools
import json
import uuid
from typing import Any

from emulator.arm.swagger import REFERENCE

DEPLOYMENT_TYPE = "Microsoft.CognitiveServices/accounts/deployments"
RAI_POLICY_TYPE = "Microsoft.CognitiveServices/accounts/raiPolicies"
#: The upstream example whose content filter set every policy here starts from.
GET_RAI_POLICY = REFERENCE / "cognitiveservices/2025-09-01/examples/GetRaiPolicy.json"
#: Filter names as the location catalogue spells them (properties.name in
#: tests/fixtures/reference/cognitiveservices/2025-09-01/examples/ListRaiContentFilters.json).
JAILBREAK = "Jailbreak"
INDIRECT_ATTACK = "Indirect Attack"


def _etag(resource_id: str) -> str:
    """A stable etag per resource id, in the quoted form ARM bodies carry."""
    return f'"{uuid.uuid5(uuid.NAMESPACE_URL, resource_id.lower())}"'


def deployment(
    account_id: str,
    name: str,
    *,
    model: str = "gpt-4o",
    version: str = "2024-11-20",
    policy: str | None = None,
    sku: tuple[str, int] = ("GlobalStandard", 10),
    **extra_properties: Any,
) -> dict[str, Any]:
    """A model deployment of the account, in the shape of the upstream GetDeployment example, with an etag.
    `policy` is `properties.raiPolicyName` (left out when None); `extra_properties` (ARM names) are added to
    or override `properties` as given: read-only ones such as `capabilities` or `rateLimits`, or fields of a
    newer API version such as `deploymentState`."""
    resource_id = f"{account_id.rstrip('/')}/deployments/{name}"
    properties: dict[str, Any] = {"model": {"format": "OpenAI", "name": model, "version": version}}
    if policy is not None:
        properties["raiPolicyName"] = policy
    properties["provisioningState"] = "Succeeded"
    properties.update(copy.deepcopy(extra_properties))
    return {
        "id": resource_id,
        "name": name,
        "type": DEPLOYMENT_TYPE,
        "sku": {"name": sku[0], "capacity": sku[1]},
        "etag": _etag(resource_id),
        "properties": properties,
    }


@functools.cache
def _example_filters() -> tuple[dict[str, Any], ...]:
    body = json.loads(GET_RAI_POLICY.read_text(encoding="utf-8"))["responses"]["200"]["body"]
    return tuple(body["properties"]["contentFilters"])


def rai_policy(
    account_id: str,
    name: str,
    *,
    jailbreak: tuple[bool, bool] | None = (True, True),
    indirect_attack: tuple[bool, bool] | None = None,
    system_managed: bool = False,
    mode: str = "Blocking",
    base: str | None = "Microsoft.Default",
) -> dict[str, Any]:
    """A RAI policy with the upstream GetRaiPolicy example's content filters, with an etag.

    `jailbreak` is (enabled, blocking) of the Jailbreak filter on prompts, at the example's place in the list;
    None leaves the filter out. `indirect_attack` likewise adds an "Indirect Attack" prompt filter at the end
    (None: absent, as in the example). `system_managed` sets `properties.type` SystemManaged (else
    UserManaged); `base` is `basePolicyName` (None leaves it out)."""
    filters: list[dict[str, Any]] = []
    for entry in _example_filters():
        if entry["name"] != JAILBREAK:
            filters.append(copy.deepcopy(entry))
        elif jailbreak is not None:
            filters.append({**entry, "enabled": jailbreak[0], "blocking": jailbreak[1]})
    if indirect_attack is not None:
        filters.append(
            {"name": INDIRECT_ATTACK, "blocking": indirect_attack[1], "source": "Prompt", "enabled": indirect_attack[0]}
        )
    properties: dict[str, Any] = {"type": "SystemManaged" if system_managed else "UserManaged", "mode": mode}
    if base is not None:
        properties["basePolicyName"] = base
    properties["contentFilters"] = filters
    resource_id = f"{account_id.rstrip('/')}/raiPolicies/{name}"
    return {
        "id": resource_id,
        "name": name,
        "type": RAI_POLICY_TYPE,
        "etag": _etag(resource_id),
        "properties": properties,
    }


def default_policies(account_id: str) -> list[dict[str, Any]]:
    """The account's built-in policies: Microsoft.Default and Microsoft.DefaultV2, SystemManaged (read-only),
    Jailbreak enabled and blocking on prompts, every other filter as in the GetRaiPolicy example.

    Microsoft.DefaultV2 is NOT in the vendored specs or examples: public third-party material says it is the
    system-managed default of new deployments beside Microsoft.Default, which the specs do not confirm. Its
    filters here are an assumption, as are the system policies' mode and the absence of basePolicyName."""
    return [
        rai_policy(account_id, name, jailbreak=(True, True), system_managed=True, base=None)
        for name in ("Microsoft.Default", "Microsoft.DefaultV2")
    ]

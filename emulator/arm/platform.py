"""ARM's own routes, the ones real clients call before any provider: cloud metadata, tenants,
subscriptions, resource groups, provider registrations, and the tags API.

Subscriptions and resource groups are derived from the ids of the stored resources, so a scenario
never lists them separately.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.kernel.http import Reply, Request

from . import ids, merge
from .errors import ArmError, json_object, resource_not_found
from .types import Params, Route

if TYPE_CHECKING:
    from .plane import Arm

TENANT = merge.EMULATOR_TENANT
ARM_VERSIONS = ("2024-11-01", "2022-12-01", "2021-04-01", "2020-01-01", "2016-06-01")
TAGS_VERSIONS = ("2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01", "2019-10-01")
METADATA_VERSIONS = ("2022-09-01", "2020-06-01", "2019-05-01", "2015-01-01")


def cloud_metadata(arm: Arm, req: Request, p: Params) -> Reply:
    """GET /metadata/endpoints (anonymous): what the Azure CLI and SDKs read to find the cloud's endpoints."""
    return Reply(
        200,
        {
            "name": "AzureEmulator",
            "resourceManager": arm.world.endpoint + "/",
            "galleryEndpoint": arm.world.endpoint + "/",
            "graphEndpoint": "https://graph.windows.net/",
            "portalEndpoint": "https://portal.azure.com/",
            "authentication": {
                "loginEndpoint": "https://login.microsoftonline.com/",
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "suffixes": {"keyVaultDns": "vault.azure.net", "storage": "core.windows.net"},
        },
    )


def _subscriptions(arm: Arm) -> list[str]:
    seen: dict[str, str] = {}
    for resource in arm.store.dump_resources():
        sub = ids.subscription(str(resource["id"]))
        if sub:
            seen.setdefault(sub.lower(), sub)
    return list(seen.values())


def _subscription(sub: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": TENANT,
        "displayName": f"Emulated subscription {sub[:8]}",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
    }


def list_tenants(arm: Arm, req: Request, p: Params) -> Reply:
    return Reply(
        200,
        {
            "value": [
                {
                    "id": f"/tenants/{TENANT}",
                    "tenantId": TENANT,
                    "tenantCategory": "Home",
                    "displayName": "Emulated tenant",
                }
            ]
        },
    )


def list_subscriptions(arm: Arm, req: Request, p: Params) -> Reply:
    return arm.page(req, [_subscription(s) for s in _subscriptions(arm)])


def get_subscription(arm: Arm, req: Request, p: Params) -> Reply:
    known = {s.lower(): s for s in _subscriptions(arm)}
    if p["sub"].lower() not in known:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{p['sub']}' could not be found.")
    return Reply(200, _subscription(known[p["sub"].lower()]))


def _groups(arm: Arm, sub: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for resource in arm.store.dump_resources():
        rid = str(resource["id"])
        rg = ids.resource_group(rid)
        if rg and (ids.subscription(rid) or "").lower() == sub.lower():
            groups.setdefault(
                rg.lower(),
                {
                    "id": f"/subscriptions/{sub}/resourceGroups/{rg}",
                    "name": rg,
                    "type": "Microsoft.Resources/resourceGroups",
                    "location": resource.get("location") or "global",
                    "properties": {"provisioningState": "Succeeded"},
                },
            )
    return groups


def list_groups(arm: Arm, req: Request, p: Params) -> Reply:
    return arm.page(req, list(_groups(arm, p["sub"]).values()))


def get_group(arm: Arm, req: Request, p: Params) -> Reply:
    group = _groups(arm, p["sub"]).get(p["rg"].lower())
    if req.method.upper() == "HEAD":
        return Reply(204 if group else 404)
    if group is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{p['rg']}' could not be found.")
    return Reply(200, group)


def _registration(arm: Arm, sub: str, namespace: str) -> dict[str, Any]:
    provider = arm.providers[namespace.lower()]
    types = [
        {
            "resourceType": "/".join(t.type.split("/")[1:]),
            "locations": list(provider.locations),
            "apiVersions": list(t.api_versions),
        }
        for t in provider.types
    ]
    return {
        "id": f"/subscriptions/{sub}/providers/{provider.namespace}",
        "namespace": provider.namespace,
        "registrationState": "Registered",
        "resourceTypes": types,
    }


def list_providers(arm: Arm, req: Request, p: Params) -> Reply:
    return Reply(200, {"value": [_registration(arm, p["sub"], ns) for ns in arm.providers]})


def get_provider(arm: Arm, req: Request, p: Params) -> Reply:
    if p["ns"].lower() not in arm.providers:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{p['ns']}' is invalid.")
    return Reply(200, _registration(arm, p["sub"], p["ns"]))


def tags(arm: Arm, req: Request, scope: str) -> Reply:
    """`{scope}/providers/Microsoft.Resources/tags/default`: read, replace (PUT), merge/replace/delete
    (PATCH with `operation`) or clear (DELETE) the tags of a resource; each change is a new etag."""
    current = arm.store.get(scope)
    if current is None:
        raise resource_not_found(scope)
    method = req.method.upper()
    if method in ("PUT", "PATCH"):
        body = json_object(req)
        given = (body.get("properties") or {}).get("tags") if isinstance(body.get("properties"), dict) else None
        if not isinstance(given, dict):
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content must carry properties.tags.",
                target="properties.tags",
            )
        operation = str(body.get("operation", "Replace")) if method == "PATCH" else "Replace"
        old = dict(current.get("tags") or {})
        new = {
            "replace": given,
            "merge": {**old, **given},
            "delete": {k: v for k, v in old.items() if k not in given},
        }.get(operation.lower())
        if new is None:
            raise ArmError(
                400, "InvalidTagOperation", f"The tag operation '{operation}' is not one of Merge, Replace, Delete."
            )
        current = arm.ops.apply_now(
            scope, lambda: arm.store.mutate(scope, lambda r: {**r, "tags": new, "etag": merge.new_etag()})
        )
    elif method == "DELETE":
        arm.ops.apply_now(scope, lambda: arm.store.mutate(scope, lambda r: {**r, "tags": {}, "etag": merge.new_etag()}))
        return Reply(200)
    elif method != "GET":
        raise ArmError(405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'.")
    return Reply(
        200,
        {
            "id": f"{current['id']}/providers/Microsoft.Resources/tags/default",
            "name": "default",
            "type": "Microsoft.Resources/tags",
            "properties": {"tags": dict(current.get("tags") or {})},
        },
    )


ROUTES = (
    Route("metadata/endpoints", {"GET": cloud_metadata}, METADATA_VERSIONS),
    Route("tenants", {"GET": list_tenants}, ARM_VERSIONS),
    Route("subscriptions", {"GET": list_subscriptions}, ARM_VERSIONS),
    Route("subscriptions/{sub}", {"GET": get_subscription}, ARM_VERSIONS),
    Route("subscriptions/{sub}/resourcegroups", {"GET": list_groups}, ARM_VERSIONS),
    Route("subscriptions/{sub}/resourcegroups/{rg}", {"GET": get_group, "HEAD": get_group}, ARM_VERSIONS),
    Route("subscriptions/{sub}/providers", {"GET": list_providers}, ARM_VERSIONS),
    Route("subscriptions/{sub}/providers/{ns}", {"GET": get_provider}, ARM_VERSIONS),
)
ANONYMOUS = frozenset({"metadata/endpoints"})

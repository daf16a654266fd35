"""Scenario builders for what `warden doctor` reads: Event Grid system topics and their event subscriptions,
storage accounts, blob containers and immutability policies, custom roles, and a caller's token, each in the shape
ARM returns (docs/emulator.md, "Event Grid system topics" and "Storage (management)").
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from typing import Any

SYSTEM_TOPICS_TYPE = "Microsoft.EventGrid/systemTopics"
EVENT_SUBSCRIPTIONS_TYPE = f"{SYSTEM_TOPICS_TYPE}/eventSubscriptions"
STORAGE_ACCOUNTS_TYPE = "Microsoft.Storage/storageAccounts"
CONTAINERS_TYPE = f"{STORAGE_ACCOUNTS_TYPE}/blobServices/containers"
POLICIES_TYPE = f"{CONTAINERS_TYPE}/immutabilityPolicies"
ROLE_DEFINITIONS_TYPE = "Microsoft.Authorization/roleDefinitions"
#: The system topic type of subscription (resource write) events, as infra/events/subscription-topic.bicep creates it.
SUBSCRIPTIONS_TOPIC_TYPE = "Microsoft.Resources.Subscriptions"


def _etag(seed: str) -> str:
    return f'"0x8D{uuid.uuid5(uuid.NAMESPACE_URL, seed.lower()).hex[:13].upper()}"'


def system_topic_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{SYSTEM_TOPICS_TYPE}/{name}"


def system_topic(sub: str, rg: str, name: str, *, location: str = "global", **properties: Any) -> dict[str, Any]:
    """A subscription-events system topic (source `/subscriptions/{sub}`) as SystemTopics_Get returns it; `properties`
    (ARM names: `source`, `topicType`, ...) are added to, or replace, the defaults."""
    rid = system_topic_id(sub, rg, name)
    return {
        "id": rid,
        "name": name,
        "type": SYSTEM_TOPICS_TYPE,
        "location": location,
        "tags": {},
        "properties": {
            "source": f"/subscriptions/{sub}",
            "topicType": SUBSCRIPTIONS_TOPIC_TYPE,
            "metricResourceId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid.lower())),
            "provisioningState": "Succeeded",
            **properties,
        },
    }


def event_subscription(
    topic_id: str,
    name: str,
    function_resource_id: str,
    included_event_types: Iterable[str],
    operation_names: Iterable[str],
) -> dict[str, Any]:
    """An event subscription of a system topic delivering to an Azure Function (`function_resource_id`:
    `{function app id}/functions/{name}`), filtered by event type and by `data.operationName` (StringIn), as
    infra/events/subscription-topic.bicep creates it and SystemTopicEventSubscriptions_Get returns it."""
    sub = topic_id.split("/")[2] if topic_id.lower().startswith("/subscriptions/") else ""
    return {
        "id": f"{topic_id.rstrip('/')}/eventSubscriptions/{name}",
        "name": name,
        "type": EVENT_SUBSCRIPTIONS_TYPE,
        "properties": {
            "topic": f"/subscriptions/{sub}",
            "provisioningState": "Succeeded",
            "eventDeliverySchema": "EventGridSchema",
            "destination": {
                "endpointType": "AzureFunction",
                "properties": {
                    "resourceId": function_resource_id,
                    "maxEventsPerBatch": 1,
                    "preferredBatchSizeInKilobytes": 64,
                },
            },
            "filter": {
                "includedEventTypes": list(included_event_types),
                "advancedFilters": [
                    {"operatorType": "StringIn", "key": "data.operationName", "values": list(operation_names)}
                ],
            },
            "retryPolicy": {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440},
        },
    }


def storage_account_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{STORAGE_ACCOUNTS_TYPE}/{name}"


def storage_account(sub: str, rg: str, name: str, *, location: str = "eastus", **properties: Any) -> dict[str, Any]:
    """A StorageV2 account as StorageAccounts_GetProperties returns it; `properties` are added to, or replace, the
    defaults (public blob access off, TLS 1.2, HTTPS only)."""
    return {
        "id": storage_account_id(sub, rg, name),
        "name": name,
        "type": STORAGE_ACCOUNTS_TYPE,
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "primaryEndpoints": {
                kind: f"https://{name.lower()}.{kind}.core.windows.net/" for kind in ("blob", "queue", "table", "dfs")
            },
            "allowBlobPublicAccess": False,
            "minimumTlsVersion": "TLS1_2",
            "supportsHttpsTrafficOnly": True,
            **properties,
        },
    }


def blob_container_id(account_id: str, name: str) -> str:
    return f"{account_id.rstrip('/')}/blobServices/default/containers/{name}"


def blob_container(account_id: str, name: str, **properties: Any) -> dict[str, Any]:
    """A container of the account's default blob service, as BlobContainers_Get returns it (the emulator adds
    `hasImmutabilityPolicy` and `immutabilityPolicy` from the container's policy when answering)."""
    rid = blob_container_id(account_id, name)
    return {
        "id": rid,
        "name": name,
        "type": CONTAINERS_TYPE,
        "etag": _etag(rid),
        "properties": {"publicAccess": "None", "hasLegalHold": False, **properties},
    }


def immutability_policy(
    container_id: str, days: int, state: str = "Locked", allow_protected_append_writes: bool = True
) -> dict[str, Any]:
    """A container's time-based retention policy (`{container_id}/immutabilityPolicies/default`), as
    BlobContainers_GetImmutabilityPolicy returns it; `state` is `Locked` or `Unlocked`."""
    rid = f"{container_id.rstrip('/')}/immutabilityPolicies/default"
    return {
        "id": rid,
        "name": "default",
        "type": POLICIES_TYPE,
        "etag": _etag(rid),
        "properties": {
            "immutabilityPeriodSinceCreationInDays": days,
            "state": state,
            "allowProtectedAppendWrites": allow_protected_append_writes,
        },
    }


def custom_role(
    guid: str,
    name: str,
    actions: Iterable[str],
    *,
    not_actions: Iterable[str] = (),
    data_actions: Iterable[str] = (),
    not_data_actions: Iterable[str] = (),
    scope: str = "/",
) -> dict[str, Any]:
    """A custom role for a scenario's `roleDefinitions` section (not `resources`), as RoleDefinitions_Get returns
    it; assign it with access_builders.role_assignment(scope, guid, principal_id)."""
    home = "/" + scope.strip("/")
    return {
        "id": f"{home.rstrip('/')}/providers/{ROLE_DEFINITIONS_TYPE}/{guid}",
        "name": guid,
        "type": ROLE_DEFINITIONS_TYPE,
        "properties": {
            "roleName": name,
            "type": "CustomRole",
            "description": name,
            "assignableScopes": [home],
            "permissions": [
                {
                    "actions": list(actions),
                    "notActions": list(not_actions),
                    "dataActions": list(data_actions),
                    "notDataActions": list(not_data_actions),
                }
            ],
        },
    }


def _b64url(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def caller_token(object_id: str, tenant_id: str = "", app_id: str = "") -> str:
    """An unsigned JWT (`{"alg": "none"}`, empty signature) whose `oid` the emulator's permissions API reads as the
    caller; `tid` and `appid` are carried when given. Pass it as StaticTokenCredential's token. Not a secret."""
    claims = {"oid": object_id, **({"tid": tenant_id} if tenant_id else {}), **({"appid": app_id} if app_id else {})}
    return f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}."

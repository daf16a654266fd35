"""How writes change resources: ARM PATCH merge for accounts; PUT of accounts, deployments, RAI policies.

Read-only properties in a request body are ignored, as ARM does; the lists come from the 2025-09-01
swagger (`readOnly: true`), and a test checks them against it.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from . import ids

READ_ONLY_ACCOUNT_PROPERTIES = frozenset(
    {
        "provisioningState", "endpoint", "internalId", "capabilities", "isMigrated", "skuChangeInfo",
        "privateEndpointConnections", "dateCreated", "callRateLimit", "quotaLimit", "endpoints",
        "deletionDate", "scheduledPurgeDate", "commitmentPlanAssociations", "abusePenalty",
    }
)  # fmt: skip
READ_ONLY_DEPLOYMENT_PROPERTIES = frozenset(
    {"provisioningState", "capabilities", "callRateLimit", "rateLimits", "dynamicThrottlingEnabled"}
)
READ_ONLY_RAI_POLICY_PROPERTIES = frozenset({"type"})
# Top-level fields a PATCH may replace; id/name/type/etag/systemData are read-only, location/kind create-only.
PATCHABLE_TOP_LEVEL = ("tags", "sku", "identity")
EMULATOR_TENANT = "00000000-0000-0000-0000-000000000000"

_etag_lock = threading.Lock()
_last_etag_ns = 0


def new_etag() -> str:
    """A fresh etag in the shape the upstream examples show; strictly increasing, so never repeated."""
    global _last_etag_ns  # noqa: PLW0603 - one process-wide clock keeps every etag unique
    with _etag_lock:
        _last_etag_ns = max(_last_etag_ns + 100, time.time_ns())
        ns = _last_etag_ns
    stamp = datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H%%3A%M%%3A%S")
    return f"W/\"datetime'{stamp}.{(ns % 1_000_000_000) // 100:07d}Z'\""


def _writable(properties: Any, read_only: frozenset[str]) -> dict[str, Any]:
    if not isinstance(properties, Mapping):
        return {}
    return {k: copy.deepcopy(v) for k, v in properties.items() if k not in read_only}


def _identity(requested: Any, current: Any) -> Any:
    """Replace the identity, but keep (or mint) the read-only principal ids ARM would hold for it."""
    if not isinstance(requested, Mapping):
        return copy.deepcopy(requested)
    old = current if isinstance(current, Mapping) else {}
    new = {k: copy.deepcopy(v) for k, v in requested.items() if k not in ("principalId", "tenantId")}
    kind = str(new.get("type", ""))
    if "SystemAssigned" in kind:
        new["principalId"] = old.get("principalId") or str(uuid.uuid4())
        new["tenantId"] = old.get("tenantId") or EMULATOR_TENANT
    user = new.get("userAssignedIdentities")
    if isinstance(user, Mapping):
        old_user = old.get("userAssignedIdentities") or {}
        filled: dict[str, Any] = {}
        for uai_id in user:
            prior = old_user.get(uai_id) if isinstance(old_user, Mapping) else None
            filled[uai_id] = dict(prior) if prior else {"principalId": str(uuid.uuid4()), "clientId": str(uuid.uuid4())}
        new["userAssignedIdentities"] = filled
    return new


def merge_account(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """ARM PATCH: top-level tags/sku/identity replaced when given; each given property replaces its stored
    value (null removes it); everything else, read-only fields included, stays as stored."""
    merged = copy.deepcopy(dict(current))
    for name in PATCHABLE_TOP_LEVEL:
        if name in body:
            merged[name] = _identity(body[name], current.get(name)) if name == "identity" else copy.deepcopy(body[name])
    props = dict(merged.get("properties") or {})
    for name, value in _writable(body.get("properties"), READ_ONLY_ACCOUNT_PROPERTIES).items():
        if value is None:
            props.pop(name, None)
        else:
            props[name] = value
    props["provisioningState"] = "Succeeded"
    merged["properties"] = props
    merged["etag"] = new_etag()
    return merged


def account_from_put(resource_id: str, current: Mapping[str, Any] | None, body: Mapping[str, Any]) -> dict[str, Any]:
    """ARM PUT: the body replaces the writable fields; read-only ones are kept from `current` or made up."""
    old = dict(current or {})
    name = ids.name_from_id(resource_id)
    out: dict[str, Any] = {
        "id": old.get("id", resource_id),
        "name": old.get("name", name),
        "type": old.get("type", ids.ACCOUNT_TYPE),
        "location": old.get("location", body.get("location")),
    }
    kind = body.get("kind", old.get("kind"))
    if kind is not None:
        out["kind"] = kind
    for field in ("sku", "tags"):
        if field in body:
            out[field] = copy.deepcopy(body[field])
    if "identity" in body:
        out["identity"] = _identity(body["identity"], old.get("identity"))
    props = _writable(body.get("properties"), READ_ONLY_ACCOUNT_PROPERTIES)
    old_props = old.get("properties") or {}
    for name_ro in READ_ONLY_ACCOUNT_PROPERTIES:
        if name_ro in old_props:
            props[name_ro] = copy.deepcopy(old_props[name_ro])
    subdomain = props.get("customSubDomainName") or name
    props.setdefault("endpoint", f"https://{subdomain}.cognitiveservices.azure.com/")
    props["provisioningState"] = "Succeeded"
    out["properties"] = props
    out["etag"] = new_etag()
    return out


def child_from_put(
    resource_id: str,
    type_: str,
    current: Mapping[str, Any] | None,
    body: Mapping[str, Any],
    *,
    read_only: frozenset[str],
    fields: tuple[str, ...],
) -> dict[str, Any]:
    """PUT of a deployment or RAI policy: id/name/type from the URL, writable fields from the body."""
    old = dict(current or {})
    out: dict[str, Any] = {
        "id": old.get("id", resource_id),
        "name": old.get("name", ids.name_from_id(resource_id)),
        "type": old.get("type", type_),
    }
    for field in fields:
        if field in body:
            out[field] = copy.deepcopy(body[field])
    props = _writable(body.get("properties"), read_only)
    old_props = old.get("properties") or {}
    for name in read_only:
        if name in old_props:
            props[name] = copy.deepcopy(old_props[name])
    out["properties"] = props
    out["etag"] = new_etag()
    return out

"""How ARM writes change a resource: PATCH merges, PUT replaces, read-only fields survive both.

The body has already been pruned against the type's swagger definition (undeclared and readOnly
properties dropped, enums in their declared spelling), so what is left here is ARM's merge rule and the
read-only values the server keeps: the readOnly names come from the swagger, not from hand lists.
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
from .types import Resource, ResourceType

EMULATOR_TENANT = "00000000-0000-0000-0000-000000000000"
# Top-level fields the server owns; a body that names them is not obeyed.
SERVER_OWNED = ("id", "name", "type", "etag", "systemData")

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


def has_provisioning_state(rtype: ResourceType, resource: Mapping[str, Any]) -> bool:
    props = resource.get("properties")
    return bool(rtype.provisioning_states) or (isinstance(props, Mapping) and "provisioningState" in props)


def with_state(rtype: ResourceType, resource: Resource, state: str) -> Resource:
    """A copy of `resource` showing `state` as its provisioningState, where the type has one."""
    if not has_provisioning_state(rtype, resource):
        return resource
    return {**resource, "properties": {**resource.get("properties", {}), "provisioningState": state}}


def identity(requested: Any, current: Any) -> Any:
    """Replace the identity, but keep (or mint) the read-only principal ids ARM holds for it."""
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


def _top_level(name: str, value: Any, current: Mapping[str, Any]) -> Any:
    return identity(value, current.get(name)) if name == "identity" else copy.deepcopy(value)


def patch(rtype: ResourceType, current: Mapping[str, Any], body: Mapping[str, Any]) -> Resource:
    """ARM PATCH: each top-level field given replaces the stored one, except server-owned and create-only
    fields, which are ignored; inside `properties` each given key replaces its value and `null` removes it."""
    merged = copy.deepcopy(dict(current))
    for name, value in body.items():
        if name in SERVER_OWNED or name in rtype.create_only or name == "properties":
            continue
        merged[name] = _top_level(name, value, current)
    props = dict(merged.get("properties") or {})
    given = body.get("properties")
    for name, value in given.items() if isinstance(given, Mapping) else ():
        if value is None:
            props.pop(name, None)
        else:
            props[name] = copy.deepcopy(value)
    merged["properties"] = props
    return finish(rtype, merged)


def put(rtype: ResourceType, resource_id: str, current: Mapping[str, Any] | None, body: Mapping[str, Any]) -> Resource:
    """ARM PUT: the body replaces the writable fields; read-only properties are kept from `current`, and
    create-only fields (`location`, `kind`) are taken from the body only when creating."""
    old = dict(current or {})
    out: Resource = {
        "id": old.get("id", resource_id),
        "name": old.get("name", ids.name_from_id(resource_id)),
        "type": old.get("type", rtype.type),
    }
    for name in rtype.create_only:
        value = old.get(name, body.get(name)) if current is not None else body.get(name)
        if value is not None:
            out[name] = copy.deepcopy(value)
    for name, value in body.items():
        if name not in SERVER_OWNED and name not in rtype.create_only and name != "properties" and value is not None:
            out[name] = _top_level(name, value, old)
    given = body.get("properties")
    props = {k: copy.deepcopy(v) for k, v in (given.items() if isinstance(given, Mapping) else ()) if v is not None}
    old_props = old.get("properties") or {}
    for name in rtype.read_only:
        if name in old_props:
            props[name] = copy.deepcopy(old_props[name])
    out["properties"] = props
    return finish(rtype, out)


def finish(rtype: ResourceType, resource: Resource) -> Resource:
    """What every applied write leaves: a new etag, and provisioningState Succeeded where the type has one."""
    return {**with_state(rtype, resource, "Succeeded"), "etag": new_etag()}


def in_progress_state(rtype: ResourceType, method: str, creating: bool) -> str:
    """The provisioningState a resource shows while its operation runs, from the type's own enum."""
    states = rtype.provisioning_states
    if creating and method != "DELETE" and rtype.creating_state:
        return rtype.creating_state
    wanted = "Deleting" if method == "DELETE" else ("Creating" if creating else "Updating")
    return wanted if wanted in states or not states else "Accepted"

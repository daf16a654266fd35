"""Microsoft.Authorization permissions: what the caller may do at a resource group or a resource (and, as ARM
also answers, a subscription), from the role assignments of the caller at that scope or above it.

The caller is the bearer token's `oid` (caller.py). Each `permissions` entry of each role definition assigned
to the caller at a scope containing the asked one is one entry of `value` (Permissions_ListForResourceGroup and
Permissions_ListForResource, 2022-04-01); deny assignments, groups and conditions are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.arm import ids
from emulator.arm.errors import ArmError, resource_not_found
from emulator.arm.plane import Arm
from emulator.arm.types import Params, Route
from emulator.kernel.http import Reply, Request

from .caller import caller_object_id
from .definitions import RoleCatalog, role_guid
from .hierarchy import MANAGEMENT_GROUPS_TYPE, Tenant
from .versions import ASSIGNMENTS_TYPE

PERMISSION_VERSIONS = ("2022-05-01-preview", "2022-04-01", "2018-01-01-preview", "2015-07-01")
_SUFFIX = "providers/microsoft.authorization/permissions"
_SCOPES = ("subscriptions/{sub}", "subscriptions/{sub}/resourcegroups/{rg}", *ids.RESOURCE_TEMPLATES)
_KEYS = ("actions", "notActions", "dataActions", "notDataActions")


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


class Permissions:
    """The permissions routes, resolving assigned roles through the provider's catalog."""

    def __init__(self, catalog: RoleCatalog) -> None:
        self._catalog = catalog

    def routes(self) -> tuple[Route, ...]:
        return tuple(Route(f"{scope}/{_SUFFIX}", {"GET": self.list}, PERMISSION_VERSIONS) for scope in _SCOPES)

    def list(self, arm: Arm, req: Request, p: Params) -> Reply:
        """`{"value": [...]}`, one entry per permissions block of each role the caller holds at or above the scope;
        404 for a subscription, group or resource the emulator does not hold, as ARM answers."""
        scope = ids.scope_of(req.path)
        _check_scope(arm, scope, p)
        caller = caller_object_id(req)
        if caller is None:
            return Reply(200, {"value": []})
        tenant = Tenant.from_groups(arm.store.of_type(MANAGEMENT_GROUPS_TYPE, "/"))
        value: list[dict[str, list[str]]] = []
        for assignment in arm.store.of_type(ASSIGNMENTS_TYPE, "/"):
            props = assignment.get("properties")
            if not isinstance(props, Mapping) or str(props.get("principalId", "")).lower() != caller:
                continue
            if not tenant.contains(ids.scope_of(str(assignment["id"])), scope):
                continue
            role = self._catalog.find(role_guid(str(props.get("roleDefinitionId", ""))))
            blocks = role["properties"].get("permissions") if role is not None else None
            for block in blocks if isinstance(blocks, list) else []:
                if isinstance(block, Mapping):
                    value.append({key: _strings(block.get(key)) for key in _KEYS})
        return Reply(200, {"value": value})


def _check_scope(arm: Arm, scope: str, p: Params) -> None:
    sub = p["sub"]
    if not arm.store.ids_under(f"/subscriptions/{sub}"):
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    if "rg" in p and not arm.store.ids_under(f"/subscriptions/{sub}/resourceGroups/{p['rg']}"):
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{p['rg']}' could not be found.")
    if "ns" in p and arm.store.get(scope) is None:
        raise resource_not_found(scope)

"""The `Resources` table: every stored ARM resource at a subscription or resource-group scope (child types
included; extension resources such as role assignments and diagnostic settings live in other ARG tables), as
rows with ARG's columns, limited to the subscriptions a query's scopes name.

EMULATOR ASSUMPTIONS (docs/emulator.md, "Resource Graph"): `type` is lower-cased as in the vendored
ResourcesBasicQuery.json; other values are as ARM stores them; `tenantId` is the emulator's one tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from emulator.arm import ids
from emulator.arm.merge import EMULATOR_TENANT
from emulator.arm.store import resource_type
from emulator.arm.types import Resource
from emulator.services.authorization.hierarchy import MANAGEMENT_GROUPS_TYPE, Tenant

from .evaluate import Row
from .versions import COLUMNS

_DERIVED = frozenset({"type", "subscriptionId", "resourceGroup", "tenantId"})
_KNOWN = frozenset(COLUMNS)


class ResourceColumns(Mapping[str, Any]):
    """One resource's ARG columns, read on demand (a query touching three columns of 50,000 rows builds no
    50,000 full rows). Values are the stored ones, not copies: read-only (route.py copies what it answers)."""

    __slots__ = ("_resource",)

    def __init__(self, resource: Resource) -> None:
        self._resource = resource

    def __getitem__(self, name: str) -> Any:
        if name not in _KNOWN:
            raise KeyError(name)
        if name not in _DERIVED:
            return self._resource.get(name)
        rid = str(self._resource["id"])
        if name == "type":
            return resource_type(self._resource).lower()
        if name == "subscriptionId":
            return ids.subscription(rid)
        if name == "resourceGroup":
            return ids.resource_group(rid)
        return EMULATOR_TENANT

    def get(self, name: str, default: Any = None) -> Any:
        # Mapping.get goes through a KeyError for a missing column; this is on every row of every query.
        return self[name] if name in _KNOWN else default

    def __iter__(self) -> Iterator[str]:
        return iter(COLUMNS)

    def __len__(self) -> int:
        return len(COLUMNS)


def _subscription_of(key: str) -> str | None:
    """The subscription (lower case) of a resource at a subscription or resource group (its id key has one
    `/providers/`); None for anything else (an extension resource, a management group)."""
    if not key.startswith("/subscriptions/") or key.count("/providers/") != 1:
        return None
    return key.split("/", 3)[2]


def subscriptions_in(view: Iterable[Resource], groups: Iterable[str]) -> set[str]:
    """The subscriptions (lower case) under the named management groups, by the management-group resources the
    view holds (emulator/services/authorization/hierarchy.py: a group it does not declare holds every one)."""
    view = list(view)
    tenant = Tenant.from_groups(r for r in view if ids.same_type(resource_type(r), MANAGEMENT_GROUPS_TYPE))
    every = {sub.lower() for r in view if (sub := ids.subscription(str(r.get("id", "")))) is not None}
    scopes = [f"/providers/{MANAGEMENT_GROUPS_TYPE}/{name}" for name in groups]
    return {sub for sub in every if any(tenant.contains(scope, f"/subscriptions/{sub}") for scope in scopes)}


def rows(view: Iterable[Resource], subscriptions: set[str] | None) -> Iterator[Row]:
    """The table's rows from `view` (resources in key order), only those in `subscriptions` (lower case; None:
    every subscription)."""
    for resource in view:
        key = ids.key(str(resource.get("id", "")))
        sub = _subscription_of(key)
        if sub is not None and (subscriptions is None or sub in subscriptions):
            yield Row(key, ResourceColumns(resource))

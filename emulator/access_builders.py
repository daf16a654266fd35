"""Scenario builders for who may do what and where the logs go: role assignments at any scope (the tenant root
and management groups included), management groups, and diagnostic settings, as the ARM REST API returns them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

#: Built-in roles by name (tests/fixtures/reference/rbac/privileged-builtin-roles.json and
#: cognitive-services-builtin-roles.json; the emulator's role catalog serves each).
BUILTIN_ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Cognitive Services Contributor": "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68",
    "Cognitive Services OpenAI Contributor": "a001fd3d-188f-4b5d-821b-7da978bf7442",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
}
ROLE_ASSIGNMENTS_TYPE = "Microsoft.Authorization/roleAssignments"
MANAGEMENT_GROUPS_TYPE = "Microsoft.Management/managementGroups"
DIAGNOSTIC_SETTINGS_TYPE = "Microsoft.Insights/diagnosticSettings"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _scope(scope: str) -> str:
    """`scope` with one leading slash and no trailing one (`/` stays `/`)."""
    return "/" + scope.strip("/")


def role_assignment(
    scope: str,
    role: str,
    principal_id: str,
    principal_type: str = "User",
    name: str | None = None,
) -> dict[str, Any]:
    """A role assignment as RoleAssignments_Get returns it (tests/fixtures/reference/authorization/2022-04-01/
    examples), for a scenario's `resources`. `scope` is any scope: `/`, a management group, a subscription, a
    group, a resource. `role` is a role GUID (a BUILTIN_ROLES name also works), written in the `/providers/...`
    form ARM answers with; `name` defaults to a GUID derived from scope, role and principal."""
    guid = BUILTIN_ROLES.get(role, role)
    if not _GUID.fullmatch(guid):
        raise ValueError(f"role {role!r} is neither a role GUID nor a name in BUILTIN_ROLES")
    where = _scope(scope)
    key = f"{where.lower()}|{guid.lower()}|{principal_id.lower()}"
    name = name or str(uuid.uuid5(uuid.NAMESPACE_URL, key))
    return {
        "id": f"{where.rstrip('/')}/providers/{ROLE_ASSIGNMENTS_TYPE}/{name}",
        "name": name,
        "type": ROLE_ASSIGNMENTS_TYPE,
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{guid.lower()}",
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": where,
        },
    }


def management_group_id(name: str) -> str:
    return f"/providers/{MANAGEMENT_GROUPS_TYPE}/{name}"


def management_group(name: str, subscriptions: Iterable[str] = (), parent: str | None = None) -> dict[str, Any]:
    """A management group holding `subscriptions` (ids or bare GUIDs) under the group named `parent`, in the
    shape its GET with `$expand=children` has. The emulator reads only the parent and the children's ids, to
    know which role assignments a subscription inherits; a group no scenario declares holds every subscription
    (emulator/services/authorization/hierarchy.py)."""
    props: dict[str, Any] = {
        "displayName": name,
        "children": [
            {"type": "/subscriptions", "id": f"/subscriptions/{s.rsplit('/', 1)[-1]}", "name": s.rsplit("/", 1)[-1]}
            for s in subscriptions
        ],
    }
    if parent is not None:
        props["details"] = {"parent": {"id": management_group_id(parent), "name": parent}}
    return {"id": management_group_id(name), "type": MANAGEMENT_GROUPS_TYPE, "name": name, "properties": props}


def diagnostic_setting(
    resource_id: str,
    name: str,
    workspace_id: str,
    category_groups: Iterable[str] = ("audit",),
    **extra: Any,
) -> dict[str, Any]:
    """A diagnostic setting of `resource_id` sending the given log category groups to a Log Analytics
    workspace, as DiagnosticSettings_Get returns it (the lower-case `microsoft.insights` in its id is that of
    tests/fixtures/reference/monitor/2021-05-01-preview/examples/getDiagnosticSetting.json). `extra` properties
    (ARM names: `metrics`, `storageAccountId`, `logAnalyticsDestinationType`, ...) are added to, or replace,
    those."""
    properties: dict[str, Any] = {
        "workspaceId": workspace_id,
        "logs": [{"categoryGroup": group, "enabled": True} for group in category_groups],
        **extra,
    }
    return {
        "id": f"{resource_id.rstrip('/')}/providers/microsoft.insights/diagnosticSettings/{name}",
        "type": DIAGNOSTIC_SETTINGS_TYPE,
        "name": name,
        "properties": properties,
    }

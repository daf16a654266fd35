"""Role definitions: a small built-in catalog, custom roles from the scenario's `roleDefinitions` section,
and GET of one (at any scope shape, or by its bare id) or a list.

The built-ins are the privileged and Cognitive Services roles vendored under tests/fixtures/reference/rbac/
and the Key Vault roles in keyvault-builtin-roles.json beside this module (looked up, not vendored:
docs/emulator.md, Role assignments). Those files hold the role JSON of Microsoft's built-in role articles;
they are served in the REST shape, with the role's fields under `properties`.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.arm import ids
from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.swagger import REFERENCE
from emulator.arm.types import Params, Resource, Route, Section
from emulator.kernel.http import Reply, Request

from .scopes import templates
from .versions import DEFINITION_VERSIONS, DEFINITIONS_TYPE

BUILT_IN_FILES = (
    REFERENCE / "rbac" / "privileged-builtin-roles.json",
    REFERENCE / "rbac" / "cognitive-services-builtin-roles.json",
    Path(__file__).with_name("keyvault-builtin-roles.json"),
)
_SUFFIX = "providers/microsoft.authorization/roledefinitions"
_ROLE_NAME = re.compile(r"roleName\s+eq\s+'([^']*)'", re.IGNORECASE)
_ROLE_TYPE = re.compile(r"type\s+eq\s+'(BuiltInRole|CustomRole)'", re.IGNORECASE)
_UNSUPPORTED = (
    "The filter '{}' is not supported. Supported filters are either roleName eq '{{value}}' or "
    "type eq 'BuiltInRole|CustomRole'."
)


def role_guid(role_definition_id: str) -> str:
    """The GUID that names a role: the last segment of any of its id forms, lower case."""
    parts = ids.segments(role_definition_id)
    return parts[-1].lower() if parts else ""


def _rest_shape(block: Mapping[str, Any]) -> Resource:
    """A role as the built-in role articles print it, in the shape GET roleDefinitions returns."""
    return {
        "id": str(block["id"]),
        "name": str(block["name"]),
        "type": DEFINITIONS_TYPE,
        "properties": {
            "roleName": block["roleName"],
            "type": block["roleType"],
            "description": block.get("description", ""),
            "assignableScopes": list(block.get("assignableScopes", ["/"])),
            "permissions": copy.deepcopy(list(block.get("permissions", []))),
        },
    }


@functools.cache
def built_ins() -> dict[str, Resource]:
    """GUID -> built-in role, read once per process."""
    out: dict[str, Resource] = {}
    for path in BUILT_IN_FILES:
        for block in json.loads(path.read_text(encoding="utf-8"))["roles"]:
            out[str(block["name"]).lower()] = _rest_shape(block)
    return out


def _not_found(guid: str) -> ArmError:
    return ArmError(
        404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{guid}' does not exist."
    )


class RoleCatalog:
    """Built-in roles and the scenario's custom ones, by GUID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._custom: dict[str, Resource] = {}

    def section(self) -> Section:
        return Section("roleDefinitions", self.load, self.dump)

    def load(self, raw: Any) -> None:
        """Custom roles, each as GET returns it: `id` (`/subscriptions/{s}/providers/Microsoft.Authorization/
        roleDefinitions/{guid}`), `name` and `properties` with `roleName` and `permissions`."""
        if raw is not None and not isinstance(raw, list):
            raise ValueError("must be a list of role definitions")
        custom: dict[str, Resource] = {}
        for index, role in enumerate(raw or []):
            props = role.get("properties") if isinstance(role, Mapping) else None
            if not isinstance(role, Mapping) or not isinstance(role.get("id"), str) or not isinstance(props, Mapping):
                raise ValueError(f"[{index}] needs a string 'id' and a 'properties' object")
            if not isinstance(props.get("roleName"), str) or not isinstance(props.get("permissions"), list):
                raise ValueError(f"[{index}] properties need a string 'roleName' and a 'permissions' list")
            guid = role_guid(role["id"])
            if guid in built_ins() or guid in custom:
                raise ValueError(f"[{index}] role {guid} is already defined")
            custom[guid] = {"type": DEFINITIONS_TYPE, "name": guid, **copy.deepcopy(dict(role))}
        with self._lock:
            self._custom = custom

    def dump(self) -> list[Resource]:
        with self._lock:
            return copy.deepcopy(list(self._custom.values()))

    def find(self, guid: str) -> Resource | None:
        with self._lock:
            found = built_ins().get(guid.lower()) or self._custom.get(guid.lower())
            return copy.deepcopy(found) if found is not None else None

    def _all(self) -> list[Resource]:
        with self._lock:
            return copy.deepcopy([*built_ins().values(), *self._custom.values()])

    # --- routes ---------------------------------------------------------------------------------
    def routes(self) -> tuple[Route, ...]:
        lists = tuple(Route(t, {"GET": self.list}, DEFINITION_VERSIONS) for t in templates(_SUFFIX))
        items = tuple(Route(t, {"GET": self.get}, DEFINITION_VERSIONS) for t in templates(_SUFFIX + "/{role}"))
        return (*lists, *items)

    def get(self, arm: Arm, req: Request, p: Params) -> Reply:
        """RoleDefinitions_Get and _GetById: a built-in role read at a scope carries that scope in its id."""
        found = self.find(p["role"])
        if found is None:
            raise _not_found(p["role"])
        return Reply(200, _at_scope(found, ids.scope_of(req.path)))

    def list(self, arm: Arm, req: Request, p: Params) -> Reply:
        text = (req.query.get("$filter") or "").strip()
        by_name, by_type = _ROLE_NAME.fullmatch(text), _ROLE_TYPE.fullmatch(text)
        if text and not (by_name or by_type):
            raise ArmError(400, "UnsupportedQuery", _UNSUPPORTED.format(text))
        scope = ids.scope_of(req.path)
        roles = [_at_scope(r, scope) for r in self._all()]
        if by_name:
            roles = [r for r in roles if r["properties"]["roleName"].lower() == by_name.group(1).lower()]
        if by_type:
            roles = [r for r in roles if str(r["properties"].get("type", "")).lower() == by_type.group(1).lower()]
        return arm.page(req, roles)


def _at_scope(role: Resource, scope: str) -> Resource:
    """Built-in roles have no home scope: read under a subscription (or below), ARM names them under it."""
    sub = ids.subscription(scope)
    if role["properties"].get("type") == "BuiltInRole" and sub:
        role = {**role, "id": f"/subscriptions/{sub}/providers/{DEFINITIONS_TYPE}/{role['name']}"}
    return role

"""Role assignments: list at a scope with ARM's filters, and GET, PUT, DELETE of one, at any scope shape
`scopes.SCOPE_TEMPLATES` spells out (the generic extension-resource handlers serve deeper ones).

A PUT is validated against the 2022-04-01 slice's RoleAssignmentCreateParameters, names a role the catalog
knows, and is stored as the upstream CreateForResource example answers: the built-in role's id in its
`/providers/...` form and the scope filled in. Role assignments are not long-running and carry no etag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from emulator.arm import ids, resources
from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.types import Params, Resource, ResourceType, Route
from emulator.kernel.http import Reply, Request

from .definitions import RoleCatalog, role_guid
from .hierarchy import MANAGEMENT_GROUPS_TYPE, Tenant
from .scopes import parse_filter, templates
from .versions import ASSIGNMENT_VERSIONS, ASSIGNMENTS_TYPE, schema

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SUFFIX = "providers/microsoft.authorization/roleassignments"
# What a PUT may change on an existing assignment; ARM refuses a new principal, role or scope under the same name.
_FIXED = ("principalId", "roleDefinitionId")

ASSIGNMENTS = ResourceType(
    type=ASSIGNMENTS_TYPE,
    api_versions=ASSIGNMENT_VERSIONS,
    swagger=schema,
    definition="RoleAssignmentCreateParameters",
    methods=frozenset({"GET", "PUT", "DELETE"}),
    create_only=(),
    extension=True,
)


def _path_id(req: Request) -> str:
    return "/" + "/".join(ids.segments(req.path))


def _props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    props = resource.get("properties")
    return props if isinstance(props, Mapping) else {}


def _same(a: Mapping[str, Any], b: Mapping[str, Any], key: str) -> bool:
    """Whether two assignments agree on a principal id or role (role ids compared by their GUID, as the
    `/subscriptions/...` and `/providers/...` forms of one role differ)."""
    return role_guid(str(a.get(key, ""))) == role_guid(str(b.get(key, "")))


def not_found(name: str) -> ArmError:
    return ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


class Assignments:
    """The role assignment routes, resolving role definitions through the provider's catalog."""

    def __init__(self, catalog: RoleCatalog) -> None:
        self._catalog = catalog

    def routes(self) -> tuple[Route, ...]:
        lists = tuple(Route(t, {"GET": self.list}, ASSIGNMENT_VERSIONS) for t in templates(_SUFFIX))
        one = {"GET": self.get, "PUT": self.put, "DELETE": self.delete}
        items = tuple(Route(t, one, ASSIGNMENT_VERSIONS) for t in templates(_SUFFIX + "/{assignment}"))
        return (*lists, *items)

    def list(self, arm: Arm, req: Request, p: Params) -> Reply:
        """At, above and below the scope (`atScope()`: at and above), for one principal if the filter names one;
        management groups are above the subscriptions the scenario places in them (hierarchy.py)."""
        scope = ids.scope_of(req.path)
        text = req.query.get("$filter")
        wanted = parse_filter(text)
        tenant = Tenant.from_groups(arm.store.of_type(MANAGEMENT_GROUPS_TYPE, "/"))
        found = [a for a in arm.store.of_type(ASSIGNMENTS_TYPE, "/") if wanted.matches(a, scope, tenant)]
        reply = arm.page(req, found)
        if text and isinstance(reply.body, dict) and "nextLink" in reply.body:
            # The generic nextLink keeps only api-version and $skipToken; the next page must be filtered too.
            reply.body["nextLink"] += f"&$filter={quote(text, safe='')}"
        return reply

    def get(self, arm: Arm, req: Request, p: Params) -> Reply:
        found = arm.store.get(_path_id(req))
        if found is None:
            raise not_found(p["assignment"])
        return Reply(200, found)

    def delete(self, arm: Arm, req: Request, p: Params) -> Reply:
        """200 with the deleted assignment, or 204 when there was none (RoleAssignments_Delete)."""
        gone = arm.store.delete(_path_id(req))
        return Reply(200, gone) if gone is not None else Reply(204)

    def put(self, arm: Arm, req: Request, p: Params) -> Reply:
        rid, name = _path_id(req), p["assignment"]
        if not _GUID.fullmatch(name):
            raise ArmError(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
            )
        body = resources.body_for(ASSIGNMENTS, req)
        given = dict(_props(body))
        role = self._catalog.find(role_guid(str(given["roleDefinitionId"])))
        if role is None:
            raise ArmError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{role_guid(str(given['roleDefinitionId']))}' does not exist.",
            )
        given["roleDefinitionId"] = str(role["id"])
        given.setdefault("principalType", "User")  # the swagger's default; ARM would look the principal up
        scope = ids.scope_of(rid)
        given["scope"] = scope

        def build(existing: Resource | None) -> Resource:
            # Checked under the store's lock, so two PUTs of one role for one principal cannot both pass.
            self._check(arm, existing, given)
            return {
                "properties": given,
                "id": str(existing["id"]) if existing else rid,
                "type": ASSIGNMENTS_TYPE,
                "name": str(existing["name"]) if existing else name,
            }

        stored, created = arm.store.replace(rid, build)
        return Reply(201 if created else 200, stored)

    def _check(self, arm: Arm, existing: Resource | None, given: Mapping[str, Any]) -> None:
        """ARM refuses a second assignment of one role to one principal at one scope, and a PUT that would
        change an existing assignment's principal or role."""
        if existing is not None:
            old = _props(existing)
            if not all(_same(old, given, k) for k in _FIXED):
                raise ArmError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return
        scope = ids.key(str(given["scope"]))
        for other in arm.store.of_type(ASSIGNMENTS_TYPE, "/"):
            props = _props(other)
            if ids.key(ids.scope_of(str(other["id"]))) == scope and all(_same(props, given, k) for k in _FIXED):
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")

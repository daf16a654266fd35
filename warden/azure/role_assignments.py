"""RoleAssignmentPort over azure-mgmt-authorization: the role assignments at a scope and above it (one paged
list with `$filter=atScope()`), and deleting one by its id. SDK models become warden.access_model types here.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient

from warden.access_model import RoleAssignment
from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.ids import URL_SAFE_ID, IdRuleError, assignment_scope, is_guid, subscription_of

log = logging.getLogger(__name__)

_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"


def check_scope(scope: str) -> str:
    """`scope` when it is an ARM scope warden may put in a URL: `/`, or `/`-separated ASCII id segments with no
    empty, `.` or `..` one; IdRuleError otherwise."""
    if scope == "/":
        return scope
    segs = scope.split("/")
    shaped = len(segs) > 1 and segs[0] == "" and all(s not in ("", ".", "..") for s in segs[1:])
    if not (shaped and URL_SAFE_ID.fullmatch(scope)):
        raise IdRuleError(f"is {scope!r}, not an ARM scope (/, or /segment/... of ASCII id characters)")
    return scope


def check_assignment_id(assignment_id: str) -> str:
    """`assignment_id` when it is `{scope}/providers/Microsoft.Authorization/roleAssignments/{GUID}` with a
    scope check_scope accepts; IdRuleError otherwise."""
    head, found, name = assignment_id.lower().rpartition(_ASSIGNMENTS)
    if not found or not is_guid(name):
        raise IdRuleError(f"is {assignment_id!r}, not a role assignment id ({{scope}}{_ASSIGNMENTS}{{GUID}})")
    check_scope(assignment_id[: len(head)] or "/")
    return assignment_id


def _text(value: Any) -> str:
    """An SDK string field (a modelAsString enum arrives as a plain str or as the enum) as its wire value."""
    if value is None:
        return ""
    return str(value.value if isinstance(value, Enum) else value)


def to_role_assignment(found: Any) -> RoleAssignment:
    """An SDK RoleAssignment as the engine's value; the role is kept as ARM spelled it, known to warden or not."""
    resource_id = str(found.id or "")
    return RoleAssignment(
        resource_id=resource_id,
        scope=str(found.scope or assignment_scope(resource_id)),
        role_definition_id=str(found.role_definition_id or ""),
        principal_id=str(found.principal_id or ""),
        principal_type=_text(found.principal_type),
        condition=str(found.condition) if found.condition else None,
    )


class RoleAssignments:
    """The RoleAssignmentPort for real: one GET per page of a list, one DELETE per removal."""

    def __init__(self, clients: ClientFactory) -> None:
        self._factory = clients

    def _client(self, scope: str) -> AuthorizationManagementClient:
        return self._factory.arm(AuthorizationManagementClient, subscription_of(scope))

    def list_role_assignments(self, scope: str) -> list[RoleAssignment]:
        # The scope keeps its leading slash: the SDK's `/{scope}` template gives `//...`, which azure-core's
        # format_url joins onto the endpoint as one slash (tests/test_role_assignments_adapter.py checks the URL).
        check_scope(scope)
        with classified_errors(f"list role assignments at or above {scope}"):
            found: list[Any] = list(self._client(scope).role_assignments.list_for_scope(scope, filter="atScope()"))
        return [to_role_assignment(a) for a in found]

    def delete_role_assignment(self, assignment_id: str) -> bool:
        check_assignment_id(assignment_id)
        client = self._client(assignment_scope(assignment_id))
        with classified_errors(f"delete role assignment {assignment_id}", write=True):
            # 200 carries the deleted assignment; 204 means it was already gone (RoleAssignments_DeleteById in
            # tests/fixtures/reference/authorization/2022-04-01/). No If-Match: role assignments have no etag.
            deleted = client.role_assignments.delete_by_id(assignment_id)
        if deleted is None:
            log.info("role assignment %s was already gone", assignment_id)
            return False
        log.info("deleted role assignment %s", assignment_id)
        return True

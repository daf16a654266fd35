"""Scopes as Microsoft.Authorization sees them: the scope shapes its routes serve and the `$filter` of a role
assignment list (which scope lies above which is hierarchy.py's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.arm import ids
from emulator.arm.errors import ArmError

from .hierarchy import Tenant

# Every scope shape spelled out (route templates cannot capture a variable number of segments): the tenant
# root, a management group, a subscription, a resource group, and the resources of ids.RESOURCE_TEMPLATES.
SCOPE_TEMPLATES: tuple[str, ...] = (
    "",
    "providers/microsoft.management/managementgroups/{mg}",
    "subscriptions/{sub}",
    "subscriptions/{sub}/resourcegroups/{rg}",
    *ids.RESOURCE_TEMPLATES,
)
UNSUPPORTED = (
    "The filter '{}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{{value}}' "
    "or assignedTo('{{value}}')'."
)
_AT_SCOPE = re.compile(r"atScope\(\)", re.IGNORECASE)
_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']+)'", re.IGNORECASE)
_ASSIGNED = re.compile(r"assignedTo\('([^']+)'\)", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def templates(suffix: str) -> tuple[str, ...]:
    """Every scope shape followed by `suffix` (`providers/microsoft.authorization/roleassignments`)."""
    return tuple(f"{scope}/{suffix}".strip("/") for scope in SCOPE_TEMPLATES)


@dataclass(frozen=True)
class AssignmentFilter:
    """A role assignment list's `$filter`: `at_scope` keeps only assignments at or above the scope; a
    `principal` keeps only that principal's. `assignedTo` would also bring the principal's groups' assignments;
    the emulator knows no groups, so it means the same as `principalId eq`."""

    at_scope: bool = False
    principal: str | None = None

    def matches(self, assignment: Mapping[str, Any], scope: str, tenant: Tenant) -> bool:
        where = ids.scope_of(str(assignment.get("id", "")))
        if not (tenant.contains(where, scope) or (not self.at_scope and tenant.contains(scope, where))):
            return False
        if self.principal is None:
            return True
        props = assignment.get("properties")
        principal = props.get("principalId") if isinstance(props, Mapping) else None
        return isinstance(principal, str) and principal.lower() == self.principal.lower()


def parse_filter(text: str | None) -> AssignmentFilter:
    """The filters ARM accepts: `atScope()`, `principalId eq '{id}'`, `assignedTo('{id}')` and
    `atScope() and assignedTo('{id}')`; anything else is 400 UnsupportedQuery, as ARM answers."""
    if text is None or not text.strip():
        return AssignmentFilter()
    terms = _AND.split(text.strip())
    at_scope = principal = assigned = None
    for term in terms:
        if _AT_SCOPE.fullmatch(term) and at_scope is None:
            at_scope = True
        elif (found := _PRINCIPAL.fullmatch(term)) and principal is None:
            principal = found.group(1)
        elif (found := _ASSIGNED.fullmatch(term)) and assigned is None:
            assigned = found.group(1)
        else:
            raise ArmError(400, "UnsupportedQuery", UNSUPPORTED.format(text))
    # One principal term at most, and principalId eq (which may name a group) never with atScope().
    if (principal and (assigned or at_scope)) or (len(terms) > 1 and not (at_scope and assigned)):
        raise ArmError(400, "UnsupportedQuery", UNSUPPORTED.format(text))
    return AssignmentFilter(at_scope=bool(at_scope), principal=principal or assigned)

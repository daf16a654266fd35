"""The access side of the engine's value types: role assignments (who holds which role where) and an
account's diagnostic settings (where its logs go). SDK models and raw JSON become these in warden/azure/, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from warden.model import Json


def role_guid(role_definition_id: str) -> str:
    """The role definition's GUID, lower-cased. ARM spells one role `/subscriptions/{sub}/providers/...` in a
    request and `/providers/...` in its answer, so roles compare by this (docs/identity.md "Roles")."""
    return role_definition_id.strip().rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class RoleAssignment:
    """One role assignment (Microsoft.Authorization/roleAssignments) as ARM lists it. `scope` is where it is
    granted (the account, its resource group, the subscription, a management group, or `/`)."""

    resource_id: str  # {scope}/providers/Microsoft.Authorization/roleAssignments/{name}
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str = ""  # User, Group, ServicePrincipal, ForeignGroup ("" when ARM leaves it out)
    condition: str | None = None  # an ABAC condition narrowing the grant

    @property
    def role(self) -> str:
        """The role definition's GUID (lower-case)."""
        return role_guid(self.role_definition_id)


@dataclass(frozen=True)
class LogSetting:
    """One entry of a diagnostic setting's `logs`: a category or a category group, enabled or not."""

    category: str | None = None
    category_group: str | None = None
    enabled: bool = False


@dataclass(frozen=True)
class DiagnosticSetting:
    """One diagnostic setting of a resource (Microsoft.Insights/diagnosticSettings). `properties` is the setting
    exactly as read, so a change re-sends every field warden does not own (metrics, other destinations)."""

    resource_id: str  # {resource}/providers/Microsoft.Insights/diagnosticSettings/{name}
    name: str
    workspace_id: str | None
    logs: tuple[LogSetting, ...] = ()
    properties: Mapping[str, Json] = field(default_factory=dict, hash=False)

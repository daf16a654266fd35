"""Step kind role-assignment.delete: DELETE one broad role assignment at an account or its resource group.

Right before the DELETE the assignments over the account are listed again: one already gone counts as deleted,
and an Owner assignment is kept when no other Owner over the account would remain (another deletion in the same
run may have taken the one the detector counted on). Role assignments carry no etag, so no If-Match is sent;
ARM refuses to change an assignment's principal or role, so the name deleted is still the grant judged
(docs/identity.md). Each assignment is an action of its own (`alone`) against the per-run and hourly caps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from warden.access_model import RoleAssignment
from warden.errors import AzureError
from warden.ids import ascii_lower, same_id
from warden.model import Json
from warden.ports import Ports
from warden.roles import OWNER, owners_left, role_name
from warden.steps import Step, Verify


@dataclass(frozen=True)
class DeleteRoleAssignment:
    """DELETE `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`; `target` is that id."""

    kind: ClassVar[str] = "role-assignment.delete"
    order: ClassVar[int] = 50
    permissions: ClassVar[tuple[str, ...]] = (
        "Microsoft.Authorization/roleAssignments/delete",
        "Microsoft.Authorization/roleAssignments/read",
    )
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD
    alone: ClassVar[bool] = True

    target: str
    account_id: str
    role: str  # the role definition's GUID
    principal_id: str
    principal_type: str = ""
    etag: None = None

    @classmethod
    def of(cls, account_id: str, assignment: RoleAssignment) -> DeleteRoleAssignment:
        a = assignment
        return cls(a.resource_id, account_id, a.role, a.principal_id, a.principal_type)

    def merge(self, other: Step) -> DeleteRoleAssignment:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        who = f"{self.principal_type or 'principal'} {self.principal_id}"
        return {"roleAssignment": {"before": f"{role_name(self.role)} for {who}", "after": "deleted"}}

    def to_json(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "target": self.target,
            "accountId": self.account_id,
            "role": self.role,
            "principalId": self.principal_id,
            "principalType": self.principal_type,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> DeleteRoleAssignment:
        return cls(
            str(data["target"]),
            str(data["accountId"]),
            str(data["role"]),
            str(data["principalId"]),
            str(data.get("principalType") or ""),
        )

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        port = ports.role_port()
        listed = port.list_role_assignments(self.account_id)
        if not any(same_id(a.resource_id, self.target) for a in listed):
            return None  # already gone: what the step wanted
        if self.role == OWNER and not owners_left(listed, {ascii_lower(self.target)}):
            raise AzureError(f"kept {self.target}: it is the last Owner assignment over {self.account_id}")
        port.delete_role_assignment(self.target)
        return None

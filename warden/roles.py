"""Which role assignments over an account break least privilege, and which of them warden may remove.

Pure: the detector of identity.role-assignments and the step that removes an assignment both ask it, so the
step's last-moment check and the detector's judgment cannot disagree (docs/identity.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from warden.access_model import RoleAssignment
from warden.ids import ascii_lower, at_or_above, same_id
from warden.model import Json

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
#: The built-in roles that are broad over an account, by GUID (tests/fixtures/reference/rbac/).
BROAD_ROLES = {
    OWNER: "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": "Cognitive Services Contributor",
}
#: The least-privilege roles for the data plane: inference, and automation that also manages deployments.
DATA_ROLES = {
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "a001fd3d-188f-4b5d-821b-7da978bf7442": "Cognitive Services OpenAI Contributor",
}
_NAMES = {**BROAD_ROLES, **DATA_ROLES}


def role_name(guid: str) -> str:
    """`Owner (8e3af657-...)` for a role warden knows, the bare GUID otherwise."""
    name = _NAMES.get(guid.lower())
    return f"{name} ({guid})" if name else guid


def group_scope(account_id: str) -> str:
    """The account's resource group as a scope (`/subscriptions/{s}/resourceGroups/{g}`)."""
    return "/".join(account_id.rstrip("/").split("/")[:5])


def level(scope: str, account_id: str) -> str:
    """Where an assignment listed at the account is granted: `account`, `resource group`, or `inherited`
    (the subscription, a management group, the root). A scope below the account is the `account`'s too."""
    if at_or_above(account_id, scope):
        return "account"
    return "resource group" if same_id(scope, group_scope(account_id)) else "inherited"


@dataclass(frozen=True)
class Verdict:
    """One broad assignment and what warden may do about it: `remove` it, or leave it to a human (`inherited`
    from above the resource group, or the `last-owner` over the account)."""

    assignment: RoleAssignment
    kind: Literal["remove", "inherited", "last-owner"]
    level: str


def broad_assignments(
    assignments: Iterable[RoleAssignment],
    account_id: str,
    *,
    broad: frozenset[str],
    allowed: frozenset[str],
    own: frozenset[str],
) -> list[Verdict]:
    """The broad assignments over the account to principals outside `allowed` and warden's `own`, each judged.
    Removing every `remove` must leave an Owner over the account; when it would not, the Owner ones among them
    become `last-owner` (warden never takes the last Owner away)."""
    listed = list(assignments)
    verdicts: list[Verdict] = []
    for assignment in sorted(listed, key=lambda a: ascii_lower(a.resource_id)):
        principal = assignment.principal_id.lower()
        if assignment.role not in broad or principal in allowed or principal in own:
            continue
        where = level(assignment.scope, account_id)
        verdicts.append(Verdict(assignment, "inherited" if where == "inherited" else "remove", where))
    removed = {ascii_lower(v.assignment.resource_id) for v in verdicts if v.kind == "remove"}
    if not owners_left(listed, removed):
        verdicts = [
            Verdict(v.assignment, "last-owner", v.level) if v.kind == "remove" and v.assignment.role == OWNER else v
            for v in verdicts
        ]
    return verdicts


def owners_left(assignments: Sequence[RoleAssignment], removed: set[str]) -> bool:
    """Whether an Owner assignment over the account stays once the `removed` ids (lower-case) are gone."""
    return any(a.role == OWNER and ascii_lower(a.resource_id) not in removed for a in assignments)


def holds_data_role(assignments: Iterable[RoleAssignment], principal_id: str) -> bool:
    """Whether the principal holds OpenAI User or OpenAI Contributor at the account or above."""
    return any(a.principal_id.lower() == principal_id.lower() and a.role in DATA_ROLES for a in assignments)


def describe(assignment: RoleAssignment, where: str) -> dict[str, Json]:
    """An assignment as a finding's `observed` names it: by role, principal id and type, and scope."""
    out: dict[str, Json] = {
        "roleAssignment": assignment.resource_id,
        "role": role_name(assignment.role),
        "principalId": assignment.principal_id,
        "principalType": assignment.principal_type or None,
        "scope": assignment.scope,
        "level": where,
    }
    if assignment.condition:
        out["condition"] = assignment.condition
    return out

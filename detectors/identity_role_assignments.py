"""Control identity.role-assignments: no broad role (Owner, Contributor, User Access Administrator, Cognitive
Services Contributor, and the baseline's own additions) is granted at an account or its resource group to a
principal outside the baseline's `allowed_principals`.

The fix deletes such an assignment; it runs in dry-run until the control's own entry says `mode: enforce`.
warden's own assignments and the last Owner over an account are never removed. Grants inherited from the
subscription or above are reported for a human, with the scope that grants them. Identities the baseline names
as data-plane callers are advised to hold Cognitive Services OpenAI User (docs/identity.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remediators.delete_role_assignment import DeleteRoleAssignment
from warden.control import Control, EventRoute, Fact, Facts, param
from warden.model import Finding, Json, Mode
from warden.params_access import principal_ids, role_ids
from warden.roles import BROAD_ROLES, DATA_ROLES, Verdict, broad_assignments, describe, holds_data_role, role_name

_WHY = {
    "remove": "",
    "inherited": "; inherited from {scope}, which warden never changes: remove it there, or allow the principal",
    "last-owner": "; it is the last Owner over the account, which warden never removes: a human must replace it",
}


@dataclass(frozen=True)
class Params:
    allowed_principals: tuple[str, ...] = field(
        default=(), metadata=param(principal_ids, "object ids that may hold a broad role over an account")
    )
    broad_roles: tuple[str, ...] = field(
        default=(), metadata=param(role_ids, "role definition GUIDs treated as broad besides the built-in four")
    )
    data_plane_principals: tuple[str, ...] = field(
        default=(),
        metadata=param(principal_ids, "object ids that call the data plane: advised to hold OpenAI User"),
    )


def detect(facts: Facts, params: Params) -> list[Finding]:
    account_id = facts.account.resource_id
    assignments = facts.role_assignments
    broad = frozenset(BROAD_ROLES) | frozenset(params.broad_roles)
    verdicts = broad_assignments(
        assignments, account_id, broad=broad, allowed=frozenset(params.allowed_principals), own=facts.own_principals
    )
    findings = [_finding(account_id, v) for v in verdicts]
    for principal in params.data_plane_principals:
        if not holds_data_role(assignments, principal):
            roles = " or ".join(role_name(g) for g in DATA_ROLES)
            summary = f"advice: data-plane caller {principal} holds neither {roles} over the account; grant the first"
            seen: dict[str, Json] = {"principalId": principal, "dataRole": None}
            findings.append(Finding(CONTROL.id, account_id, summary, seen, {"dataRole": list(DATA_ROLES.values())}))
    return findings


def _finding(account_id: str, verdict: Verdict) -> Finding:
    a = verdict.assignment
    who = f"{a.principal_type or 'principal'} {a.principal_id}"
    summary = f"{role_name(a.role)} granted to {who} at the {verdict.level} ({a.scope})"
    summary += _WHY[verdict.kind].format(scope=a.scope)
    summary += "; if it calls the data plane, Cognitive Services OpenAI User is enough"
    fix = (DeleteRoleAssignment.of(account_id, a),) if verdict.kind == "remove" else ()
    expected: dict[str, Json] = {"broadRole": None, "or": "principal in allowed_principals"}
    return Finding(CONTROL.id, account_id, summary, describe(a, verdict.level), expected, fix)


CONTROL = Control(
    id="identity.role-assignments",
    summary="no broad role at an account or its resource group outside the allowed principals",
    params=Params,
    routes=(EventRoute("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Authorization/roleAssignments/write"),),
    facts=frozenset({Fact.ACCOUNT, Fact.ROLE_ASSIGNMENTS}),
    steps=(DeleteRoleAssignment,),
    detect=detect,
    mode_ceiling=Mode.DRY_RUN,
)

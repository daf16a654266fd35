"""identity.role-assignments detector: which broad grants are removed, which are left to a human, and the
advice for data-plane callers, on assignments built in code."""

from __future__ import annotations

from detectors.identity_role_assignments import CONTROL, Params
from remediators.delete_role_assignment import DeleteRoleAssignment
from tests.detectors.given import RID, Given, snapshot
from warden.access_model import RoleAssignment
from warden.model import Finding

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
GROUP = "/subscriptions/s/resourceGroups/rg"
SUB = "/subscriptions/s"
USER = "aaaaaaaa-0000-0000-0000-000000000001"
PIPELINE = "bbbbbbbb-0000-0000-0000-000000000002"
WARDEN = "cccccccc-0000-0000-0000-000000000003"
ADMIN = "dddddddd-0000-0000-0000-000000000004"


def grant(scope: str, role: str, principal: str, name: str, kind: str = "User") -> RoleAssignment:
    rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    return RoleAssignment(rid, scope, f"/providers/Microsoft.Authorization/roleDefinitions/{role}", principal, kind)


SUB_OWNER = grant(SUB, OWNER, ADMIN, "sub-owner")


def detect(
    *assignments: RoleAssignment, params: Params | None = None, own: frozenset[str] = frozenset()
) -> list[Finding]:
    facts = Given(snapshot(), role_assignments=assignments, own_principals=own)
    return CONTROL.detect(facts, params or Params(allowed_principals=(ADMIN,)))


def deleted(findings: list[Finding]) -> list[str]:
    return [s.target.rsplit("/", 1)[-1] for f in findings for s in f.fix if isinstance(s, DeleteRoleAssignment)]


def test_an_owner_at_the_account_to_a_user_is_deleted_and_an_allowed_contributor_kept() -> None:
    findings = detect(
        SUB_OWNER,
        grant(RID, OWNER, USER, "user-owner"),
        grant(RID, CONTRIBUTOR, PIPELINE, "pipeline", "ServicePrincipal"),
        params=Params(allowed_principals=(ADMIN, PIPELINE)),
    )
    assert deleted(findings) == ["user-owner"]
    (finding,) = findings
    assert finding.observed["role"] == f"Owner ({OWNER})"
    assert finding.observed["principalType"] == "User"
    assert finding.observed["level"] == "account"


def test_a_broad_role_at_the_resource_group_is_deleted_too() -> None:
    assert deleted(detect(SUB_OWNER, grant(GROUP, CONTRIBUTOR, USER, "rg-contrib"))) == ["rg-contrib"]


def test_an_inherited_grant_is_needs_human_with_the_scope_that_grants_it() -> None:
    (finding,) = detect(grant(SUB, OWNER, USER, "sub-user"), SUB_OWNER)
    assert finding.fix == ()
    assert "inherited from /subscriptions/s" in finding.summary
    assert finding.observed["scope"] == SUB
    assert detect(grant("/", OWNER, USER, "root"), SUB_OWNER)[0].observed["level"] == "inherited"


def test_warden_s_own_assignment_is_never_reported() -> None:
    assert detect(SUB_OWNER, grant(RID, OWNER, WARDEN, "mine"), own=frozenset({WARDEN})) == []


def test_the_last_owner_over_the_account_is_never_removed() -> None:
    # Two users own the group and nobody else owns anything above: deleting both would leave no Owner.
    findings = detect(grant(GROUP, OWNER, USER, "o1"), grant(RID, OWNER, PIPELINE, "o2"), params=Params())
    assert [f.fix for f in findings] == [(), ()]
    assert all("last Owner" in f.summary for f in findings)
    # An Owner above (even one warden reports as inherited) keeps them removable.
    kept = detect(grant(SUB, OWNER, ADMIN, "sub"), grant(GROUP, OWNER, USER, "o1"), params=Params())
    assert deleted(kept) == ["o1"]


def test_roles_that_are_not_broad_pass_and_the_baseline_can_add_one() -> None:
    reader = grant(RID, READER, USER, "reader")
    assert detect(SUB_OWNER, reader) == []
    wider = Params(allowed_principals=(ADMIN,), broad_roles=(READER,))
    assert deleted(detect(SUB_OWNER, reader, params=wider)) == ["reader"]


def test_roles_compare_by_guid_whatever_the_id_form_and_case() -> None:
    subscription_form = RoleAssignment(
        f"{RID}/providers/Microsoft.Authorization/roleAssignments/x",
        RID,
        f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{OWNER.upper()}",
        USER.upper(),
    )
    assert deleted(detect(SUB_OWNER, subscription_form)) == ["x"]
    allowed = Params(allowed_principals=(ADMIN, USER))
    assert detect(SUB_OWNER, subscription_form, params=allowed) == []


def test_a_data_plane_caller_without_openai_user_gets_advice_without_a_fix() -> None:
    params = Params(allowed_principals=(ADMIN,), data_plane_principals=(PIPELINE,))
    (advice,) = detect(SUB_OWNER, params=params)
    assert advice.fix == () and advice.summary.startswith("advice:")
    assert "Cognitive Services OpenAI User" in advice.summary
    assert detect(SUB_OWNER, grant(RID, OPENAI_USER, PIPELINE, "user-role"), params=params) == []


def test_every_finding_is_one_assignment_and_the_order_is_stable() -> None:
    findings = detect(SUB_OWNER, grant(RID, OWNER, USER, "b"), grant(RID, CONTRIBUTOR, USER, "a"))
    assert deleted(findings) == ["a", "b"]
    assert all(len(f.fix) == 1 for f in findings)

"""warden's role assignment adapter (RoleAssignments, the RoleAssignmentPort) and the accounts of one resource
group (CognitiveAccounts.list_accounts_in_group) against the emulator with the real SDK clients: the exact
requests, the mapping to warden's RoleAssignment, and the errors raised."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator import Emulator
from emulator.access_builders import BUILTIN_ROLES, management_group_id, role_assignment
from emulator.builders import SUBSCRIPTION, account, account_id
from warden.access_model import RoleAssignment
from warden.azure.clients import ClientFactory
from warden.azure.cognitive import CognitiveAccounts
from warden.azure.credentials import StaticTokenCredential
from warden.azure.role_assignments import RoleAssignments, check_assignment_id, check_scope
from warden.errors import (
    AzureError,
    ConflictError,
    PermissionDeniedError,
    ReplyLostError,
    ResourceGoneError,
    TransientError,
)
from warden.ids import IdRuleError, assignment_scope
from warden.settings import RetryOptions

ACC = account_id("aoai-prod")
SIBLING = account_id("aoai-dev")
SUB = f"/subscriptions/{SUBSCRIPTION}"
GROUP = f"{SUB}/resourceGroups/ai-prod"
MG = management_group_id("mg-corp")
APP = "aaaaaaaa-0000-4000-8000-000000000001"
TEAM = "bbbbbbbb-0000-4000-8000-000000000002"
UNKNOWN_ROLE = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"  # in no catalog: upstream RoleAssignments_Get.json's role
CONDITION = "@Resource[Microsoft.KeyVault/vaults/keys:name] StringEquals 'cmk'"


def name(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def at_account_with_condition() -> dict[str, Any]:
    found = role_assignment(ACC, "Contributor", TEAM, "Group", name=name(1))
    found["properties"].update(condition=CONDITION, conditionVersion="2.0")
    return found


def without_scope() -> dict[str, Any]:
    """An answer that leaves `properties.scope` out (the adapter takes it from the id)."""
    found = role_assignment(GROUP, UNKNOWN_ROLE, APP, "ServicePrincipal", name=name(2))
    del found["properties"]["scope"]
    return found


def without_principal_type() -> dict[str, Any]:
    found = role_assignment(SUB, "Owner", APP, name=name(3))
    del found["properties"]["principalType"]
    return found


@pytest.fixture
def emu() -> Iterator[Emulator]:
    others = [
        role_assignment(MG, "User Access Administrator", APP, "User", name=name(4)),
        role_assignment("/", "Owner", APP, "ForeignGroup", name=name(5)),
        role_assignment(f"{ACC}/deployments/chat", "Owner", APP, name=name(6)),  # below: not listed
        role_assignment(SIBLING, "Owner", APP, name=name(7)),  # a sibling: not listed
    ]
    other_group = account("aoai-elsewhere")
    other_group["id"] = account_id("aoai-elsewhere", rg="ai-other")
    scenario = {
        "resources": [
            account("aoai-prod"),
            account("aoai-dev", kind="AIServices"),
            account("aoai-test"),
            other_group,
            at_account_with_condition(),
            without_scope(),
            without_principal_type(),
            *others,
        ]
    }
    with Emulator(scenario) as running:
        yield running


@pytest.fixture
def factory(emu: Emulator) -> ClientFactory:
    retry = RetryOptions(total=2, backoff_factor=0.01, backoff_max=0.05, max_retry_after=1)
    return ClientFactory(StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path, retry=retry)


@pytest.fixture
def roles(factory: ClientFactory) -> RoleAssignments:
    return RoleAssignments(factory)


def assignment_id(scope: str, n: int) -> str:
    return f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name(n)}"


def test_the_assignments_at_and_above_an_account_are_mapped(emu: Emulator, roles: RoleAssignments) -> None:
    found = {a.resource_id: a for a in roles.list_role_assignments(ACC)}
    assert sorted(found) == sorted(assignment_id(s, n) for s, n in [(ACC, 1), (GROUP, 2), (SUB, 3), (MG, 4), ("/", 5)])
    assert found[assignment_id(ACC, 1)] == RoleAssignment(
        resource_id=assignment_id(ACC, 1),
        scope=ACC,
        role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{BUILTIN_ROLES['Contributor']}",
        principal_id=TEAM,
        principal_type="Group",
        condition=CONDITION,
    )
    unknown = found[assignment_id(GROUP, 2)]
    assert (unknown.scope, unknown.role, unknown.principal_type) == (GROUP, UNKNOWN_ROLE, "ServicePrincipal")
    assert found[assignment_id(SUB, 3)].principal_type == ""
    assert found[assignment_id(MG, 4)].scope == MG
    assert (found[assignment_id("/", 5)].scope, found[assignment_id("/", 5)].principal_type) == ("/", "ForeignGroup")
    assert all(a.condition is None for rid, a in found.items() if rid != assignment_id(ACC, 1))
    assert [(r.method, r.path, r.query["$filter"]) for r in emu.requests] == [
        ("GET", f"{ACC}/providers/Microsoft.Authorization/roleAssignments", "atScope()")
    ]


def test_every_page_is_one_get_with_the_filter(emu: Emulator, roles: RoleAssignments) -> None:
    emu.set_options(page_size=2)
    assert len(roles.list_role_assignments(ACC)) == 5
    assert [r.method for r in emu.requests] == ["GET"] * 3
    assert [r.query["$filter"] for r in emu.requests] == ["atScope()"] * 3
    assert {r.path for r in emu.requests} == {f"{ACC}/providers/Microsoft.Authorization/roleAssignments"}
    assert "$skipToken" not in emu.requests[0].query and "$skipToken" in emu.requests[2].query


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("/", "/providers/Microsoft.Authorization/roleAssignments"),
        (MG, f"{MG}/providers/Microsoft.Authorization/roleAssignments"),
        (GROUP, f"{GROUP}/providers/Microsoft.Authorization/roleAssignments"),
    ],
)
def test_a_scope_with_its_leading_slash_gives_one_slash_on_the_wire(
    emu: Emulator, roles: RoleAssignments, scope: str, path: str
) -> None:
    roles.list_role_assignments(scope)
    assert [r.path for r in emu.requests] == [path]


def test_a_delete_is_one_delete_by_id_and_a_second_finds_it_gone(emu: Emulator, roles: RoleAssignments) -> None:
    for rid in (assignment_id(ACC, 1), assignment_id(MG, 4), assignment_id("/", 5)):
        emu.clear_requests()
        assert roles.delete_role_assignment(rid) is True
        assert [(r.method, r.path, r.status) for r in emu.requests] == [("DELETE", rid, 200)]
        assert "If-Match" not in emu.requests[0].headers
        assert roles.delete_role_assignment(rid) is False
        assert emu.requests[-1].status == 204
    left = {r["id"] for r in emu.dump_state()["resources"]}
    assert assignment_id(ACC, 1) not in left and assignment_id(GROUP, 2) in left
    assert len(roles.list_role_assignments(ACC)) == 2


def test_list_errors_are_classified(emu: Emulator, roles: RoleAssignments) -> None:
    emu.add_fault("GET", r"/roleAssignments$", "throttle", count=3, retry_after=0.01)
    with pytest.raises(TransientError) as throttled:
        roles.list_role_assignments(ACC)
    assert throttled.value.status == 429
    emu.add_fault("GET", r"/roleAssignments$", "server-error", status=403)
    with pytest.raises(PermissionDeniedError) as denied:
        roles.list_role_assignments(ACC)
    assert denied.value.status == 403
    emu.add_fault("GET", r"/roleAssignments$", "not-found")
    with pytest.raises(ResourceGoneError):
        roles.list_role_assignments(ACC)
    emu.add_fault("GET", r"/roleAssignments$", "server-error", status=400)
    with pytest.raises(AzureError) as refused:
        roles.list_role_assignments(ACC)
    assert refused.value.status == 400 and not isinstance(refused.value, TransientError)
    assert refused.value.__cause__ is not None  # chained to the SDK's exception


def test_delete_errors_are_classified(emu: Emulator, roles: RoleAssignments) -> None:
    rid = assignment_id(ACC, 1)
    emu.add_fault("DELETE", r"/roleAssignments/", "server-error", count=3)
    with pytest.raises(ReplyLostError):  # the DELETE may have landed: only a re-read tells
        roles.delete_role_assignment(rid)
    emu.add_fault("DELETE", r"/roleAssignments/", "conflict")
    with pytest.raises(ConflictError) as conflict:
        roles.delete_role_assignment(rid)
    assert conflict.value.status == 409
    emu.add_fault("DELETE", r"/roleAssignments/", "reset", count=3)
    with pytest.raises(ReplyLostError):
        roles.delete_role_assignment(rid)
    assert roles.delete_role_assignment(rid) is True


@pytest.mark.parametrize(
    "scope",
    ["subscriptions/x", "", "/subscriptions/x?$filter=x", "/subscriptions/x#", "/subscriptions//x", "/a/../b", "/é"],
)
def test_a_scope_that_is_no_arm_scope_is_refused_before_any_request(
    emu: Emulator, roles: RoleAssignments, scope: str
) -> None:
    with pytest.raises(IdRuleError):
        roles.list_role_assignments(scope)
    assert emu.requests == []


@pytest.mark.parametrize(
    "bad",
    [
        f"{ACC}/providers/Microsoft.Authorization/roleAssignments/not-a-guid",
        f"{ACC}/providers/Microsoft.Authorization/roleDefinitions/{name(1)}",
        f"{ACC}?x=/providers/Microsoft.Authorization/roleAssignments/{name(1)}",
        f"providers/Microsoft.Authorization/roleAssignments/{name(1)}",
    ],
)
def test_an_id_that_is_no_role_assignment_id_is_refused(emu: Emulator, roles: RoleAssignments, bad: str) -> None:
    with pytest.raises(IdRuleError):
        roles.delete_role_assignment(bad)
    assert emu.requests == []


def test_the_id_helpers() -> None:
    assert assignment_scope(assignment_id(ACC, 1)) == ACC
    assert assignment_scope(assignment_id(ACC, 1).upper()) == ACC.upper()
    assert assignment_scope(assignment_id("/", 1)) == "/"
    assert check_scope("/") == "/"
    assert check_scope(MG) == MG
    assert check_assignment_id(assignment_id("/", 1)) == assignment_id("/", 1)


# --- the accounts of one resource group (AccountPort.list_accounts_in_group) ---------------------------------
def test_the_accounts_of_a_group_are_listed_page_by_page(emu: Emulator, factory: ClientFactory) -> None:
    emu.set_options(page_size=2)
    accounts = CognitiveAccounts(factory)
    found = accounts.list_accounts_in_group(SUBSCRIPTION, "ai-prod")
    assert sorted(found) == sorted([(ACC, "OpenAI"), (SIBLING, "AIServices"), (account_id("aoai-test"), "OpenAI")])
    route = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts"
    assert [(r.method, r.path) for r in emu.requests] == [("GET", route)] * 2
    emu.clear_requests()
    assert accounts.list_accounts_in_group(SUBSCRIPTION, "ai-other") == [
        (account_id("aoai-elsewhere", rg="ai-other"), "OpenAI")
    ]
    assert accounts.list_accounts_in_group(SUBSCRIPTION, "ai-empty") == []
    emu.add_fault("GET", r"/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts$", "not-found")
    with pytest.raises(ResourceGoneError):
        accounts.list_accounts_in_group(SUBSCRIPTION, "ai-prod")

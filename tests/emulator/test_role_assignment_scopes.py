"""Role assignments around a Cognitive Services account in the emulator, driven by the real
AuthorizationManagementClient: what `atScope()` and `principalId eq` list at the account (its group, its
subscription, management groups, the tenant root; nothing below it or on a sibling), the management group tree,
reads, writes and deletes at the account, a management group and the root, and the scenario builders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.monitor import MonitorManagementClient

from emulator import Emulator
from emulator.access_builders import (
    BUILTIN_ROLES,
    diagnostic_setting,
    management_group,
    management_group_id,
    role_assignment,
)
from emulator.builders import account, account_id
from emulator.services.authorization.definitions import built_ins
from tests.conftest import reference_dir
from tests.emulator.conftest import BEARER, OTHER_SUB
from tests.emulator.swagger import Swagger
from warden.azure.credentials import StaticTokenCredential

API = "2022-04-01"
SUB = account_id("x").split("/")[2]
ACC = account_id("aoai-prod")
SIBLING = account_id("aoai-dev")
GROUP = ACC.split("/providers/")[0]
OTHER_GROUP = f"/subscriptions/{SUB}/resourceGroups/ai-other"
MG = management_group_id("mg-corp")
ROOT = "/"
ALICE = "aaaaaaaa-0000-4000-8000-000000000001"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"
OWNER = BUILTIN_ROLES["Owner"]
OPENAI_USER = BUILTIN_ROLES["Cognitive Services OpenAI User"]


def numbered(n: int, scope: str, principal: str = ALICE, role: str = OWNER) -> dict[str, Any]:
    return role_assignment(scope, role, principal, "ServicePrincipal", name=f"00000000-0000-4000-8000-{n:012d}")


def numbers(found: Any) -> list[int]:
    return sorted(int(a.name.rsplit("-", 1)[-1]) for a in found)


# 1 at the account, 2 its group, 3 its subscription, 4 a management group, 5 the root; 6 below the account (a
# deployment), 7 a sibling account, 8 another group of the subscription, 9 another subscription; 10 Bob at the
# account, 11 Bob below it.
PLACES = {
    1: ACC,
    2: GROUP,
    3: f"/subscriptions/{SUB}",
    4: MG,
    5: ROOT,
    6: f"{ACC}/deployments/chat",
    7: SIBLING,
    8: OTHER_GROUP,
    9: f"/subscriptions/{OTHER_SUB}",
}


def seeded(*extra: dict[str, Any]) -> dict[str, Any]:
    assignments = [numbered(n, scope) for n, scope in PLACES.items()]
    bobs = [numbered(10, ACC, BOB, OPENAI_USER), numbered(11, f"{ACC}/deployments/chat", BOB)]
    return {"resources": [account("aoai-prod"), account("aoai-dev"), *assignments, *bobs, *extra]}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seeded()) as running:
        yield running


def sdk(emu: Emulator) -> AuthorizationManagementClient:
    return AuthorizationManagementClient(
        StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path, retry_total=0
    )


@pytest.fixture
def client(emu: Emulator) -> Iterator[AuthorizationManagementClient]:
    with sdk(emu) as built:
        yield built


def raw_json(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    return json.loads(pipeline_response.http_response.text())


@pytest.mark.parametrize(
    ("scope", "filter_", "expected"),
    [
        (ACC, "atScope()", [1, 2, 3, 4, 5, 10]),  # not 6 (below), 7 (sibling), 8, 9
        (SIBLING, "atScope()", [2, 3, 4, 5, 7]),
        (GROUP, "atScope()", [2, 3, 4, 5]),
        (MG, "atScope()", [4, 5]),
        (ROOT, "atScope()", [5]),
        (ACC, f"principalId eq '{BOB}'", [10, 11]),  # at, above and below, for Bob only
        (ACC, f"principalId eq '{ALICE.upper()}'", [1, 2, 3, 4, 5, 6]),
        (MG, f"principalId eq '{BOB}'", [10, 11]),  # an undeclared group holds every subscription
        (ACC, None, [1, 2, 3, 4, 5, 6, 10, 11]),
    ],
)
def test_lists_at_an_account_follow_arms_inheritance(
    client: AuthorizationManagementClient, scope: str, filter_: str | None, expected: list[int]
) -> None:
    assert numbers(client.role_assignments.list_for_scope(scope, filter=filter_)) == expected


def test_an_atscope_list_pages_and_matches_the_swagger(emu: Emulator, client: AuthorizationManagementClient) -> None:
    emu.set_options(page_size=2)
    assert numbers(client.role_assignments.list_for_scope(ACC, filter="atScope()")) == [1, 2, 3, 4, 5, 10]
    pages = [r for r in emu.requests if r.method == "GET"]
    assert [r.query["$filter"] for r in pages] == ["atScope()"] * 3
    assert all("//" not in r.path for r in pages)
    slice_ = Swagger(reference_dir() / "authorization" / API / "authorization-RoleAssignmentsCalls.json")
    url = f"{emu.endpoint}{ACC}/providers/Microsoft.Authorization/roleAssignments"
    body = requests.get(
        url, params={"api-version": API, "$filter": "atScope()"}, headers=BEARER, verify=emu.ca_path, timeout=10
    ).json()
    slice_.validate_response("/{scope}/providers/Microsoft.Authorization/roleAssignments", "get", 200, body)


def test_declared_management_groups_are_above_only_their_subscriptions() -> None:
    """mg-corp holds the other subscription only; mg-ai (under mg-top) holds this one."""
    groups = [
        management_group("mg-corp", [OTHER_SUB]),
        management_group("mg-top"),
        management_group("mg-ai", [f"/subscriptions/{SUB}"], parent="mg-top"),
    ]
    extra = [numbered(20, management_group_id("mg-ai")), numbered(21, management_group_id("mg-top"))]
    with Emulator(seeded(*groups, *extra)) as emu, sdk(emu) as client:
        assert numbers(client.role_assignments.list_for_scope(ACC, filter="atScope()")) == [1, 2, 3, 5, 10, 20, 21]
        other = client.role_assignments.list_for_scope(f"/subscriptions/{OTHER_SUB}", filter="atScope()")
        assert numbers(other) == [4, 5, 9]
        mg_ai = management_group_id("mg-ai")
        assert numbers(client.role_assignments.list_for_scope(mg_ai, filter="atScope()")) == [5, 20, 21]
        assert numbers(client.role_assignments.list_for_scope(MG, filter=f"principalId eq '{BOB}'")) == []
        below_top = client.role_assignments.list_for_scope(
            management_group_id("mg-top"), filter=f"principalId eq '{BOB}'"
        )
        assert numbers(below_top) == [10, 11]
        # The groups are ordinary resources: readable by id, and dumped as loaded.
        reply = requests.get(
            emu.endpoint + mg_ai, params={"api-version": "2021-04-01"}, headers=BEARER, verify=emu.ca_path, timeout=10
        )
        assert reply.json() == groups[2]
        assert [r for r in emu.dump_state()["resources"] if r["type"] == groups[0]["type"]] == groups


@pytest.mark.parametrize("scope", [ACC, MG, ROOT], ids=["account", "management-group", "root"])
def test_one_assignment_is_written_read_and_deleted_by_scope_and_by_id(emu: Emulator, scope: str) -> None:
    name = "11111111-2222-4333-8444-555555555555"
    role = f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
    params = {"properties": {"roleDefinitionId": role, "principalId": BOB}}
    with sdk(emu) as client:
        created = client.role_assignments.create(scope, name, params, cls=raw_json)
        rid = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}"
        assert created["id"] == rid
        assert created["properties"]["scope"] == scope
        assert client.role_assignments.get(scope, name).principal_id == BOB
        assert client.role_assignments.get_by_id(rid, cls=raw_json) == created
        assert client.role_assignments.create_by_id(rid, params, cls=raw_json) == created  # 200, unchanged
        assert client.role_assignments.delete(scope, name, cls=raw_json) == created
        assert client.role_assignments.delete(scope, name) is None
        client.role_assignments.create_by_id(rid, params)
        assert client.role_assignments.delete_by_id(rid, cls=raw_json) == created
        assert client.role_assignments.delete_by_id(rid) is None
        with pytest.raises(ResourceNotFoundError, match="RoleAssignmentNotFound"):
            client.role_assignments.get_by_id(rid)
    writes = [f"{r.method} {r.status}" for r in emu.requests if r.method != "GET"]
    assert writes == ["PUT 201", "PUT 200", "DELETE 200", "DELETE 204", "PUT 201", "DELETE 200", "DELETE 204"]
    assert all("//" not in r.path for r in emu.requests)


@pytest.mark.parametrize("scope", [ACC, MG, ROOT], ids=["account", "management-group", "root"])
def test_a_second_assignment_of_one_role_to_one_principal_at_one_scope_is_409(emu: Emulator, scope: str) -> None:
    existing = {ACC: 1, MG: 4, ROOT: 5}[scope]
    params = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
            "principalId": ALICE,
        }
    }
    with sdk(emu) as client, pytest.raises(ResourceExistsError) as refused:
        client.role_assignments.create(scope, "22222222-2222-4333-8444-555555555555", params)
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.code == "RoleAssignmentExists"
    # Another principal, or another role, at the same scope is a new assignment.
    to_bob = {"properties": {**params["properties"], "principalId": BOB}}
    contributor = f"/providers/Microsoft.Authorization/roleDefinitions/{BUILTIN_ROLES['Contributor']}"
    other_role = {"properties": {**params["properties"], "roleDefinitionId": contributor}}
    with sdk(emu) as client:
        client.role_assignments.create(scope, "33333333-2222-4333-8444-555555555555", to_bob)
        client.role_assignments.create(scope, "44444444-2222-4333-8444-555555555555", other_role)
    assert [r.status for r in emu.requests] == [409, 201, 201]
    assert numbered(existing, scope)["id"] in {r["id"] for r in emu.dump_state()["resources"]}


def test_the_builders_seed_what_arm_returns() -> None:
    """role_assignment gives RoleAssignments_Get's shape at any scope, with a stable default name; the
    catalog knows every role BUILTIN_ROLES names; diagnostic_setting's output is what Microsoft.Insights lists."""
    assert {name: built_ins()[guid]["properties"]["roleName"] for name, guid in BUILTIN_ROLES.items()} == {
        name: name for name in BUILTIN_ROLES
    }
    at_root = role_assignment("/", "Owner", ALICE)
    assert at_root == role_assignment(ROOT, OWNER.upper(), ALICE)
    assert at_root["id"] == f"/providers/Microsoft.Authorization/roleAssignments/{at_root['name']}"
    assert at_root["properties"]["scope"] == "/"
    assert role_assignment(ACC, OWNER, ALICE)["name"] != role_assignment(ACC, OWNER, BOB)["name"]
    with pytest.raises(ValueError, match="neither a role GUID"):
        role_assignment(ACC, "Reader-ish", ALICE)
    example = reference_dir() / "authorization" / API / "examples" / "RoleAssignments_Get.json"
    upstream = json.loads(example.read_text(encoding="utf-8"))["responses"]["200"]["body"]
    built = role_assignment(
        upstream["properties"]["scope"],
        upstream["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
        upstream["properties"]["principalId"],
        name=upstream["name"],
    )
    assert built == upstream  # the same fields, in the same form
    workspace = f"/subscriptions/{SUB}/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central"
    setting = diagnostic_setting(ACC, "to-central", workspace, ("audit", "allLogs"), metrics=[])
    assert setting == {
        "id": f"{ACC}/providers/microsoft.insights/diagnosticSettings/to-central",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": "to-central",
        "properties": {
            "workspaceId": workspace,
            "logs": [{"categoryGroup": "audit", "enabled": True}, {"categoryGroup": "allLogs", "enabled": True}],
            "metrics": [],
        },
    }
    with Emulator({"resources": [account("aoai-prod"), at_root, setting]}) as emu:
        assert emu.dump_state()["resources"][1:] == [at_root, setting]
        with sdk(emu) as client:
            assert client.role_assignments.get_by_id(at_root["id"], cls=raw_json) == at_root
        with MonitorManagementClient(
            StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path
        ) as monitor:
            listed = [s.as_dict() for s in monitor.diagnostic_settings.list(ACC)]
        assert [(s["id"], s["workspace_id"], s["logs"]) for s in listed] == [
            (setting["id"], workspace, [{"category_group": g, "enabled": True} for g in ("audit", "allLogs")])
        ]

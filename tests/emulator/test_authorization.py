"""Microsoft.Authorization in the emulator, driven by the real AuthorizationManagementClient: role assignments at
any scope (a vault's key included), the list filters and their inheritance, role definitions, and the upstream
2022-04-01 examples coming back unchanged."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient

from emulator import Emulator
from tests.conftest import reference_dir
from tests.emulator.conftest import BEARER, SUB, raw
from tests.emulator.swagger import Swagger
from warden.azure.credentials import StaticTokenCredential

API = "2022-04-01"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-kv"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-cmk"
KEY = f"{VAULT}/keys/cmk"
OTHER_KEY = f"{VAULT}/keys/other"
MI = "aaaaaaaa-0000-4000-8000-000000000001"
SOMEONE = "bbbbbbbb-0000-4000-8000-000000000002"
NEWCOMER = "cccccccc-0000-4000-8000-000000000003"
CSEU = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
READER = "21090545-7ca7-4776-b22c-e363652d74d2"
CUSTOM = "c0c0c0c0-1111-4222-8333-444444444444"
ROLES = "Microsoft.Authorization/roleDefinitions"


def assignment(scope: str, n: int, principal: str = MI, role: str = CSEU) -> dict[str, Any]:
    """A role assignment as ARM returns it (upstream RoleAssignments_Get.json's shape)."""
    name = f"00000000-0000-4000-8000-{n:012d}"
    return {
        "properties": {
            "roleDefinitionId": f"/providers/{ROLES}/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "scope": scope,
        },
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": name,
    }


def raw_json(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """`cls=` hook: the response JSON exactly as received (this SDK's legacy transport responses have no
    `.json()`)."""
    return json.loads(pipeline_response.http_response.text())


def example(name: str) -> Any:
    path = reference_dir() / "authorization" / API / "examples" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def slice_() -> Swagger:
    return Swagger(reference_dir() / "authorization" / API / "authorization-RoleAssignmentsCalls.json")


@pytest.fixture
def scenario() -> dict[str, Any]:
    """MI holds a role at the subscription (1), the group (2), the vault (3), the key (4), another key (5);
    someone else holds one at the key (6)."""
    scopes = [f"/subscriptions/{SUB}", RG, VAULT, KEY, OTHER_KEY]
    return {"resources": [*(assignment(s, i + 1) for i, s in enumerate(scopes)), assignment(KEY, 6, SOMEONE)]}


@pytest.fixture
def emu(scenario: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator(scenario) as running:
        yield running


@pytest.fixture
def client(emu: Emulator) -> Iterator[AuthorizationManagementClient]:
    with AuthorizationManagementClient(
        StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path, retry_total=0
    ) as sdk:
        yield sdk


def numbers(found: Any) -> list[int]:
    """The scenario numbers (last digits of the names) of the listed assignments, in order."""
    return sorted(int(a.name.rsplit("-", 1)[-1]) for a in found)


def test_an_assignment_at_a_key_is_created_read_and_deleted(
    emu: Emulator, client: AuthorizationManagementClient, slice_: Swagger
) -> None:
    name = "11111111-2222-4333-8444-555555555555"
    params = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/{ROLES}/{CSEU}",
            "principalId": NEWCOMER,
            "principalType": "ServicePrincipal",
        }
    }
    created = client.role_assignments.create(KEY, name, params, cls=raw_json)
    slice_.validate_response(
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", "put", 201, created
    )
    assert created["properties"] == {
        "roleDefinitionId": f"/providers/{ROLES}/{CSEU}",  # stored in the form the upstream 201 shows
        "principalId": NEWCOMER,
        "principalType": "ServicePrincipal",
        "scope": KEY,
    }
    assert created["id"] == f"{KEY}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert "etag" not in created
    assert client.role_assignments.get(KEY, name).scope == KEY
    assert client.role_assignments.get_by_id(created["id"]).principal_id == NEWCOMER
    # Same body again: 200, unchanged.
    assert client.role_assignments.create(KEY, name, params, cls=raw_json) == created
    assert [r.status for r in emu.requests if r.method == "PUT"] == [201, 200]
    deleted = client.role_assignments.delete(KEY, name, cls=raw_json)
    assert deleted == created
    assert client.role_assignments.delete(KEY, name) is None
    assert emu.requests[-1].status == 204
    with pytest.raises(ResourceNotFoundError) as gone:
        client.role_assignments.get(KEY, name)
    assert gone.value.error is not None and gone.value.error.code == "RoleAssignmentNotFound"


@pytest.mark.parametrize(
    ("scope", "filter_", "expected"),
    [
        (VAULT, None, [1, 2, 3, 4, 5, 6]),  # at, above and below
        (KEY, None, [1, 2, 3, 4, 6]),
        (KEY, "atScope()", [1, 2, 3, 4, 6]),
        (VAULT, "atScope()", [1, 2, 3]),  # nothing below
        (RG, f"principalId eq '{MI}'", [1, 2, 3, 4, 5]),
        (KEY, f"principalId eq '{SOMEONE}'", [6]),
        (KEY, f"assignedTo('{MI}')", [1, 2, 3, 4]),  # inherited from subscription, group and vault
        (OTHER_KEY, f"assignedTo('{MI.upper()}')", [1, 2, 3, 5]),
        (VAULT, f"atScope() and assignedTo('{MI}')", [1, 2, 3]),
        (f"/subscriptions/{SUB}", "atScope()", [1]),
    ],
)
def test_lists_follow_the_scope_and_the_filter(
    client: AuthorizationManagementClient, scope: str, filter_: str | None, expected: list[int]
) -> None:
    assert numbers(client.role_assignments.list_for_scope(scope, filter=filter_)) == expected


@pytest.mark.parametrize(
    "filter_",
    ["principalId", f"atScope() and principalId eq '{MI}'", f"principalId eq '{MI}' and roleDefinitionId eq 'x'"],
)
def test_an_unsupported_filter_is_arms_400(emu: Emulator, client: AuthorizationManagementClient, filter_: str) -> None:
    with pytest.raises(HttpResponseError) as refused:
        list(client.role_assignments.list_for_scope(KEY, filter=filter_))
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == "UnsupportedQuery"
    assert f"The filter '{filter_}' is not supported." in str(refused.value.error.message)


def test_a_filtered_list_pages_with_its_filter(emu: Emulator, client: AuthorizationManagementClient) -> None:
    emu.set_options(page_size=2)
    assert numbers(client.role_assignments.list_for_scope(KEY, filter=f"assignedTo('{MI}')")) == [1, 2, 3, 4]
    pages = [r for r in emu.requests if r.path.endswith("/roleAssignments")]
    assert len(pages) == 2
    assert all(r.query["$filter"] == f"assignedTo('{MI}')" for r in pages)


def test_writes_are_checked_as_arm_checks_them(emu: Emulator, client: AuthorizationManagementClient) -> None:
    def put(name: str, **props: Any) -> None:
        body = {"roleDefinitionId": f"/providers/{ROLES}/{CSEU}", "principalId": MI, **props}
        client.role_assignments.create(KEY, name, {"properties": body})

    with pytest.raises(HttpResponseError, match="principalId") as missing:
        client.role_assignments.create(
            KEY, "12345678-1234-4234-8234-123456789012", {"properties": {"roleDefinitionId": CSEU}}
        )
    assert missing.value.status_code == 400
    with pytest.raises(HttpResponseError, match="RoleDefinitionDoesNotExist"):
        put("12345678-1234-4234-8234-123456789012", roleDefinitionId=f"/providers/{ROLES}/{CUSTOM}")
    with pytest.raises(HttpResponseError, match="InvalidRoleAssignmentId"):
        put("not-a-guid")
    with pytest.raises(ResourceExistsError, match="RoleAssignmentExists"):
        put("12345678-1234-4234-8234-123456789012")  # assignment 4 already gives MI this role at the key
    with pytest.raises(HttpResponseError, match="RoleAssignmentUpdateNotPermitted"):
        put(assignment(KEY, 4)["name"], principalId=SOMEONE)
    with pytest.raises(HttpResponseError, match="principalType"):
        put("12345678-1234-4234-8234-123456789013", principalId=SOMEONE, principalType="Robot")
    assert [r.status for r in emu.requests] == [400, 400, 400, 409, 400, 400]


def test_role_definitions_are_served_by_id_and_at_a_scope(emu: Emulator, client: AuthorizationManagementClient) -> None:
    role = client.role_definitions.get_by_id(f"/providers/{ROLES}/{CSEU}")
    assert role.role_name == "Key Vault Crypto Service Encryption User"
    assert role.role_type == "BuiltInRole"
    assert role.permissions[0].data_actions == [
        "Microsoft.KeyVault/vaults/keys/read",
        "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action",
    ]
    at_key = client.role_definitions.get(KEY, READER)
    assert at_key.id == f"/subscriptions/{SUB}/providers/{ROLES}/{READER}"
    assert at_key.role_name == "Key Vault Reader"
    owner = client.role_definitions.get_by_id(
        f"/subscriptions/{SUB}/providers/{ROLES}/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    )
    assert owner.role_name == "Owner"
    named = list(client.role_definitions.list(f"/subscriptions/{SUB}", filter="roleName eq 'Key Vault Crypto User'"))
    assert [r.name for r in named] == ["12338af0-0e69-4776-bea7-57ae8d297424"]
    with pytest.raises(ResourceNotFoundError, match="RoleDefinitionDoesNotExist"):
        client.role_definitions.get_by_id(f"/providers/{ROLES}/{CUSTOM}")


def test_custom_roles_come_from_the_scenario() -> None:
    custom = {
        "id": f"/subscriptions/{SUB}/providers/{ROLES}/{CUSTOM}",
        "name": CUSTOM,
        "type": ROLES,
        "properties": {
            "roleName": "CMK key user",
            "type": "CustomRole",
            "assignableScopes": [f"/subscriptions/{SUB}"],
            "permissions": [
                {
                    "actions": [],
                    "notActions": [],
                    "dataActions": ["Microsoft.KeyVault/vaults/keys/*"],
                    "notDataActions": [],
                }
            ],
        },
    }
    with (
        Emulator({"roleDefinitions": [custom]}) as emu,
        AuthorizationManagementClient(
            StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path
        ) as client,
    ):
        got = client.role_definitions.get_by_id(custom["id"], cls=raw_json)
        assert got == custom
        client.role_assignments.create(
            KEY,
            "12345678-1234-4234-8234-123456789012",
            {"properties": {"roleDefinitionId": custom["id"], "principalId": MI}},
        )
        stored = client.role_assignments.get(KEY, "12345678-1234-4234-8234-123456789012")
        assert stored.role_definition_id == custom["id"]
        assert emu.dump_state()["roleDefinitions"] == [custom]
    for bad in (
        [{"id": 1}],
        {"x": 1},
        [{**custom, "properties": {"roleName": "x"}}],
        [custom, custom],
        [{**custom, "id": f"/providers/{ROLES}/{CSEU}"}],
    ):
        with pytest.raises(ValueError, match="roleDefinitions"):
            Emulator({"roleDefinitions": bad})


def test_api_versions_are_checked(emu: Emulator) -> None:
    path = f"{KEY}/providers/Microsoft.Authorization/roleAssignments"
    assert raw(emu, "GET", path, params={"api-version": "2015-07-01"}).status_code == 200
    refused = raw(emu, "GET", path, params={"api-version": "1999-01-01"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_upstream_examples_load_and_come_back_unchanged(slice_: Swagger) -> None:
    got = example("RoleAssignments_Get")["responses"]["200"]["body"]
    listed = example("RoleAssignments_ListForScope")["responses"]["200"]["body"]["value"][0]
    assert listed == got  # the two examples show one assignment; the scenario holds it once
    deleted = example("RoleAssignments_Delete")
    with (
        Emulator({"resources": [got]}) as emu,
        AuthorizationManagementClient(
            StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path
        ) as client,
    ):
        scope = "/" + example("RoleAssignments_Get")["parameters"]["scope"]
        name = example("RoleAssignments_Get")["parameters"]["roleAssignmentName"]
        assert client.role_assignments.get(scope, name, cls=raw_json) == got
        assert raw(emu, "GET", got["id"], params={"api-version": "2020-10-01-preview"}).json() == got
        body = raw(
            emu, "GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments", params={"api-version": API}
        ).json()
        assert [a.as_dict() for a in client.role_assignments.list_for_scope(scope)] == [
            client.role_assignments.get_by_id(got["id"]).as_dict()
        ]
        assert body == example("RoleAssignments_ListForScope")["responses"]["200"]["body"]
        slice_.validate_response("/{scope}/providers/Microsoft.Authorization/roleAssignments", "get", 200, body)
        path = got["id"]
        reply = raw(emu, "DELETE", path, params={"api-version": API}, headers=BEARER)
        assert (reply.status_code, reply.json()) == (200, deleted["responses"]["200"]["body"])
        assert raw(emu, "DELETE", path, params={"api-version": API}, headers=BEARER).status_code == 204


def test_the_create_example_is_replayed(slice_: Swagger) -> None:
    """RoleAssignments_CreateForResource: its request in, its 201 body out. Its role (0b5fe924...) is not in
    the emulator's catalog, so the scenario adds it, as a built-in, under `roleDefinitions`."""
    ex = example("RoleAssignments_CreateForResource")
    params = ex["parameters"]
    role_guid = params["parameters"]["properties"]["roleDefinitionId"].rsplit("/", 1)[-1]
    role = {
        "id": f"/providers/{ROLES}/{role_guid}",
        "properties": {"roleName": "Example role", "type": "BuiltInRole", "permissions": []},
    }
    with Emulator({"roleDefinitions": [role]}) as emu:
        path = f"/{params['scope']}/providers/Microsoft.Authorization/roleAssignments/{params['roleAssignmentName']}"
        first = raw(emu, "PUT", path, params={"api-version": API}, json=copy.deepcopy(params["parameters"]))
        assert (first.status_code, first.json()) == (201, ex["responses"]["201"]["body"])
        again = raw(emu, "PUT", path, params={"api-version": API}, json=copy.deepcopy(params["parameters"]))
        assert (again.status_code, again.json()) == (200, ex["responses"]["200"]["body"])
        slice_.validate_response(
            "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", "put", 201, first.json()
        )

"""What `warden doctor` reads from ARM, through the real SDK clients against the emulator: the caller's permissions
(Microsoft.Authorization, inherited from a subscription-scope custom role, none for a stranger, 404 for a missing
group) and Resource Graph finding the storage account and the system topic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from emulator import Emulator
from emulator.access_builders import role_assignment
from emulator.doctor_builders import caller_token, custom_role, storage_account, storage_account_id, system_topic
from tests.emulator.conftest import OTHER_SUB, SUB
from warden.azure.credentials import StaticTokenCredential

RG = "rg-warden"
WARDEN = "aaaaaaaa-0000-4000-8000-00000000000a"
STRANGER = "bbbbbbbb-0000-4000-8000-00000000000b"
TENANT = "cccccccc-0000-4000-8000-00000000000c"
SWEEPER = "d0d0d0d0-1111-4222-8333-444444444444"
SWEEP_ACTIONS = ["Microsoft.CognitiveServices/accounts/read", "Microsoft.CognitiveServices/accounts/write"]


def _scenario() -> dict[str, Any]:
    return {
        "resources": [
            storage_account(SUB, RG, "stwardenaudit"),
            system_topic(SUB, RG, "warden-sub-events"),
            storage_account(OTHER_SUB, "rg-other", "stother"),
            role_assignment(f"/subscriptions/{SUB}", SWEEPER, WARDEN, "ServicePrincipal"),
            role_assignment(
                f"/subscriptions/{SUB}/resourceGroups/{RG}", "Owner", "eeeeeeee-0000-4000-8000-00000000000e"
            ),
            role_assignment(f"/subscriptions/{OTHER_SUB}", "Owner", WARDEN, "ServicePrincipal"),
        ],
        "roleDefinitions": [
            custom_role(SWEEPER, "warden sweeper", SWEEP_ACTIONS, data_actions=["Microsoft.KeyVault/vaults/keys/read"])
        ],
    }


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(_scenario()) as running:
        yield running


def _authz(emu: Emulator, token: str, sub: str = SUB) -> AuthorizationManagementClient:
    return AuthorizationManagementClient(
        StaticTokenCredential(token),
        sub,
        base_url=emu.endpoint,
        connection_verify=emu.ca_path,
        retry_backoff_factor=0.01,
        retry_backoff_max=1,
    )


def _as_dicts(permissions: Any) -> list[dict[str, Any]]:
    return [
        {
            "actions": p.actions,
            "notActions": p.not_actions,
            "dataActions": p.data_actions,
            "notDataActions": p.not_data_actions,
        }
        for p in permissions
    ]


def test_permissions_are_inherited_from_a_subscription_scope_custom_role(emu: Emulator) -> None:
    expected = [
        {
            "actions": SWEEP_ACTIONS,
            "notActions": [],
            "dataActions": ["Microsoft.KeyVault/vaults/keys/read"],
            "notDataActions": [],
        }
    ]
    with _authz(emu, caller_token(WARDEN, TENANT, "app-1")) as client:
        at_group = _as_dicts(client.permissions.list_for_resource_group(RG))
        at_resource = _as_dicts(
            client.permissions.list_for_resource(RG, "Microsoft.Storage", "", "storageAccounts", "stwardenaudit")
        )
    assert at_group == expected  # not the Owner in OTHER_SUB, nor the Owner someone else holds on RG
    assert at_resource == expected
    versions = {r.query.get("api-version") for r in emu.requests if r.path.endswith("/permissions")}
    assert versions == {"2022-04-01"}


def test_a_role_at_the_other_subscription_is_not_inherited_here(emu: Emulator) -> None:
    with _authz(emu, caller_token(WARDEN), OTHER_SUB) as client:
        found = _as_dicts(client.permissions.list_for_resource_group("rg-other"))
    assert [p["actions"] for p in found] == [["*"]]  # the built-in Owner's one permissions block


@pytest.mark.parametrize("token", [caller_token(STRANGER), "opaque-emulator-token"])
def test_a_caller_with_no_assignments_holds_nothing(emu: Emulator, token: str) -> None:
    with _authz(emu, token) as client:
        assert list(client.permissions.list_for_resource_group(RG)) == []


def test_a_missing_resource_group_is_404_resource_group_not_found(emu: Emulator) -> None:
    with _authz(emu, caller_token(WARDEN)) as client, pytest.raises(ResourceNotFoundError) as err:
        list(client.permissions.list_for_resource_group("rg-missing"))
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"


def test_a_missing_resource_is_404(emu: Emulator) -> None:
    with _authz(emu, caller_token(WARDEN)) as client, pytest.raises(ResourceNotFoundError) as err:
        list(client.permissions.list_for_resource(RG, "Microsoft.Storage", "", "storageAccounts", "nosuch"))
    assert err.value.error is not None
    assert err.value.error.code == "ResourceNotFound"


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("microsoft.storage/storageaccounts", "STWARDENAUDIT", storage_account_id(SUB, RG, "stwardenaudit")),
        (
            "microsoft.eventgrid/systemtopics",
            "warden-sub-events",
            f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.EventGrid/systemTopics/warden-sub-events",
        ),
    ],
)
def test_resource_graph_finds_the_new_types(emu: Emulator, kind: str, name: str, expected: str) -> None:
    query = f"resources | where type =~ '{kind}' and name =~ '{name}' | project id"
    with ResourceGraphClient(
        StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path, retry_backoff_factor=0.01
    ) as client:
        result = client.resources(QueryRequest(subscriptions=[SUB, OTHER_SUB], query=query))
    assert [row["id"] for row in result.data] == [expected]

"""The routing table: derived from the controls' declared routes, case-insensitive, checked against the SDK."""

from __future__ import annotations

import json

import pytest
from azure.eventgrid import SystemEventNames

from detectors import CONTROLS
from tests.conftest import reference_dir
from warden.azure.eventgrid import parse_events
from warden.model import Caller, EventSchema, ResourceEvent
from warden.registry import CONTROL_IDS
from warden.routing import (
    CONTROLS_BY_OPERATION,
    PROVIDERS_IN_SCOPE,
    RELEVANT_EVENT_TYPES,
    controls_for,
    is_relevant_event_type,
    provider_of,
)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
ACCOUNT = f"{SUB}/resourceGroups/sample-rg/providers/Microsoft.CognitiveServices/accounts/aoai-1"


def event(operation: str, resource_id: str = ACCOUNT) -> ResourceEvent:
    return ResourceEvent(
        event_id="e-1",
        event_type="Microsoft.Resources.ResourceWriteSuccess",
        schema=EventSchema.EVENT_GRID,
        resource_id=resource_id,
        operation_name=operation,
        subscription_id="00000000-0000-0000-0000-000000000000",
        tenant_id="t",
        correlation_id="c",
        caller=Caller(),
        event_time=None,
    )


#: The stable ids of the design guide's controls table (§2), in its order; audit records and baselines use them,
#: so a rename must be deliberate.
DESIGN_IDS = (
    "network.public-access",
    "network.outbound",
    "identity.local-auth",
    "identity.key-vault-keys",
    "identity.role-assignments",
    "encryption.cmk",
    "encryption.cmk-freshness",
    "encryption.vault-protection",
    "data.training-files",
    "ai.jailbreak-filter",
    "logging.diagnostics",
)


def test_control_ids_are_designs_in_design_order() -> None:
    assert set(CONTROL_IDS) <= set(DESIGN_IDS)
    assert list(CONTROL_IDS) == [i for i in DESIGN_IDS if i in CONTROL_IDS]


def test_the_table_is_derived_from_every_declared_route() -> None:
    for operation, controls in CONTROLS_BY_OPERATION.items():
        assert operation == operation.lower()
        assert controls and controls <= set(CONTROL_IDS)
    for control in CONTROLS:
        assert control.routes, f"{control.id} declares no event: only the sweep would find its drift"
        for route in control.routes:
            assert control.id in CONTROLS_BY_OPERATION[route.operation.lower()]
            assert route.event_type in RELEVANT_EVENT_TYPES


def test_route_strings_match_the_sdk_and_real_payloads() -> None:
    # Event types are the SDK's own names; ARM operation names are those real events carry (a filter string
    # like `Microsoft.CognitiveServices/account/write` would silently match nothing).
    sdk = {name.value for name in SystemEventNames}
    assert sdk >= RELEVANT_EVENT_TYPES
    path = reference_dir() / "eventgrid" / "derived" / "cognitiveservices_arm_events.json"
    real = {e.operation_name for e in parse_events(json.loads(path.read_text(encoding="utf-8")))[0]}
    # No captured vault event exists: a vault write's operation is its type + "/write", the shape every real
    # write event shows (resource_write_success.json: Microsoft.Storage/storageAccounts/write), with the type
    # spelled as the upstream getVault example returns it.
    # Role assignments and diagnostic settings likewise: no captured event; their types as the upstream Get
    # examples return them, with /write, and /delete (resource_delete_success.json's shape, checked below).
    for example, verbs in (
        (("keyvault", "resource-manager", "2025-05-01", "examples", "getVault.json"), ("write",)),
        (("authorization", "2022-04-01", "examples", "RoleAssignments_Get.json"), ("write",)),
        (("monitor", "2021-05-01-preview", "examples", "getDiagnosticSetting.json"), ("write", "delete")),
    ):
        body = json.loads(reference_dir().joinpath(*example).read_text(encoding="utf-8"))["responses"]["200"]["body"]
        real.update(f"{body['type']}/{verb}" for verb in verbs)
    arm_routes = {r.operation for c in CONTROLS for r in c.routes if "/" in r.operation}
    assert arm_routes <= real
    write = reference_dir() / "eventgrid" / "Microsoft.Resources" / "2018-01-01" / "examples" / "event-grid-schema"
    shape = json.loads((write / "resource_write_success.json").read_text(encoding="utf-8"))
    shape = shape[0] if isinstance(shape, list) else shape
    assert shape["data"]["operationName"].endswith("/write") and shape["data"]["operationName"].count("/") == 2
    deleted = json.loads((write / "resource_delete_success.json").read_text(encoding="utf-8"))
    deleted = deleted[0] if isinstance(deleted, list) else deleted
    assert deleted["data"]["operationName"].endswith("/delete")


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("Microsoft.CognitiveServices/accounts/write", {"network.public-access", "identity.local-auth"}),
        ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/WRITE", {"network.public-access", "identity.local-auth"}),
        ("Microsoft.CognitiveServices/accounts/listKeys/action", {"identity.local-auth"}),
        ("microsoft.cognitiveservices/accounts/regeneratekey/action", {"identity.local-auth"}),
        ("Microsoft.CognitiveServices/accounts/delete", set()),
        ("Microsoft.KeyVault/vaults/write", {"encryption.vault-protection"}),
        ("Microsoft.KeyVault.KeyNearExpiry", {"encryption.cmk-freshness", "encryption.vault-protection"}),
        ("microsoft.keyvault.keynewversioncreated", {"encryption.cmk-freshness"}),
        ("Microsoft.KeyVault.SecretNearExpiry", set()),
        ("Microsoft.Storage/storageAccounts/write", set()),
    ],
)
def test_operations_point_at_controls(operation: str, expected: set[str]) -> None:
    routed = controls_for(event(operation))
    assert routed >= expected if expected else routed == set()


def test_relevant_types_and_providers() -> None:
    assert is_relevant_event_type("microsoft.resources.resourcewritesuccess")
    assert not is_relevant_event_type("Microsoft.Resources.ResourceWriteFailure")
    assert not is_relevant_event_type("Microsoft.EventGrid.SubscriptionValidationEvent")
    assert "microsoft.cognitiveservices" in PROVIDERS_IN_SCOPE
    assert "microsoft.storage" not in PROVIDERS_IN_SCOPE
    assert provider_of("Microsoft.Storage/storageAccounts/write") == "Microsoft.Storage"
    assert provider_of("Microsoft.KeyVault.KeyExpired") == "Microsoft.KeyVault"

"""The routing table: DESIGN §2 events -> controls, case-insensitive, extension resources only at accounts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from azure.eventgrid import SystemEventNames

from tests.conftest import reference_dir
from warden.azure.eventgrid import parse_events
from warden.model import Caller, EventSchema, ResourceEvent
from warden.routing import (
    ACCOUNT_LEVEL_CONTROLS,
    ALL_CONTROL_IDS,
    CONTROLS_BY_OPERATION,
    PROVIDERS_IN_SCOPE,
    RELEVANT_EVENT_TYPES,
    controls_for,
    is_relevant_event_type,
    provider_of,
)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
ACCOUNT = f"{SUB}/resourceGroups/sample-rg/providers/Microsoft.CognitiveServices/accounts/aoai-1"
VAULT = f"{SUB}/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/sample-kv"


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


def test_control_ids_are_designs_in_design_order() -> None:
    # The stable ids of the design guide's controls table (§2), in its order; audit records and baselines
    # use them, so a rename must be deliberate.
    assert ALL_CONTROL_IDS == (
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


def test_table_is_lower_cased_and_names_only_known_controls() -> None:
    for operation, controls in CONTROLS_BY_OPERATION.items():
        assert operation == operation.lower()
        assert controls and controls <= set(ALL_CONTROL_IDS)
    routed = set().union(*CONTROLS_BY_OPERATION.values())
    # Training files are data-plane objects: they emit no events and only the sweep finds them.
    assert routed == set(ALL_CONTROL_IDS) - {"data.training-files"}


def test_event_type_strings_match_the_sdk() -> None:
    sdk = {name.value for name in SystemEventNames}
    assert sdk >= RELEVANT_EVENT_TYPES
    key_events = {op for op in CONTROLS_BY_OPERATION if "/" not in op}
    assert key_events <= {t.lower() for t in RELEVANT_EVENT_TYPES}


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("Microsoft.CognitiveServices/accounts/write", ACCOUNT_LEVEL_CONTROLS),
        ("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/WRITE", ACCOUNT_LEVEL_CONTROLS),
        (
            "Microsoft.CognitiveServices/accounts/listKeys/action",
            {"identity.local-auth", "identity.key-vault-keys"},
        ),
        (
            "microsoft.cognitiveservices/accounts/regeneratekey/action",
            {"identity.local-auth", "identity.key-vault-keys"},
        ),
        ("Microsoft.CognitiveServices/accounts/deployments/write", {"ai.jailbreak-filter"}),
        ("Microsoft.CognitiveServices/accounts/raiPolicies/write", {"ai.jailbreak-filter"}),
        ("Microsoft.CognitiveServices/accounts/raiPolicies/delete", {"ai.jailbreak-filter"}),
        ("Microsoft.CognitiveServices/accounts/delete", set()),
        ("Microsoft.Storage/storageAccounts/write", set()),
    ],
)
def test_operations_point_at_controls(operation: str, expected: set[str]) -> None:
    assert controls_for(event(operation)) == expected


def test_account_write_covers_the_account_properties_and_diagnostics() -> None:
    assert {
        "network.public-access",
        "network.outbound",
        "identity.local-auth",
        "encryption.cmk",
        "logging.diagnostics",
    } == ACCOUNT_LEVEL_CONTROLS


@pytest.mark.parametrize(
    ("resource_id", "expected"),
    [
        (f"{ACCOUNT}/providers/Microsoft.Authorization/roleAssignments/r1", {"identity.role-assignments"}),
        (
            f"{ACCOUNT.lower()}/providers/microsoft.authorization/roleassignments/r1",
            {"identity.role-assignments"},
        ),
        (f"{SUB}/resourceGroups/sample-rg/providers/Microsoft.Authorization/roleAssignments/r1", set()),
        (f"{SUB}/providers/Microsoft.Authorization/roleAssignments/r1", set()),
        (f"{VAULT}/providers/Microsoft.Authorization/roleAssignments/r1", set()),
        (f"{ACCOUNT}/deployments/d/providers/Microsoft.Authorization/roleAssignments/r1", set()),
        (f"{ACCOUNT}/providers/Microsoft.Insights/diagnosticSettings/r1", set()),
    ],
)
def test_role_assignments_count_only_at_an_account(resource_id: str, expected: set[str]) -> None:
    assert controls_for(event("Microsoft.Authorization/roleAssignments/write", resource_id)) == expected


@pytest.mark.parametrize(
    "operation",
    ["Microsoft.Insights/diagnosticSettings/write", "microsoft.insights/diagnosticSettings/delete"],
)
def test_diagnostic_settings_count_only_at_an_account(operation: str) -> None:
    at_account = f"{ACCOUNT}/providers/Microsoft.Insights/diagnosticSettings/audit"
    elsewhere = f"{VAULT}/providers/Microsoft.Insights/diagnosticSettings/audit"
    assert controls_for(event(operation, at_account)) == {"logging.diagnostics"}
    assert controls_for(event(operation, elsewhere)) == set()


def test_key_vault_events_and_vault_writes() -> None:
    assert controls_for(event("Microsoft.KeyVault/vaults/write", VAULT)) == {"encryption.vault-protection"}
    for name in ("KeyNearExpiry", "KeyExpired", "KeyNewVersionCreated"):
        kv = replace(event(f"Microsoft.KeyVault.{name}", VAULT), event_type=f"Microsoft.KeyVault.{name}")
        assert controls_for(kv) == {"encryption.cmk-freshness"}
    assert controls_for(event("Microsoft.KeyVault.SecretNewVersionCreated", VAULT)) == set()


def test_every_derived_fixture_routes() -> None:
    path = reference_dir() / "eventgrid" / "derived" / "cognitiveservices_arm_events.json"
    events, _ = parse_events(json.loads(path.read_text(encoding="utf-8")))
    for parsed in events:
        assert controls_for(parsed), parsed.operation_name
    kv_path = reference_dir() / "eventgrid" / "derived" / "keyvault_key_events.json"
    for parsed in parse_events(kv_path.read_bytes())[0]:
        assert controls_for(parsed) == {"encryption.cmk-freshness"}


def test_relevant_types_and_providers() -> None:
    assert is_relevant_event_type("microsoft.resources.resourcewritesuccess")
    assert not is_relevant_event_type("Microsoft.Resources.ResourceWriteFailure")
    assert not is_relevant_event_type("Microsoft.EventGrid.SubscriptionValidationEvent")
    expected = {
        "microsoft.cognitiveservices",
        "microsoft.authorization",
        "microsoft.insights",
        "microsoft.keyvault",
    }
    assert expected == PROVIDERS_IN_SCOPE
    assert provider_of("Microsoft.Storage/storageAccounts/write") == "Microsoft.Storage"
    assert provider_of("Microsoft.KeyVault.KeyExpired") == "Microsoft.KeyVault"

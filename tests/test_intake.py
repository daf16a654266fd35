"""Triage: relevant, out of scope, self-caused and unimplemented events, from real payloads."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import warden.intake
import warden.routing
from tests.conftest import reference_dir
from warden.azure.eventgrid import parse_events
from warden.intake import Triage, triage
from warden.model import Caller, ResourceEvent
from warden.registry import CONTROL_IDS
from warden.routing import CONTROLS_BY_OPERATION

EVENTGRID = reference_dir() / "eventgrid"
SUB = "00000000-0000-0000-0000-000000000000"
SELF_OID = "aaaaaaaa-0000-0000-0000-00000000000a"
SELF_APP = "bbbbbbbb-0000-0000-0000-00000000000b"
ALL = frozenset(CONTROL_IDS)


def derived(name: str) -> list[ResourceEvent]:
    events, rejected = parse_events((EVENTGRID / "derived" / name).read_bytes())
    assert rejected == []
    return events


def by_operation(operation: str) -> ResourceEvent:
    return next(e for e in derived("cognitiveservices_arm_events.json") if e.operation_name == operation)


def upstream(relative: str) -> ResourceEvent:
    (event,), _ = parse_events((EVENTGRID / relative).read_bytes())
    return event


def run(event: ResourceEvent, **overrides: Any) -> Triage:
    options: dict[str, Any] = {
        "subscriptions": frozenset({SUB}),
        "self_object_ids": frozenset({SELF_OID}),
        "self_app_ids": frozenset({SELF_APP}),
        "implemented_controls": ALL,
    }
    return triage(event, **{**options, **overrides})


ACCOUNT_WRITE = "Microsoft.CognitiveServices/accounts/write"


def test_a_relevant_account_write_is_accepted() -> None:
    result = run(by_operation(ACCOUNT_WRITE))
    assert result.accepted and not result.self_caused
    assert result.controls == CONTROLS_BY_OPERATION[ACCOUNT_WRITE.lower()]
    assert {"network.public-access", "identity.local-auth"} <= result.controls
    assert result.reason.startswith(f"operation {ACCOUNT_WRITE} points at ")


@pytest.mark.parametrize(
    "operation",
    [
        "Microsoft.CognitiveServices/accounts/regenerateKey/action",
        "Microsoft.CognitiveServices/accounts/listKeys/action",
    ],
)
def test_key_operations_point_at_local_auth(operation: str) -> None:
    result = run(by_operation(operation))
    assert result.accepted and "identity.local-auth" in result.controls
    assert "network.public-access" not in result.controls


@pytest.mark.parametrize(
    ("operation", "controls"),
    [
        ("Microsoft.CognitiveServices/accounts/deployments/write", {"ai.jailbreak-filter", "data.training-files"}),
        ("Microsoft.CognitiveServices/accounts/raiPolicies/write", {"ai.jailbreak-filter"}),
        ("Microsoft.CognitiveServices/accounts/raiPolicies/delete", {"ai.jailbreak-filter"}),
    ],
)
def test_deployment_and_rai_policy_operations_point_at_the_ai_controls(operation: str, controls: set[str]) -> None:
    result = run(by_operation(operation))
    assert result.accepted and result.controls == controls


@pytest.mark.parametrize(
    "operation",
    ["Microsoft.CognitiveServices/accounts/delete", "Microsoft.CognitiveServices/accounts/deployments/delete"],
)
def test_operations_no_control_routes_are_dropped(operation: str) -> None:
    event = replace(by_operation("Microsoft.CognitiveServices/accounts/raiPolicies/delete"), operation_name=operation)
    result = run(event)
    assert not result.accepted and "points at no control" in result.reason


def test_another_provider_is_out_of_scope() -> None:
    event = upstream("Microsoft.Resources/2018-01-01/examples/event-grid-schema/resource_write_success.json")
    assert run(event, subscriptions=frozenset({"{subscription-id}"})) == Triage(
        accepted=False,
        reason="provider Microsoft.Storage is out of scope",
        self_caused=False,
        controls=frozenset(),
    )


@pytest.mark.parametrize(
    "relative",
    [
        "Microsoft.Resources/2018-01-01/examples/event-grid-schema/resource_write_failure.json",
        "Microsoft.Storage/2018-01-01/examples/event-grid-schema/blob_created.json",
        "Microsoft.KeyVault/2018-01-01/examples/event-grid-schema/secret_new_version_created.json",
    ],
)
def test_unhandled_event_types_are_dropped(relative: str) -> None:
    event = upstream(relative)
    result = run(event, subscriptions=frozenset({event.subscription_id.lower()}))
    assert not result.accepted and not result.self_caused
    assert result.reason == f"event type {event.event_type} is not handled"


def test_a_write_failure_on_an_account_is_dropped() -> None:
    event = replace(by_operation(ACCOUNT_WRITE), event_type="Microsoft.Resources.ResourceWriteFailure")
    assert run(event).reason == "event type Microsoft.Resources.ResourceWriteFailure is not handled"


def test_subscription_scope_is_case_insensitive_and_empty_means_none() -> None:
    event = by_operation(ACCOUNT_WRITE)
    shouting = replace(event, subscription_id="ABCDEF00-0000-0000-0000-000000000000")
    assert run(shouting, subscriptions=frozenset({"abcdef00-0000-0000-0000-000000000000"})).accepted
    assert run(shouting, subscriptions=frozenset({"ABCDEF00-0000-0000-0000-000000000000"})).accepted
    other = run(event, subscriptions=frozenset({"11111111-0000-0000-0000-000000000000"}))
    assert other == Triage(False, f"subscription {SUB} is outside the configured scope", False, frozenset())
    assert not run(event, subscriptions=frozenset()).accepted


@pytest.mark.parametrize(
    ("caller", "reason"),
    [
        (
            Caller(object_id=SELF_OID, app_id="someone-else"),
            f"caused by warden's own identity (oid {SELF_OID})",
        ),
        (Caller(object_id=SELF_OID.upper()), f"caused by warden's own identity (oid {SELF_OID.upper()})"),
        (Caller(object_id="someone", app_id=SELF_APP), f"caused by warden's own identity (appid {SELF_APP})"),
        (Caller(app_id=SELF_APP), f"caused by warden's own identity (appid {SELF_APP})"),
    ],
)
def test_self_caused_events_are_flagged_not_accepted(caller: Caller, reason: str) -> None:
    result = run(replace(by_operation(ACCOUNT_WRITE), caller=caller))
    assert result == Triage(accepted=False, reason=reason, self_caused=True, controls=frozenset())


def test_self_caused_from_real_claims() -> None:
    raw = json.loads((EVENTGRID / "derived" / "cognitiveservices_arm_events.json").read_text(encoding="utf-8"))
    item = raw["events"][0]
    item["data"]["claims"]["http://schemas.microsoft.com/identity/claims/objectidentifier"] = SELF_OID
    (event,), _ = parse_events(item)
    assert run(event).self_caused


def test_unknown_caller_is_not_self() -> None:
    assert run(replace(by_operation(ACCOUNT_WRITE), caller=Caller())).accepted


def test_only_implemented_controls_count() -> None:
    event = by_operation(ACCOUNT_WRITE)
    partial = run(event, implemented_controls=frozenset({"network.public-access", "data.training-files"}))
    assert partial.accepted and partial.controls == {"network.public-access"}
    none = run(event, implemented_controls=frozenset({"ai.jailbreak-filter"}))
    assert not none.accepted and not none.self_caused and none.controls == frozenset()
    assert none.reason.startswith(f"operation {ACCOUNT_WRITE} points only at controls not running: ")
    assert "network.public-access" in none.reason


def test_subscription_validation_is_dropped_by_type() -> None:
    event = {
        "id": "v-1",
        "topic": f"/subscriptions/{SUB}",
        "subject": "",
        "data": {"validationCode": "code", "validationUrl": "https://x"},
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2026-01-01T00:00:00Z",
        "dataVersion": "1",
    }
    (parsed,), _ = parse_events(event)
    assert run(parsed).reason == "event type Microsoft.EventGrid.SubscriptionValidationEvent is not handled"


@pytest.mark.parametrize("module", [warden.intake, warden.routing])
def test_triage_modules_are_pure(module: Any) -> None:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {
        "__future__",
        "dataclasses",
        "re",
        "collections.abc",
        "warden.ids",  # the id rules: pure
        "warden.model",
        "warden.routing",
        "detectors",  # the declarations routing is derived from: pure, like the detectors themselves
    }

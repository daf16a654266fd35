"""identity.local-auth detector: pure checks on snapshots built in code."""

from __future__ import annotations

import pytest

from detectors.identity_local_auth import CONTROL, Params
from remediators.account_patch import AccountPatch
from remediators.regenerate_key import RegenerateKey
from tests.detectors.given import RID, Given, snapshot
from warden.control import Fact


def test_disabled_local_auth_is_compliant() -> None:
    assert CONTROL.detect(Given(snapshot(disable_local_auth=True)), Params()) == []


@pytest.mark.parametrize("value", [False, None], ids=["false", "missing"])
def test_enabled_or_missing_is_fixed_by_the_patch_then_both_key_regenerations(value: bool | None) -> None:
    [finding] = CONTROL.detect(Given(snapshot(disable_local_auth=value)), Params())
    assert finding.control_id == "identity.local-auth"
    assert finding.observed == {"disableLocalAuth": value}
    assert finding.expected == {"disableLocalAuth": True}
    assert finding.fix == (
        AccountPatch(RID, {"disableLocalAuth": True}, {"disableLocalAuth": value}, '"e1"'),
        RegenerateKey(RID, "Key1"),
        RegenerateKey(RID, "Key2"),
    )


def test_regenerate_keys_false_leaves_only_the_patch() -> None:
    [finding] = CONTROL.detect(Given(snapshot(disable_local_auth=False)), Params(regenerate_keys=False))
    assert [step.kind for step in finding.fix] == ["account.patch"]


def test_the_declaration_routes_key_events_and_needs_exactly_its_permissions() -> None:
    operations = {route.operation for route in CONTROL.routes}
    assert operations == {
        "Microsoft.CognitiveServices/accounts/write",
        "Microsoft.CognitiveServices/accounts/listKeys/action",
        "Microsoft.CognitiveServices/accounts/regenerateKey/action",
    }
    assert CONTROL.facts == {Fact.ACCOUNT}
    # Never listKeys: the fix regenerates keys without reading them.
    assert CONTROL.permissions == {
        "Microsoft.CognitiveServices/accounts/read",
        "Microsoft.CognitiveServices/accounts/write",
        "Microsoft.CognitiveServices/accounts/regenerateKey/action",
        "Microsoft.ResourceGraph/resources/read",  # the sweep's query (docs/scale.md)
    }

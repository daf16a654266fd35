"""Step kind account.patch: merging, its audit change, its stored form, applying through the port."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from remediators.account_patch import AccountPatch
from remediators.regenerate_key import RegenerateKey
from warden.model import Json
from warden.ports import Ports

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"


def test_merges_properties_of_two_fixes_into_one_patch() -> None:
    a = AccountPatch(RID, {"publicNetworkAccess": "Disabled"}, {"publicNetworkAccess": "Enabled"}, '"e1"')
    b = AccountPatch(RID, {"disableLocalAuth": True}, {"disableLocalAuth": None}, '"e1"')
    merged = a.merge(b)
    assert merged.properties == {"publicNetworkAccess": "Disabled", "disableLocalAuth": True}
    assert merged.etag == '"e1"'
    assert merged.change() == {
        "publicNetworkAccess": {"before": "Enabled", "after": "Disabled"},
        "disableLocalAuth": {"before": None, "after": True},
    }


def test_contradicting_fixes_refuse_to_merge() -> None:
    a = AccountPatch(RID, {"publicNetworkAccess": "Disabled"})
    with pytest.raises(ValueError, match="publicNetworkAccess"):
        a.merge(AccountPatch(RID, {"publicNetworkAccess": "Enabled"}))
    with pytest.raises(TypeError):
        a.merge(RegenerateKey(RID, "Key1"))


def test_stored_form_round_trips_without_its_etag() -> None:
    step = AccountPatch(RID, {"disableLocalAuth": True}, {"disableLocalAuth": False}, '"e1"')
    back = AccountPatch.from_json(step.to_json())
    assert (back.target, back.properties, back.etag) == (RID, {"disableLocalAuth": True}, None)


class RecordingAccounts:
    """The AccountPort as a test double: records calls, returns a new etag."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def read_account(self, resource_id: str) -> Any:
        raise AssertionError("not used")

    def patch_account(self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None) -> str:
        self.calls.append(("patch", resource_id, dict(properties), etag))
        return '"e2"'

    def regenerate_key(self, resource_id: str, key_name: str) -> None:
        self.calls.append(("regenerate", resource_id, key_name))

    def list_accounts(self, subscription_id: str) -> list[tuple[str, str]]:
        return []


def test_apply_sends_the_etag_it_is_given_and_returns_the_new_one() -> None:
    accounts = RecordingAccounts()
    step = AccountPatch(RID, {"disableLocalAuth": True}, etag='"e1"')
    assert step.apply(Ports(accounts=accounts), '"e1"') == '"e2"'
    assert accounts.calls == [("patch", RID, {"disableLocalAuth": True}, '"e1"')]

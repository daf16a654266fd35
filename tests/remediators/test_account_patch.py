"""account.patch remediator: merging findings into one PATCH, and applying it through the port."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from remediators.account_patch import KIND, AccountPatchRemediator
from warden.model import AccountSnapshot, Finding, Json

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"


def finding(control: str, fix: dict[str, Json], observed: dict[str, Json]) -> Finding:
    return Finding(control, RID, "drift", observed, {}, fix)


def test_merges_findings_into_one_action() -> None:
    r = AccountPatchRemediator()
    action = r.plan(
        RID,
        [
            finding("network.public-access", {"publicNetworkAccess": "Disabled"}, {"publicNetworkAccess": "Enabled"}),
            finding("identity.local-auth", {"disableLocalAuth": True}, {"disableLocalAuth": None}),
        ],
    )
    assert action.kind == KIND
    assert action.control_ids == ("identity.local-auth", "network.public-access")
    assert action.payload == {"publicNetworkAccess": "Disabled", "disableLocalAuth": True}
    assert action.change == {
        "publicNetworkAccess": {"before": "Enabled", "after": "Disabled"},
        "disableLocalAuth": {"before": None, "after": True},
    }


def test_before_of_an_object_gathers_dotted_observations() -> None:
    action = AccountPatchRemediator().plan(
        RID,
        [
            finding(
                "network.public-access",
                {"networkAcls": {"defaultAction": "Deny"}},
                {"networkAcls.defaultAction": "Allow", "networkAcls.ipRules": []},
            ),
        ],
    )
    assert action.change["networkAcls"]["before"] == {"defaultAction": "Allow", "ipRules": []}


def test_conflicting_fixes_are_refused() -> None:
    with pytest.raises(ValueError, match="disagree"):
        AccountPatchRemediator().plan(
            RID,
            [
                finding("x", {"publicNetworkAccess": "Disabled"}, {}),
                finding("y", {"publicNetworkAccess": "Enabled"}, {}),
            ],
        )


def test_handles_only_findings_with_a_fix() -> None:
    r = AccountPatchRemediator()
    assert r.handles(finding("x", {"a": 1}, {}))
    assert not r.handles(finding("x", {}, {}))


class RecordingAccounts:
    """A fake AccountPort that records the PATCHes it is asked for."""

    def __init__(self) -> None:
        self.patches: list[tuple[str, Mapping[str, Json], str | None]] = []

    def read_account(self, resource_id: str) -> AccountSnapshot:
        raise AssertionError("apply must not read")

    def patch_account(self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None) -> None:
        self.patches.append((resource_id, properties, etag))

    def list_accounts(self, subscription_id: str) -> list[tuple[str, str]]:
        return []


def test_apply_sends_the_payload_once() -> None:
    r = AccountPatchRemediator()
    action = r.plan(RID, [finding("network.public-access", {"publicNetworkAccess": "Disabled"}, {})])
    port = RecordingAccounts()
    r.apply(action, port, etag='W/"1"')
    assert port.patches == [(RID, {"publicNetworkAccess": "Disabled"}, 'W/"1"')]

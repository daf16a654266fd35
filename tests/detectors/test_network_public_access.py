"""network.public-access detector: pure checks on snapshots built in code."""

from __future__ import annotations

import pytest

from detectors.network_public_access import CONTROL, Params
from remediators.account_patch import AccountPatch
from tests.detectors.given import RID, Given, patch_of
from warden.model import AccountSnapshot, Finding, NetworkAcls

APPROVED = Params(approved_ip_ranges=("203.0.113.0/24", "192.0.2.10"))
NONE = Params()


def check(snapshot: AccountSnapshot, params: Params = NONE) -> list[Finding]:
    return CONTROL.detect(Given(snapshot), params)


def snap(pna: str | None, acls: NetworkAcls | None = None) -> AccountSnapshot:
    return AccountSnapshot(RID, "a", "OpenAI", "eastus", "Succeeded", pna, acls, etag='"e1"')


def acls(
    default: str | None, *rules: str, vnet: tuple[dict[str, object], ...] = (), bypass: str | None = None
) -> NetworkAcls:
    return NetworkAcls(default, bypass, tuple(rules), vnet)


@pytest.mark.parametrize("params", [NONE, APPROVED])
def test_disabled_is_compliant_whatever_the_acls(params: Params) -> None:
    assert check(snap("Disabled", acls("Allow", "1.2.3.4")), params) == []


@pytest.mark.parametrize(
    "snapshot",
    [
        snap("Enabled"),
        snap(None),
        snap("Enabled", acls("Allow")),
        snap(None, acls(None)),
        snap("Enabled", acls("Deny", "203.0.113.5")),
    ],
    ids=["enabled", "missing", "allow", "missing-default-action", "deny-but-nothing-approved"],
)
def test_without_approved_ranges_drift_is_fixed_by_disabling(snapshot: AccountSnapshot) -> None:
    [finding] = check(snapshot)
    assert finding.control_id == CONTROL.id
    assert patch_of(finding) == {"publicNetworkAccess": "Disabled"}
    assert finding.observed["publicNetworkAccess"] == snapshot.public_network_access


@pytest.mark.parametrize(
    "snapshot",
    [snap("Enabled", acls("Deny")), snap(None, acls("Deny", vnet=({"id": "/subscriptions/s/.../subnets/x"},)))],
    ids=["deny-no-rules", "deny-vnet-only"],
)
def test_without_approved_ranges_deny_with_no_ip_rule_is_compliant(snapshot: AccountSnapshot) -> None:
    # Virtual-network rules are not internet exposure; cutting them by disabling public access would break
    # service-endpoint clients for nothing.
    assert check(snapshot) == []


@pytest.mark.parametrize(
    "snapshot",
    [snap("disabled"), snap("DISABLED", acls("allow")), snap("Enabled", acls("deny")), snap(None, acls("DENY"))],
    ids=["disabled-lower", "disabled-upper", "deny-lower", "deny-upper"],
)
def test_enum_values_compare_case_insensitively(snapshot: AccountSnapshot) -> None:
    assert check(snapshot) == []


def test_deny_with_only_approved_rules_is_compliant() -> None:
    assert check(snap("Enabled", acls("Deny", "203.0.113.7", "203.0.113.64/26", "192.0.2.10")), APPROVED) == []
    assert check(snap(None, acls("Deny")), APPROVED) == []


def test_unapproved_rules_are_removed_and_the_rest_kept() -> None:
    vnet = ({"id": "/subscriptions/s/.../subnets/x", "ignoreMissingVnetServiceEndpoint": False},)
    snapshot = snap(
        "Enabled", acls("Deny", "203.0.113.7", "198.51.100.0/24", "203.0.0.0/16", vnet=vnet, bypass="AzureServices")
    )
    [finding] = check(snapshot, APPROVED)
    assert patch_of(finding) == {
        "networkAcls": {
            "defaultAction": "Deny",
            "bypass": "AzureServices",
            "ipRules": [{"value": "203.0.113.7"}],
            "virtualNetworkRules": [
                {"id": "/subscriptions/s/.../subnets/x", "ignoreMissingVnetServiceEndpoint": False}
            ],
        }
    }
    assert "198.51.100.0/24" in finding.summary and "203.0.0.0/16" in finding.summary


def test_allow_with_approved_ranges_is_turned_into_deny() -> None:
    [finding] = check(snap("Enabled", acls("Allow", "203.0.113.9")), APPROVED)
    assert patch_of(finding)["networkAcls"]["defaultAction"] == "Deny"
    assert patch_of(finding)["networkAcls"]["ipRules"] == [{"value": "203.0.113.9"}]
    assert "bypass" not in patch_of(finding)["networkAcls"]


def test_missing_acls_with_approved_ranges_gets_a_deny_rule_set() -> None:
    [finding] = check(snap(None), APPROVED)
    assert patch_of(finding) == {"networkAcls": {"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []}}


def test_unreadable_rule_is_not_approved() -> None:
    [finding] = check(snap("Enabled", acls("Deny", "not-an-ip")), APPROVED)
    assert patch_of(finding)["networkAcls"]["ipRules"] == []


def test_the_fix_is_one_account_patch_against_the_etag_that_was_read() -> None:
    [finding] = check(snap("Enabled", acls("Allow")))
    [step] = finding.fix
    assert isinstance(step, AccountPatch)
    assert (step.target, step.etag) == (RID, '"e1"')
    assert step.change() == {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}}

"""network.outbound detector: pure checks on snapshots built in code, and its parameter's validation."""

from __future__ import annotations

import pytest

from detectors.network_outbound import CONTROL, Params, approved
from remediators.account_patch import AccountPatch
from tests.detectors.given import RID, Given, patch_of, snapshot
from warden.baseline import parse_baseline
from warden.errors import BaselineError
from warden.model import Finding

APPROVED = Params(approved_fqdns=("api.contoso.com", "*.blob.core.windows.net"))


def check(restrict: bool | None, *fqdns: str, params: Params = APPROVED) -> list[Finding]:
    account = snapshot(restrict_outbound_network_access=restrict, allowed_fqdn_list=fqdns)
    return CONTROL.detect(Given(account), params)


def test_restricted_with_only_approved_entries_is_compliant() -> None:
    assert check(True) == []
    assert check(True, "API.Contoso.com", "sa1.blob.core.windows.net", "*.x.blob.core.windows.net.") == []


@pytest.mark.parametrize("restrict", [False, None], ids=["false", "missing"])
def test_unrestricted_is_fixed_by_setting_the_flag_only(restrict: bool | None) -> None:
    [finding] = check(restrict, "api.contoso.com")
    assert patch_of(finding) == {"restrictOutboundNetworkAccess": True}
    assert finding.observed == {"restrictOutboundNetworkAccess": restrict, "allowedFqdnList": ["api.contoso.com"]}


def test_unapproved_entries_are_dropped_and_approved_ones_kept() -> None:
    [finding] = check(True, "api.contoso.com", "evil.example.net", "blob.core.windows.net", "sa.blob.core.windows.net")
    # `*.blob.core.windows.net` admits subdomains, not the parent domain itself.
    assert patch_of(finding) == {"allowedFqdnList": ["api.contoso.com", "sa.blob.core.windows.net"]}
    assert "evil.example.net" in finding.summary and "'blob.core.windows.net'" in finding.summary
    [step] = finding.fix
    assert isinstance(step, AccountPatch) and (step.target, step.etag) == (RID, '"e1"')
    assert step.change() == {
        "allowedFqdnList": {
            "before": ["api.contoso.com", "evil.example.net", "blob.core.windows.net", "sa.blob.core.windows.net"],
            "after": ["api.contoso.com", "sa.blob.core.windows.net"],
        }
    }


def test_both_drifts_in_one_patch_and_nothing_approved_empties_the_list() -> None:
    [finding] = check(None, "anything.example.com", params=Params())
    assert patch_of(finding) == {"restrictOutboundNetworkAccess": True, "allowedFqdnList": []}


def test_wildcard_matching_is_by_whole_labels() -> None:
    patterns = ("*.contoso.com",)
    assert approved("a.b.contoso.com", patterns) and approved("*.eu.contoso.com", patterns)
    assert not approved("contoso.com", patterns) and not approved("evilcontoso.com", patterns)


HEAD = "version: 1\nscope:\n  subscriptions: [11111111-2222-3333-4444-555555555555]\ncontrols:\n  network.outbound:\n"


def test_approved_fqdns_are_validated_and_lower_cased() -> None:
    base = parse_baseline(HEAD + "    approved_fqdns: [Api.Contoso.COM, '*.blob.core.windows.net']\n", "b.yaml")
    assert base.params("network.outbound").approved_fqdns == ("api.contoso.com", "*.blob.core.windows.net")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("['*']", "'*' is not a fully qualified domain name (a wildcard may only lead: *.example.com)"),
        ("['api.*.com']", "is not a fully qualified domain name (a wildcard may only lead"),
        ("[localhost]", "'localhost' is not a fully qualified domain name"),
        ("[api.contoso.com, 'bad host.com']", "approved_fqdns[1]: 'bad host.com'"),
        ("api.contoso.com", "expected a list of FQDNs, got a string"),
    ],
)
def test_invalid_approved_fqdns_name_the_line_and_item(value: str, problem: str) -> None:
    with pytest.raises(BaselineError) as caught:
        parse_baseline(HEAD + f"    approved_fqdns: {value}\n", "b.yaml")
    assert str(caught.value).startswith("b.yaml:6: controls.network.outbound.approved_fqdns")
    assert problem in str(caught.value)

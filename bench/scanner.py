"""The baseline warden's sweep is measured against: a pull-mode scanner that lists every subscription's accounts
to the last page with the real SDK, filters them in memory by the same three drift rules, and (optionally)
PATCHes each drifted account, one after the other, as such a scanner does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

from warden.azure.credentials import StaticTokenCredential

OPENAI_KINDS = frozenset({"openai", "aiservices"})


def drift_rules(props: AccountProperties | None) -> list[str]:
    """The rules an account breaks, as the baseline of bench/scale.py states them (docs/baseline.md):
    network.public-access (public network access Disabled, or a Deny default with no IP rule: none is
    approved), identity.local-auth (key auth off) and network.outbound (outbound restricted, no FQDN: none is
    approved)."""
    if props is None:
        return ["network.public-access", "identity.local-auth", "network.outbound"]
    broken = []
    acls = props.network_acls
    closed = acls is not None and acls.default_action == "Deny" and not acls.ip_rules
    if props.public_network_access != "Disabled" and not closed:
        broken.append("network.public-access")
    if props.disable_local_auth is not True:
        broken.append("identity.local-auth")
    if props.restrict_outbound_network_access is not True or props.allowed_fqdn_list:
        broken.append("network.outbound")
    return broken


def fix(broken: Sequence[str]) -> AccountProperties:
    """One PATCH body that reverts every broken rule."""
    props = AccountProperties()
    if "network.public-access" in broken:
        props.public_network_access = "Disabled"
        props.network_acls = NetworkRuleSet(default_action="Deny", ip_rules=[], virtual_network_rules=[])
    if "identity.local-auth" in broken:
        props.disable_local_auth = True
    if "network.outbound" in broken:
        props.restrict_outbound_network_access = True
        props.allowed_fqdn_list = []
    return props


@dataclass
class ScanReport:
    accounts: int = 0  # OpenAI accounts seen in the list pages
    drifted: int = 0
    patched: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


def scan(endpoint: str, ca_path: str, subscriptions: Sequence[str], *, enforce: bool) -> ScanReport:
    """List every page of every subscription, keep the subscription's inventory, filter it in memory; with
    `enforce`, PATCH each drifted account (sequentially, no If-Match and no re-read: it trusts its list)."""
    report = ScanReport()
    credential: Any = StaticTokenCredential()
    for subscription in subscriptions:
        client = CognitiveServicesManagementClient(
            credential, subscription, base_url=endpoint, connection_verify=ca_path
        )
        inventory = list(client.accounts.list())  # to the last page, before any rule runs
        for acct in inventory:
            if (acct.kind or "").lower() not in OPENAI_KINDS:
                continue
            report.accounts += 1
            broken = drift_rules(acct.properties)
            if not broken:
                continue
            report.drifted += 1
            for rule in broken:
                report.by_rule[rule] = report.by_rule.get(rule, 0) + 1
            if enforce and acct.id and acct.name:
                group = acct.id.split("/")[4]
                # polling=False: the PATCH alone, not the SDK's status poll and final GET after it. The cheapest
                # enforcement a scanner can do, so the ratio against warden is not flattered.
                patch = Account(properties=fix(broken))
                client.accounts.begin_update(group, acct.name, patch, polling=False).result()
                report.patched += 1
        client.close()
    return report

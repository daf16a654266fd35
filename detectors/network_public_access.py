"""Control network.public-access: an account is reachable from the internet only through approved IP ranges.

Compliant: `publicNetworkAccess` Disabled, or `networkAcls.defaultAction` Deny with every ipRule inside
the baseline's approved ranges. Missing properties count as insecure (Azure treats them as open).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from remediators.account_patch import AccountPatch
from warden.control import ACCOUNT_WRITTEN, Control, Fact, Facts, GraphQuery, param
from warden.model import Finding, Json
from warden.params import ipv4_ranges


@dataclass(frozen=True)
class Params:
    approved_ip_ranges: tuple[str, ...] = field(
        default=(),
        metadata=param(ipv4_ranges, "IPv4 addresses or CIDR ranges (at most a /8) that may stay in ipRules"),
    )


def _within(rule: str, approved: list[ipaddress.IPv4Network]) -> bool:
    try:
        network = ipaddress.IPv4Network(rule, strict=False)  # ARM ipRules are IPv4 only
    except ValueError:
        return False  # a rule we cannot read is not an approved one
    return any(network.subnet_of(a) for a in approved)


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    # ARM enums compare case-insensitively (the SDK's enums do too): "disabled" is Disabled.
    if (account.public_network_access or "").lower() == "disabled":
        return []
    approved = [ipaddress.IPv4Network(r, strict=False) for r in params.approved_ip_ranges]
    acls = account.network_acls
    ip_rules = acls.ip_rules if acls else ()
    unapproved = [r for r in ip_rules if not _within(r, approved)]
    denies = acls is not None and (acls.default_action or "").lower() == "deny"
    if denies and not unapproved:
        return []
    before_acls = {"defaultAction": acls.default_action if acls else None, "ipRules": list(ip_rules)}
    observed: dict[str, Json] = {"publicNetworkAccess": account.public_network_access}
    observed |= {f"networkAcls.{k}": v for k, v in before_acls.items()}
    if not approved:
        # No internet range is approved: the only compliant state is no public endpoint at all.
        summary = "public network access is open; no IP range is approved"
        expected: dict[str, Json] = {"publicNetworkAccess": "Disabled"}
        fix = AccountPatch.of(account, expected, {"publicNetworkAccess": account.public_network_access})
        return [Finding(CONTROL.id, account.resource_id, summary, observed, expected, (fix,))]
    # Keep what is already approved and every virtual-network rule; only the open parts are closed.
    network_acls: dict[str, Json] = {
        "defaultAction": "Deny",
        "ipRules": [{"value": r} for r in ip_rules if r not in unapproved],
        "virtualNetworkRules": [dict(v) for v in (acls.virtual_network_rules if acls else ())],
    }
    if acls is not None and acls.bypass is not None:
        network_acls["bypass"] = acls.bypass
    reason = "default action is not Deny" if not denies else f"unapproved IP rules {unapproved}"
    expected = {"networkAcls.defaultAction": "Deny", "networkAcls.ipRules within": [str(a) for a in approved]}
    fix = AccountPatch.of(account, {"networkAcls": network_acls}, {"networkAcls": before_acls})
    summary = f"public network access is not restricted to approved ranges: {reason}"
    return [Finding(CONTROL.id, account.resource_id, summary, observed, expected, (fix,))]


CONTROL = Control(
    id="network.public-access",
    summary="publicNetworkAccess Disabled, or networkAcls Deny with only approved IP ranges",
    params=Params,
    routes=(ACCOUNT_WRITTEN,),
    facts=frozenset({Fact.ACCOUNT}),
    steps=(AccountPatch,),
    detect=detect,
    graph=GraphQuery("tostring(properties.publicNetworkAccess) !~ 'Disabled'", ("publicNetworkAccess", "networkAcls")),
)

"""Control network.public-access: an account is reachable from the internet only through approved IP ranges.

Compliant: `publicNetworkAccess` Disabled, or `networkAcls.defaultAction` Deny with every ipRule inside
the baseline's approved ranges. Missing properties count as insecure (Azure treats them as open).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from warden.model import AccountSnapshot, Finding, Json

CONTROL_ID = "network.public-access"


def _within(rule: str, approved: Sequence[ipaddress.IPv4Network]) -> bool:
    try:
        network = ipaddress.IPv4Network(rule, strict=False)  # ARM ipRules are IPv4 only
    except ValueError:
        return False  # a rule we cannot read is not an approved one
    return any(network.subnet_of(a) for a in approved)


def detect(snapshot: AccountSnapshot, params: Mapping[str, Json]) -> list[Finding]:
    # ARM enums compare case-insensitively (the SDK's enums do too): "disabled" is Disabled.
    if (snapshot.public_network_access or "").lower() == "disabled":
        return []
    approved = [ipaddress.IPv4Network(r, strict=False) for r in params.get("approved_ip_ranges", ())]
    acls = snapshot.network_acls
    ip_rules = acls.ip_rules if acls else ()
    unapproved = [r for r in ip_rules if not _within(r, approved)]
    denies = acls is not None and (acls.default_action or "").lower() == "deny"
    if denies and not unapproved:
        return []

    observed: dict[str, Json] = {
        "publicNetworkAccess": snapshot.public_network_access,
        "networkAcls.defaultAction": acls.default_action if acls else None,
        "networkAcls.ipRules": list(ip_rules),
    }
    if not approved:
        # No internet range is approved: the only compliant state is no public endpoint at all.
        return [
            Finding(
                control_id=CONTROL_ID,
                resource_id=snapshot.resource_id,
                summary="public network access is open; no IP range is approved",
                observed=observed,
                expected={"publicNetworkAccess": "Disabled"},
                fix={"publicNetworkAccess": "Disabled"},
            )
        ]
    kept = [r for r in ip_rules if r not in unapproved]
    # Keep what is already approved and every virtual-network rule; only the open parts are closed.
    network_acls: dict[str, Json] = {
        "defaultAction": "Deny",
        "ipRules": [{"value": r} for r in kept],
        "virtualNetworkRules": [dict(v) for v in (acls.virtual_network_rules if acls else ())],
    }
    if acls is not None and acls.bypass is not None:
        network_acls["bypass"] = acls.bypass
    reason = "default action is not Deny" if not denies else f"unapproved IP rules {unapproved}"
    return [
        Finding(
            control_id=CONTROL_ID,
            resource_id=snapshot.resource_id,
            summary=f"public network access is not restricted to approved ranges: {reason}",
            observed=observed,
            expected={
                "networkAcls.defaultAction": "Deny",
                "networkAcls.ipRules within": [str(a) for a in approved],
            },
            fix={"networkAcls": network_acls},
        )
    ]

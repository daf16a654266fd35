"""Control network.outbound: an account may call out only to approved FQDNs (guard against exfiltration).

Compliant: `restrictOutboundNetworkAccess` true, and every `allowedFqdnList` entry inside the baseline's
`approved_fqdns` (`*.example.com` admits its subdomains; compared case-insensitively). Missing means open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remediators.account_patch import AccountPatch
from warden.control import ACCOUNT_WRITTEN, Control, Fact, Facts, GraphQuery, param
from warden.model import Finding, Json
from warden.params import fqdn_patterns


@dataclass(frozen=True)
class Params:
    approved_fqdns: tuple[str, ...] = field(
        default=(),
        metadata=param(fqdn_patterns, "FQDNs the account may reach; *.example.com admits the subdomains"),
    )


def approved(entry: str, patterns: tuple[str, ...]) -> bool:
    """Whether an allowedFqdnList entry lies inside the approved patterns (an entry may be a wildcard too)."""
    name = entry.strip().lower().rstrip(".")
    return any(name == p or (p.startswith("*.") and name.endswith(p[1:])) for p in patterns)


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    entries = list(account.allowed_fqdn_list)
    kept = [e for e in entries if approved(e, params.approved_fqdns)]
    restricted = account.restrict_outbound_network_access is True
    if restricted and len(kept) == len(entries):
        return []
    observed: dict[str, Json] = {
        "restrictOutboundNetworkAccess": account.restrict_outbound_network_access,
        "allowedFqdnList": entries,
    }
    # PATCH only what drifted: the flag when it is not true, the list when it holds unapproved entries.
    fix: dict[str, Json] = {} if restricted else {"restrictOutboundNetworkAccess": True}
    if len(kept) < len(entries):
        fix["allowedFqdnList"] = kept
    before = {name: observed[name] for name in fix}
    unapproved = [e for e in entries if e not in kept]
    reason = f"unapproved FQDNs {unapproved}" if unapproved else "outbound access is not restricted"
    expected: dict[str, Json] = {"restrictOutboundNetworkAccess": True}
    expected["allowedFqdnList within"] = list(params.approved_fqdns)
    patch = AccountPatch.of(account, fix, before)
    summary = f"outbound network access is not limited to approved FQDNs: {reason}"
    return [Finding(CONTROL.id, account.resource_id, summary, observed, expected, (patch,))]


CONTROL = Control(
    id="network.outbound",
    summary="restrictOutboundNetworkAccess true and allowedFqdnList within the approved FQDNs",
    params=Params,
    routes=(ACCOUNT_WRITTEN,),
    facts=frozenset({Fact.ACCOUNT}),
    steps=(AccountPatch,),
    detect=detect,
    graph=GraphQuery(
        # Any entry may be unapproved: every account with a list is a candidate, judged in memory.
        where="tostring(properties.restrictOutboundNetworkAccess) !~ 'true'"
        " or array_length(properties.allowedFqdnList) > 0",
        properties=("restrictOutboundNetworkAccess", "allowedFqdnList"),
    ),
)

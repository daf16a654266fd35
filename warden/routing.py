"""Which events point at which controls (DESIGN §2), as data: operation name or event type -> control ids.

Pure: no Azure SDK, no network. Infra filters and triage both read these tables, so they cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from warden.model import ResourceEvent

#: Every control id of DESIGN §2, in DESIGN order.
ALL_CONTROL_IDS: tuple[str, ...] = (
    "network.public-access",
    "network.outbound",
    "identity.local-auth",
    "identity.key-vault-keys",
    "identity.role-assignments",
    "encryption.cmk",
    "encryption.cmk-freshness",
    "encryption.vault-protection",
    "data.training-files",
    "ai.jailbreak-filter",
    "logging.diagnostics",
)

#: The event types warden acts on: only successes (a failed or cancelled write changed nothing).
RELEVANT_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "Microsoft.Resources.ResourceWriteSuccess",
        "Microsoft.Resources.ResourceActionSuccess",
        "Microsoft.Resources.ResourceDeleteSuccess",
        "Microsoft.KeyVault.KeyNearExpiry",
        "Microsoft.KeyVault.KeyExpired",
        "Microsoft.KeyVault.KeyNewVersionCreated",
    }
)

# Controls whose state is a property of the account resource itself, so one GET of the account re-checks
# them. logging.diagnostics is added because creating an account emits only accounts/write, and a new
# account has no diagnostic setting; waiting for the sweep would leave its first hours unaudited.
# cmk-freshness and vault-protection need Key Vault reads; Key Vault events and vaults/write drive them,
# and the sweep covers an account re-pointed at another key.
ACCOUNT_LEVEL_CONTROLS: frozenset[str] = frozenset(
    {
        "network.public-access",
        "network.outbound",
        "identity.local-auth",
        "encryption.cmk",
        "logging.diagnostics",
    }
)

# Key listing/regeneration means keys are in use: re-check that local auth is allowed at all and, for
# exempted accounts, that the keys live (rotated) in Key Vault.
_IDENTITY_CONTROLS = frozenset({"identity.local-auth", "identity.key-vault-keys"})
_JAILBREAK = frozenset({"ai.jailbreak-filter"})
_DIAGNOSTICS = frozenset({"logging.diagnostics"})
_CMK_FRESHNESS = frozenset({"encryption.cmk-freshness"})

#: Lower-cased ARM operation names and Key Vault event types -> the controls they point at.
CONTROLS_BY_OPERATION: Mapping[str, frozenset[str]] = {
    "microsoft.cognitiveservices/accounts/write": ACCOUNT_LEVEL_CONTROLS,
    "microsoft.cognitiveservices/accounts/listkeys/action": _IDENTITY_CONTROLS,
    "microsoft.cognitiveservices/accounts/regeneratekey/action": _IDENTITY_CONTROLS,
    "microsoft.cognitiveservices/accounts/deployments/write": _JAILBREAK,
    "microsoft.cognitiveservices/accounts/raipolicies/write": _JAILBREAK,
    "microsoft.cognitiveservices/accounts/raipolicies/delete": _JAILBREAK,
    "microsoft.authorization/roleassignments/write": frozenset({"identity.role-assignments"}),
    "microsoft.insights/diagnosticsettings/write": _DIAGNOSTICS,
    "microsoft.insights/diagnosticsettings/delete": _DIAGNOSTICS,
    "microsoft.keyvault/vaults/write": frozenset({"encryption.vault-protection"}),
    "microsoft.keyvault.keynearexpiry": _CMK_FRESHNESS,
    "microsoft.keyvault.keyexpired": _CMK_FRESHNESS,
    "microsoft.keyvault.keynewversioncreated": _CMK_FRESHNESS,
}

# Extension resources (role assignments, diagnostic settings) exist at every scope; only those whose scope
# is a Cognitive Services account are ours. The account segment must sit right before the extension
# provider, so an assignment on a resource group that merely contains accounts does not match.
_ACCOUNT_SCOPED = re.compile(
    r"/providers/microsoft\.cognitiveservices/accounts/[^/]+/providers/(microsoft\.[a-z]+)/",
    re.IGNORECASE,
)
_EXTENSION_PROVIDERS = frozenset({"microsoft.authorization", "microsoft.insights"})


def provider_of(operation_name: str) -> str:
    """The resource provider namespace of an ARM operation (`A.B/x/write`) or event type (`A.B.Event`)."""
    if "/" in operation_name:
        return operation_name.split("/", 1)[0]
    return operation_name.rsplit(".", 1)[0]


#: Lower-cased providers that some operation in the table belongs to; everything else is out of scope.
PROVIDERS_IN_SCOPE: frozenset[str] = frozenset(provider_of(op) for op in CONTROLS_BY_OPERATION)

_RELEVANT_LOWER = frozenset(t.lower() for t in RELEVANT_EVENT_TYPES)


def is_relevant_event_type(event_type: str) -> bool:
    """Whether warden acts on this event type at all (case-insensitive)."""
    return event_type.lower() in _RELEVANT_LOWER


def controls_for(event: ResourceEvent) -> frozenset[str]:
    """The controls to re-check for an event's operation; empty when the operation points at none."""
    operation = event.operation_name.strip().lower()
    controls = CONTROLS_BY_OPERATION.get(operation, frozenset())
    provider = provider_of(operation)
    if controls and provider in _EXTENSION_PROVIDERS:
        scoped = _ACCOUNT_SCOPED.search(event.resource_id + "/")
        if scoped is None or scoped.group(1).lower() != provider:
            return frozenset()
    return controls

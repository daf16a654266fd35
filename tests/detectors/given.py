"""Facts built in code for detector tests (no emulator, no fakes of SDK classes), and readers of a fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediators.account_patch import AccountPatch
from warden.model import AccountSnapshot, Finding

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"


@dataclass(frozen=True)
class Given:
    """The facts a detector reads, as plain values."""

    account: AccountSnapshot


def snapshot(**props: Any) -> AccountSnapshot:
    """An OpenAI account with the given snapshot fields (everything else missing, as Azure's defaults)."""
    fields: dict[str, Any] = {"public_network_access": "Disabled", "network_acls": None} | props
    return AccountSnapshot(RID, "a", "OpenAI", "eastus", "Succeeded", etag='"e1"', **fields)


def patch_of(finding: Finding) -> dict[str, Any]:
    """The account properties the finding's fix PATCHes (its account.patch steps, merged)."""
    out: dict[str, Any] = {}
    for step in finding.fix:
        if isinstance(step, AccountPatch):
            out |= step.properties
    return out

"""Control encryption.vault-protection: the vault holding an account's customer-managed key has soft delete
and purge protection, so neither a mistake nor an attacker can destroy the key (and with it the data).

Purge protection can never be turned off again: the fix's audit record says so (docs/keyvault.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from remediators.vault_patch import VaultPatch
from warden.cmk import vault_of
from warden.control import ACCOUNT_WRITTEN, KEY_EVENTS, VAULT_WRITTEN, Control, Fact, Facts
from warden.model import Finding, Json

_WANTED = {"enableSoftDelete": True, "enablePurgeProtection": True}


@dataclass(frozen=True)
class Params:
    """No parameters: a CMK vault without purge protection is never acceptable."""


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    enc = account.encryption
    name = vault_of(enc.key_vault_uri) if enc is not None and enc.customer_managed else None
    if name is None:
        return []
    found = facts.vault(name)
    if found is None:
        summary = f"the vault {name} holding the CMK is not in the subscriptions in scope: a human must check it"
        return [Finding(CONTROL.id, account.resource_id, summary, {"vault": name}, {"vault": "in scope"})]
    observed: dict[str, Json] = {"enableSoftDelete": found.soft_delete, "enablePurgeProtection": found.purge_protection}
    fix = {k: v for k, v in _WANTED.items() if observed[k] is not True}
    if not fix:
        return []
    before = {k: observed[k] for k in fix}
    summary = f"the CMK vault {found.name} lacks " + " and ".join(sorted(fix)) + " (purge protection is irreversible)"
    step = VaultPatch(found.resource_id, fix, before)
    return [
        Finding(CONTROL.id, account.resource_id, summary, {"vault": found.resource_id, **observed}, _WANTED, (step,))
    ]


CONTROL = Control(
    id="encryption.vault-protection",
    summary="the vault holding the CMK has soft delete and purge protection",
    params=Params,
    # A key's event is about its vault too: checked with the key's freshness, both fixes are one action.
    routes=(ACCOUNT_WRITTEN, VAULT_WRITTEN, *KEY_EVENTS),
    facts=frozenset({Fact.ACCOUNT, Fact.VAULT}),
    steps=(VaultPatch,),
    detect=detect,
)

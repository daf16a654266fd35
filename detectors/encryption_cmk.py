"""Control encryption.cmk: where the baseline requires it, the account encrypts with a customer-managed key
(`encryption.keySource` Microsoft.KeyVault) held in an approved vault.

The fix points the account at the baseline's default vault and key, and only when the account's identity may
already use that key: warden never grants rights to make its own fix work (docs/keyvault.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remediators.account_patch import AccountPatch
from warden.cmk import cmk_principal, covers, vault_of
from warden.control import ACCOUNT_WRITTEN, Control, Fact, Facts, param
from warden.model import AccountSnapshot, Encryption, Finding, Json
from warden.params_vault import object_name, required, vault, vaults
from warden.steps import Step


@dataclass(frozen=True)
class Params:
    required: bool | tuple[str, ...] = field(
        default=False, metadata=param(required, "true, false, or resource-id patterns of the accounts that need CMK")
    )
    approved_vaults: tuple[str, ...] = field(default=(), metadata=param(vaults, "vaults a CMK may live in"))
    vault: str = field(default="", metadata=param(vault, "the vault of the key the fix configures"))
    key: str = field(default="", metadata=param(object_name, "the key (in `vault`) the fix configures"))


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    enc = account.encryption or Encryption(None)
    approved = set(params.approved_vaults) | ({params.vault} if params.vault else set())
    where = vault_of(enc.key_vault_uri)
    compliant = enc.customer_managed and enc.key_name and where and (not approved or where in approved)
    if compliant or not covers(account.resource_id, params.required):
        return []
    observed: dict[str, Json] = {"encryption": enc.to_arm()}
    expected: dict[str, Json] = {"keySource": "Microsoft.KeyVault", "vault in": sorted(approved) or "any vault"}
    fix, why = _fix(facts, account, enc, params)
    summary = "a customer-managed key is required" + (f" (in a vault of {sorted(approved)})" if approved else "")
    return [Finding(CONTROL.id, account.resource_id, f"{summary}{why}", observed, expected, fix)]


def _fix(facts: Facts, account: AccountSnapshot, enc: Encryption, params: Params) -> tuple[tuple[Step, ...], str]:
    """The PATCH to the baseline's key, or why there is none (what a human must do)."""
    if not (params.vault and params.key):
        return (), "; the baseline names no default vault and key, so a human must choose one"
    found = facts.vault(params.vault)
    key = facts.key(found.vault_uri, params.key) if found else None
    if found is None or key is None:
        return (), f"; key {params.key} was not found in vault {params.vault} (subscriptions in scope)"
    principal, client_id = cmk_principal(account)
    if principal is None:
        return (), "; the account has no managed identity to use the key with: assign one, then grant it the key"
    access = facts.key_access(found, key.name, principal)
    if not access.granted:
        return (), f"; its identity may not use {key.key_id}: a human must add {access.missing}"
    # Versionless: the account then follows every rotation of the key by itself.
    wanted = Encryption("Microsoft.KeyVault", found.vault_uri, key.name, None, client_id)
    return (AccountPatch.of(account, {"encryption": wanted.to_arm()}, {"encryption": enc.to_arm()}),), ""


CONTROL = Control(
    id="encryption.cmk",
    summary="encryption.keySource Microsoft.KeyVault, with the key in an approved vault, where required",
    params=Params,
    routes=(ACCOUNT_WRITTEN,),
    facts=frozenset({Fact.ACCOUNT, Fact.VAULT, Fact.KEY, Fact.KEY_ACCESS}),
    steps=(AccountPatch,),
    detect=detect,
)

"""Which accounts use which vault's keys (customer-managed keys): an index in the state store, so that a Key
Vault event reaches exactly the accounts it concerns, without a tenant-wide scan per event.

Every evaluation notes the account's CMK (its vault and key) as it read it; an event's fan-out re-reads each
indexed account, and one that no longer uses the vault is dropped from the index then. An account never
evaluated yet is not indexed: the sweep, and its own accounts/write event, find it (docs/keyvault.md).
"""

from __future__ import annotations

import logging

from warden.errors import WardenError
from warden.ids import vault_parts
from warden.model import AccountSnapshot, Json, ResourceEvent
from warden.state import StateStore
from warden.vault_model import vault_name_of

log = logging.getLogger(__name__)


def group(vault_name: str) -> str:
    return f"cmk-vault:{vault_name.lower()}"


def cmk_of(account: AccountSnapshot) -> tuple[str, str] | None:
    """(vault name, key name) of the account's customer-managed key, or None when it uses none."""
    enc = account.encryption
    if enc is None or not enc.customer_managed or not enc.key_vault_uri or not enc.key_name:
        return None
    try:
        return vault_name_of(enc.key_vault_uri), enc.key_name
    except ValueError:
        return None


def note(state: StateStore, account: AccountSnapshot) -> None:
    """Index the account under its CMK vault, as just read. A failure only costs the index an entry (the
    sweep still checks the account), so it is logged, not raised: the evaluation itself is done."""
    found = cmk_of(account)
    if found is None:
        return
    value: dict[str, Json] = {"key": found[1]}
    try:
        state.link(group(found[0]), account.resource_id, value)
    except WardenError as exc:
        log.warning("could not index %s under vault %s: %s", account.resource_id, found[0], exc)


def accounts_for(state: StateStore, event: ResourceEvent) -> tuple[str, list[str]]:
    """The vault an event is about (its resource id: the topic, for Key Vault's own events; never the data's
    VaultName, which the sender writes), and the indexed accounts it concerns: those whose CMK is in that
    vault, and for a key's event, that key. IdRuleError (a ValueError) when the id is no vault's."""
    vault = vault_parts(event.resource_id)[2].lower()
    key = str(event.details.get("ObjectName") or "")
    links = state.links(group(vault))
    wanted = [m for m, v in links.items() if not key or str(v.get("key", "")).lower() == key.lower()]
    return vault, sorted(wanted)


def still_uses(state: StateStore, vault: str, account: AccountSnapshot | None, account_id: str) -> bool:
    """Whether the account (as its evaluation read it) still uses the vault; if not, it leaves the index."""
    found = cmk_of(account) if account is not None else None
    if found is not None and found[0] == vault.lower():
        return True
    state.unlink(group(vault), account_id)
    return False

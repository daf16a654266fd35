"""Microsoft.KeyVault/vaults on the ARM plane: the resource type, what the resource provider adds on create,
the rules it enforces on writes, and the vault facts the data plane reads (its URI, its recovery level).

Soft delete and purge protection only ever go on: Azure refuses `enablePurgeProtection: false` in any write
(400 BadRequest, its own message), and the emulator refuses `enableSoftDelete: false` on a vault that has
soft delete (docs/emulator.md "Key Vault").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.arm import ids
from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.types import Hooks, Provider, Resource, ResourceType

from .versions import LOCATIONS, MGMT_API_VERSIONS, NAMESPACE, VAULT_DNS_SUFFIX, VAULT_TYPE

RETENTION_DAYS = 90  # Key Vault's default (and longest) soft-delete retention


def _check(arm: Arm, resource_id: str, existing: Resource | None, body: Mapping[str, Any]) -> None:
    """The `check` hook: purge protection and soft delete cannot be turned off."""
    props = body.get("properties")
    if not isinstance(props, Mapping):
        return
    if props.get("enablePurgeProtection") is False:
        raise ArmError(
            400,
            "BadRequest",
            'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a '
            "vault is an irreversible action.",
        )
    if props.get("enableSoftDelete") is False and existing is not None and soft_delete(existing):
        raise ArmError(
            400,
            "BadRequest",
            'The property "enableSoftDelete" cannot be set to false. Enabling the soft delete for a vault is an '
            "irreversible action.",
        )


def _created(arm: Arm, vault: Resource) -> Resource:
    """The `created` hook: the RP gives a new vault its URI and turns soft delete on unless told otherwise."""
    props = vault.setdefault("properties", {})
    props.setdefault("vaultUri", f"https://{vault['name']}{VAULT_DNS_SUFFIX}/")
    props.setdefault("enableSoftDelete", True)
    if props["enableSoftDelete"] is not False:
        props.setdefault("softDeleteRetentionInDays", RETENTION_DAYS)
    props["provisioningState"] = "Succeeded"
    return vault


VAULTS = ResourceType(
    type=VAULT_TYPE,
    api_versions=MGMT_API_VERSIONS,
    # PUT answers 200/201 with provisioningState Succeeded at once; the SDK's begin_create_or_update reads that
    # body as a finished operation and polls nothing. PATCH (vaults.update) is a plain 200.
    requires_location=True,
    hooks=Hooks(check=_check, created=_created),
)


def provider(arm: Arm) -> Provider:
    return Provider(namespace=NAMESPACE, types=(VAULTS,), locations=LOCATIONS)


# --- what the data plane reads --------------------------------------------------------------------------
def find(arm: Arm, name: str) -> Resource | None:
    """The vault of that name, in any subscription (vault names are unique per cloud, case-insensitive)."""
    wanted = name.lower()
    for vault in arm.store.of_type(VAULT_TYPE, ""):
        if name_of(vault).lower() == wanted:
            return vault
    return None


def _props(vault: Mapping[str, Any]) -> Mapping[str, Any]:
    props = vault.get("properties")
    return props if isinstance(props, Mapping) else {}


def vault_uri(vault: Mapping[str, Any]) -> str:
    """`https://NAME.vault.azure.net`, no trailing slash: the base of every id the data plane answers with."""
    uri = _props(vault).get("vaultUri")
    return (str(uri) if uri else f"https://{name_of(vault)}{VAULT_DNS_SUFFIX}").rstrip("/")


def soft_delete(vault: Mapping[str, Any]) -> bool:
    """Soft delete is on unless the vault says false (it has been Azure's default since 2020)."""
    return _props(vault).get("enableSoftDelete") is not False


def recovery(vault: Mapping[str, Any]) -> dict[str, Any]:
    """The `recoveryLevel` (and `recoverableDays`) that objects written to this vault carry."""
    if not soft_delete(vault):
        return {"recoveryLevel": "Purgeable"}
    props = _props(vault)
    days = props.get("softDeleteRetentionInDays", RETENTION_DAYS)
    days = days if isinstance(days, int) and not isinstance(days, bool) else RETENTION_DAYS
    level = "Recoverable" if days == RETENTION_DAYS else "CustomizedRecoverable"
    if props.get("enablePurgeProtection") is not True:
        level += "+Purgeable"
    return {"recoveryLevel": level, "recoverableDays": days}


def tenant(vault: Mapping[str, Any] | None, default: str) -> str:
    found = _props(vault).get("tenantId") if vault is not None else None
    return str(found) if found else default


def name_of(vault: Mapping[str, Any]) -> str:
    return ids.name_from_id(str(vault["id"]))

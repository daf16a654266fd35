"""The VaultPort over Key Vault: vaults on the ARM plane (azure-mgmt-keyvault: find one by name, PATCH its
properties), composed with the keys and secrets of warden/azure/vault_data.py.

SDK models and exceptions stop here: callers get warden.vault_model types and the warden.errors tree.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from io import BytesIO

from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import Vault

from warden.azure.errors import classified_errors
from warden.azure.vault_data import VaultObjects
from warden.ids import vault_parts
from warden.model import Json
from warden.vault_model import AccessPolicy, VaultSnapshot

log = logging.getLogger(__name__)


def _lower(permissions: Sequence[object] | None) -> frozenset[str]:
    return frozenset(str(getattr(p, "value", p)).lower() for p in permissions or ())


def to_snapshot(vault: Vault) -> VaultSnapshot:
    """The SDK model as the engine's frozen snapshot; access-policy permissions lower-cased."""
    props = vault.properties
    policies = tuple(
        AccessPolicy(
            object_id=p.object_id or "",
            # `keys_property`: the model is a Mapping, whose own `keys` method the "keys" field cannot shadow.
            keys=_lower(p.permissions.keys_property if p.permissions else None),
            secrets=_lower(p.permissions.secrets if p.permissions else None),
        )
        for p in ((props.access_policies or ()) if props else ())
    )
    return VaultSnapshot(
        resource_id=vault.id or "",
        name=vault.name or "",
        vault_uri=(props.vault_uri if props else None) or f"https://{vault.name}.vault.azure.net/",
        soft_delete=props.enable_soft_delete if props else None,
        purge_protection=props.enable_purge_protection if props else None,
        rbac_authorization=props.enable_rbac_authorization if props else None,
        access_policies=policies,
    )


class KeyVaults(VaultObjects):
    """The VaultPort for real: vault reads and PATCHes on ARM, keys and secrets on each vault's data plane.

    `vault_endpoint` is for the local emulator only (its Key Vault port, `Emulator.vault_endpoint`)."""

    def _arm(self, subscription_id: str) -> KeyVaultManagementClient:
        return self._factory.arm(KeyVaultManagementClient, subscription_id)

    def find_vault(self, name: str, subscriptions: Sequence[str]) -> VaultSnapshot | None:
        wanted = name.lower()
        for sub in subscriptions:
            with classified_errors(f"list key vaults of subscription {sub}"):
                # Paged lazily: the pages after the one holding the vault are never asked for.
                found = next(
                    (v for v in self._arm(sub).vaults.list_by_subscription() if (v.name or "").lower() == wanted), None
                )
            if found is not None:
                return to_snapshot(found)
        return None

    def patch_vault(self, resource_id: str, properties: Mapping[str, Json]) -> None:
        sub, rg, name = vault_parts(resource_id)
        # Sent as raw JSON so the body carries exactly these ARM properties and nothing the model adds.
        body = json.dumps({"properties": dict(properties)}).encode()
        with classified_errors(f"patch {resource_id}", write=True):
            self._arm(sub).vaults.update(rg, name, BytesIO(body), content_type="application/json")
        log.info("patched %s: %s", resource_id, sorted(properties))

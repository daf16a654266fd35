"""Facts built in code for detector tests (no emulator, no fakes of SDK classes), and readers of a fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from remediators.account_patch import AccountPatch
from warden.access_model import DiagnosticSetting, RoleAssignment
from warden.ai_model import Deployment, RaiPolicy, TrainingData
from warden.model import AccountIdentity, AccountSnapshot, Encryption, Finding
from warden.vault_model import KeyAccess, KeySnapshot, KeyVersion, RotationPolicy, SecretSnapshot, VaultSnapshot

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
VAULT_URI = "https://kv-cmk.vault.azure.net/"
VAULT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cmk"
PRINCIPAL = "11111111-2222-3333-4444-555555555555"


@dataclass(frozen=True)
class Given:
    """The facts a detector reads, as plain values (Key Vault facts by vault name, key name, secret name)."""

    account: AccountSnapshot
    now: datetime = NOW
    vaults: Mapping[str, VaultSnapshot] = field(default_factory=dict)
    keys: Mapping[str, KeySnapshot] = field(default_factory=dict)
    access: KeyAccess = field(default_factory=lambda: KeyAccess(True, how="access policy"))
    secrets: Mapping[str, SecretSnapshot] = field(default_factory=dict)
    exempt_from: frozenset[str] = frozenset()
    deployments: tuple[Deployment, ...] = ()
    policies: Mapping[str, RaiPolicy] = field(default_factory=dict)
    training: TrainingData | None = None
    role_assignments: tuple[RoleAssignment, ...] = ()
    own_principals: frozenset[str] = frozenset()
    diagnostic_settings: tuple[DiagnosticSetting, ...] = ()

    def vault(self, name: str) -> VaultSnapshot | None:
        return self.vaults.get(name)

    def key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot | None:
        return self.keys.get(name)

    def key_access(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess:
        return self.access

    def secret(self, vault_uri: str, name: str) -> SecretSnapshot | None:
        return self.secrets.get(name)

    def exempted(self, control_id: str) -> bool:
        return control_id in self.exempt_from

    def rai_policy(self, name: str) -> RaiPolicy | None:
        return self.policies.get(name)


def snapshot(**props: Any) -> AccountSnapshot:
    """An OpenAI account with the given snapshot fields (everything else missing, as Azure's defaults)."""
    fields: dict[str, Any] = {"public_network_access": "Disabled", "network_acls": None} | props
    return AccountSnapshot(RID, "a", "OpenAI", "eastus", "Succeeded", etag='"e1"', **fields)


def cmk(key: str = "cmk", version: str | None = None, uri: str = VAULT_URI) -> Encryption:
    return Encryption("Microsoft.KeyVault", uri, key, version)


def system_identity() -> AccountIdentity:
    return AccountIdentity("SystemAssigned", PRINCIPAL)


def vault(name: str = "kv-cmk", *, purge: bool | None = True, soft: bool | None = True) -> VaultSnapshot:
    return VaultSnapshot(VAULT_ID.replace("kv-cmk", name), name, f"https://{name}.vault.azure.net/", soft, purge, True)


def version(name: str, age_days: float, *, expires_in: float | None = None, enabled: bool = True) -> KeyVersion:
    expires = NOW + timedelta(days=expires_in) if expires_in is not None else None
    return KeyVersion(name, enabled, NOW - timedelta(days=age_days), expires)


GOOD_POLICY = RotationPolicy(rotate_after_create="P180D", notify_before_expiry="P30D", expiry_time="P240D")


def key(
    latest: KeyVersion, in_use: KeyVersion | None = None, policy: RotationPolicy | None = GOOD_POLICY, name: str = "cmk"
) -> KeySnapshot:
    return KeySnapshot(VAULT_URI, name, latest, in_use or latest, policy)


def patch_of(finding: Finding) -> dict[str, Any]:
    """The account properties the finding's fix PATCHes (its account.patch steps, merged)."""
    out: dict[str, Any] = {}
    for step in finding.fix:
        if isinstance(step, AccountPatch):
            out |= step.properties
    return out

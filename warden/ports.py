"""The narrow ports through which the engine reaches Azure, one per plane, gathered in `Ports`.

Adapters in warden/azure/ implement them; tests may pass fakes. Nothing here imports an Azure SDK. Planes
join as controls need them (Key Vault, the Azure OpenAI data plane, role assignments, diagnostic settings).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from warden.access_model import DiagnosticSetting, RoleAssignment
from warden.ai_model import Deployment, FineTuningJob, RaiPolicy, TrainingFile
from warden.errors import ConfigurationError
from warden.model import AccountSnapshot, Json
from warden.vault_model import KeyAccess, KeySnapshot, RotationPolicy, SecretSnapshot, SecretText, VaultSnapshot


class AccountPort(Protocol):
    """Cognitive Services accounts on the ARM plane. Raises the classified errors of warden.errors."""

    def read_account(self, resource_id: str) -> AccountSnapshot:
        """GET the account fresh (one request); ResourceGoneError when it does not exist."""
        ...

    def patch_account(
        self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None
    ) -> AccountSnapshot | str | None:
        """PATCH only the given `properties` entries and wait for the operation to finish; with `etag`, only if
        the account is unchanged since it was read (ConflictError otherwise). Returns the account as read after
        the operation completed when ARM accepted it as one (202/201: the poller's final GET), else its new etag."""
        ...

    def regenerate_key(self, resource_id: str, key_name: str) -> None:
        """Regenerate Key1 or Key2. The answer carries the new keys: the adapter discards them unread."""
        ...

    def regenerate_key_value(self, resource_id: str, key_name: str) -> SecretText:
        """Regenerate Key1 or Key2 and hand back that key's new value, hidden, for a Key Vault secret (dual-key
        rotation); the other key in the answer is dropped unread."""
        ...

    def list_account_pages(self, subscription_id: str) -> Iterator[Sequence[AccountSnapshot]]:
        """Every Cognitive Services account in the subscription, one list page at a time (for the sweep): a
        list body carries each account's properties and etag, so a compliant one needs no GET."""
        ...

    def list_accounts_in_group(self, subscription_id: str, resource_group: str) -> Sequence[tuple[str, str]]:
        """(resource id, kind) of every Cognitive Services account in one resource group (all pages): the
        accounts a role assignment made at that group reaches."""
        ...


class ResourceGraphPort(Protocol):
    """Azure Resource Graph: one query across many subscriptions (docs/scale.md)."""

    def account_pages(self, query: str, subscriptions: Sequence[str]) -> Iterator[Sequence[AccountSnapshot]]:
        """The accounts `query` returns in `subscriptions`, one page at a time to the last; each row is shaped as
        an ARM account (id, name, type, kind, location, the projected properties) and carries no etag."""
        ...


class VaultPort(Protocol):
    """Key Vault: vaults on the ARM plane, keys and secrets on each vault's data plane (`vault_uri`, as ARM
    and the account name it: https://NAME.vault.azure.net/). Raises the classified errors of warden.errors."""

    def find_vault(self, name: str, subscriptions: Sequence[str]) -> VaultSnapshot | None:
        """The vault of that name (unique per cloud), looked for in these subscriptions in order; None when
        none of them holds it."""
        ...

    def patch_vault(self, resource_id: str, properties: Mapping[str, Json]) -> None:
        """PATCH only the given vault `properties` (enableSoftDelete, enablePurgeProtection)."""
        ...

    def read_key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot | None:
        """The key (newest version, `version` as the one in use when given, rotation policy); None when the
        vault has no such key (or no such version)."""
        ...

    def rotate_key(self, vault_uri: str, name: str, *, if_latest: str | None = None) -> str | None:
        """Make a new version of the key; returns it. With `if_latest`, only while that is still the newest
        version (someone else rotated it meanwhile: nothing is done and None is returned)."""
        ...

    def put_rotation_policy(self, vault_uri: str, name: str, policy: RotationPolicy) -> None:
        """Replace the key's rotation policy."""
        ...

    def read_secret(self, vault_uri: str, name: str) -> SecretSnapshot | None:
        """The secret's newest version, metadata only (the value is never read); None when there is none."""
        ...

    def set_secret(
        self,
        vault_uri: str,
        name: str,
        value: SecretText,
        *,
        content_type: str,
        expires: datetime | None,
        tags: Mapping[str, str],
    ) -> str:
        """Store `value` as the secret's new version; returns the version id (never the value)."""
        ...


class AccessPort(Protocol):
    """Who may use what: role assignments (and a vault's access policies) on the ARM plane."""

    def can_use_key(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess:
        """Whether `principal_id` may get, wrap and unwrap with the key: by the vault's access policies, or
        (RBAC vaults) by a role assignment at the key, the vault or any scope above it."""
        ...


class DeploymentPort(Protocol):
    """An account's deployments and RAI policies on the ARM plane. Raises the classified errors of warden.errors."""

    def list_deployments(self, account_id: str) -> Sequence[Deployment]:
        """Every deployment of the account (all pages)."""
        ...

    def read_rai_policy(self, account_id: str, name: str) -> RaiPolicy | None:
        """The account's RAI policy of that name, with its ARM properties as read; None when there is none."""
        ...

    def put_rai_policy(
        self, account_id: str, name: str, properties: Mapping[str, Json], tags: Mapping[str, str]
    ) -> str | None:
        """Create or replace a (UserManaged) RAI policy with exactly these ARM properties; returns its etag."""
        ...

    def repoint_deployment(self, deployment_id: str, rai_policy_name: str, *, etag: str | None) -> str | None:
        """PUT the deployment as it is, with only `properties.raiPolicyName` changed, and wait for the operation;
        with `etag`, only if the deployment is unchanged since it was read (ConflictError otherwise). Returns the
        deployment's new etag."""
        ...


class TrainingDataPort(Protocol):
    """Fine-tuning files and jobs on an account's Azure OpenAI data plane (`{endpoint}/openai`), with an Entra
    token, never a key. Raises the classified errors of warden.errors."""

    def list_training_files(self, endpoint: str) -> Sequence[TrainingFile]:
        """Every file whose purpose is fine-tune or fine-tune-results (all pages), metadata only."""
        ...

    def list_jobs(self, endpoint: str) -> Sequence[FineTuningJob]:
        """Every fine-tuning job of the account (all pages)."""
        ...

    def delete_file(self, endpoint: str, file_id: str) -> bool:
        """DELETE the file; True when this call deleted it, False when it was already gone (both success)."""
        ...


class RoleAssignmentPort(Protocol):
    """Role assignments on the ARM plane (Microsoft.Authorization). Raises the classified errors of warden.errors."""

    def list_role_assignments(self, scope: str) -> Sequence[RoleAssignment]:
        """Every role assignment at `scope` or above it (`$filter=atScope()`: the resource group, the
        subscription, management groups, the root), all pages."""
        ...

    def delete_role_assignment(self, assignment_id: str) -> bool:
        """DELETE the assignment by its id; True when this call deleted it, False when it was already gone (both
        success). Role assignments carry no etag, so there is no If-Match to send (docs/identity.md)."""
        ...


class DiagnosticsPort(Protocol):
    """Diagnostic settings of any resource on the ARM plane (Microsoft.Insights). Raises the classified errors."""

    def list_diagnostic_settings(self, resource_id: str) -> Sequence[DiagnosticSetting]:
        """Every diagnostic setting of the resource (one list; the API does not page)."""
        ...

    def put_diagnostic_setting(self, resource_id: str, name: str, properties: Mapping[str, Json]) -> None:
        """Create or replace the setting `name` with exactly these ARM properties (not long-running, no etag)."""
        ...


@dataclass(frozen=True)
class Ports:
    """One client per plane, built once per worker at the composition root. Every port but `accounts` is None
    only in tests that never reach its plane (reading such a fact then fails loudly)."""

    accounts: AccountPort
    vaults: VaultPort | None = None
    access: AccessPort | None = None
    deployments: DeploymentPort | None = None
    training: TrainingDataPort | None = None
    roles: RoleAssignmentPort | None = None
    diagnostics: DiagnosticsPort | None = None
    graph: ResourceGraphPort | None = None  # None: the sweep lists every subscription's pages instead

    def vault_port(self) -> VaultPort:
        """`vaults`, or ConfigurationError when a Key Vault read or change meets a Ports without one."""
        if self.vaults is None:
            raise ConfigurationError("a control reads or changes Key Vault, but no Key Vault client is wired")
        return self.vaults

    def access_port(self) -> AccessPort:
        """`access`, or ConfigurationError when a role-assignment read meets a Ports without one."""
        if self.access is None:
            raise ConfigurationError("a control reads role assignments, but no authorization client is wired")
        return self.access

    def deployment_port(self) -> DeploymentPort:
        """`deployments`, or ConfigurationError when a deployment read or change meets a Ports without one."""
        if self.deployments is None:
            raise ConfigurationError("a control reads or changes deployments, but no deployment client is wired")
        return self.deployments

    def training_port(self) -> TrainingDataPort:
        """`training`, or ConfigurationError when a data-plane read or change meets a Ports without one."""
        if self.training is None:
            raise ConfigurationError("a control reads fine-tuning data, but no Azure OpenAI data-plane client is wired")
        return self.training

    def role_port(self) -> RoleAssignmentPort:
        """`roles`, or ConfigurationError when a role-assignment read or change meets a Ports without one."""
        if self.roles is None:
            raise ConfigurationError("a control reads or changes role assignments, but no client for them is wired")
        return self.roles

    def diagnostics_port(self) -> DiagnosticsPort:
        """`diagnostics`, or ConfigurationError when a diagnostic-setting read or change meets a Ports without one."""
        if self.diagnostics is None:
            raise ConfigurationError("a control reads or changes diagnostic settings, but no monitor client is wired")
        return self.diagnostics

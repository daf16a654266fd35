"""The facts of one evaluation, fetched lazily through the ports, once each (per arguments), and shown to each
detector only as far as its control declares them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from warden.access_model import DiagnosticSetting, RoleAssignment
from warden.ai_model import Deployment, RaiPolicy, TrainingData
from warden.control import Fact
from warden.ids import account_parts, normalize_id
from warden.model import AccountSnapshot
from warden.ports import Ports
from warden.vault_model import KeyAccess, KeySnapshot, SecretSnapshot, VaultSnapshot

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """What an evaluation knows besides Azure: its instant, the subscriptions in scope (where vaults are looked
    for), which controls the baseline exempts a resource from at that instant, and warden's own object ids."""

    now: datetime
    subscriptions: tuple[str, ...] = ()
    exempt: Callable[[str, str], bool] = lambda resource_id, control_id: False
    own_principals: frozenset[str] = frozenset()  # lower-case


class LazyFacts:
    """Every fact of one resource for one evaluation: read on first use, then kept. Thread-unsafe on purpose:
    one evaluation runs on one thread, under the resource's lock."""

    def __init__(self, resource_id: str, ports: Ports, scope: Scope, *, account: AccountSnapshot | None = None) -> None:
        """`account`, when given, is the account as a list page or a query row already showed it: the first
        use reads no more (a verifying read after `forget` does)."""
        self._resource_id = resource_id
        self._ports = ports
        self._scope = scope
        self._cache: dict[tuple[Fact, Hashable], Any] = {}
        self.seed_account(account)

    def _get(self, fact: Fact, args: Hashable, load: Callable[[], T]) -> T:
        key = (fact, args)
        if key not in self._cache:
            self._cache[key] = load()
        value: T = self._cache[key]
        return value

    def forget(self, fact: Fact | None = None) -> None:
        """Drop a fact (every fact when None), so that the next use reads it fresh (after a change, to verify)."""
        for key in [k for k in self._cache if fact is None or k[0] is fact]:
            del self._cache[key]

    def seed_account(self, account: AccountSnapshot | None) -> None:
        """Take `account` as the ACCOUNT fact instead of reading it: a read already made (a list page, a query
        row, the poller's read after ARM finished an operation on it). Only the account: every other fact is still
        read on first use. None: there is no such read, the account is read on first use."""
        if account is None:
            return
        if normalize_id(account.resource_id) != normalize_id(self._resource_id):
            raise ValueError(f"a read of {account.resource_id} cannot stand for {self._resource_id}")
        self._cache[(Fact.ACCOUNT, None)] = account

    def view(self, declared: Iterable[Fact]) -> FactView:
        return FactView(self, frozenset(declared))

    @property
    def now(self) -> datetime:
        return self._scope.now

    @property
    def account(self) -> AccountSnapshot:
        return self._get(Fact.ACCOUNT, None, lambda: self._ports.accounts.read_account(self._resource_id))

    def vault(self, name: str) -> VaultSnapshot | None:
        # The account's own subscription first: a CMK vault usually sits beside the account.
        own = account_parts(self._resource_id)[0]
        subs = (own, *(s for s in self._scope.subscriptions if s.lower() != own.lower()))
        return self._get(Fact.VAULT, name.lower(), lambda: self._ports.vault_port().find_vault(name, subs))

    def key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot | None:
        args = (vault_uri.lower(), name.lower(), version or None)
        return self._get(Fact.KEY, args, lambda: self._ports.vault_port().read_key(vault_uri, name, version or None))

    def key_access(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess:
        args = (vault.resource_id.lower(), key_name.lower(), principal_id.lower())
        return self._get(
            Fact.KEY_ACCESS, args, lambda: self._ports.access_port().can_use_key(vault, key_name, principal_id)
        )

    def secret(self, vault_uri: str, name: str) -> SecretSnapshot | None:
        args = (vault_uri.lower(), name.lower())
        return self._get(Fact.SECRET, args, lambda: self._ports.vault_port().read_secret(vault_uri, name))

    def exempted(self, control_id: str) -> bool:
        return self._scope.exempt(self._resource_id, control_id)

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        return self._get(
            Fact.DEPLOYMENTS, None, lambda: tuple(self._ports.deployment_port().list_deployments(self._resource_id))
        )

    def rai_policy(self, name: str) -> RaiPolicy | None:
        args = name.lower()
        return self._get(
            Fact.RAI_POLICY, args, lambda: self._ports.deployment_port().read_rai_policy(self._resource_id, name)
        )

    @property
    def training(self) -> TrainingData | None:
        """Every training file and job of the account's data plane; None when ARM names no endpoint for it."""
        return self._get(Fact.TRAINING, None, self._read_training)

    def _read_training(self) -> TrainingData | None:
        endpoint = self.account.endpoint
        if not endpoint:
            return None
        port = self._ports.training_port()
        # Files first: a job that starts after the files are listed is then seen in the jobs, never missed.
        files = tuple(port.list_training_files(endpoint))
        return TrainingData(endpoint, files, tuple(port.list_jobs(endpoint)))

    @property
    def role_assignments(self) -> tuple[RoleAssignment, ...]:
        """The role assignments at the account and every scope above it."""
        return self._get(
            Fact.ROLE_ASSIGNMENTS,
            None,
            lambda: tuple(self._ports.role_port().list_role_assignments(self._resource_id)),
        )

    @property
    def own_principals(self) -> frozenset[str]:
        return self._scope.own_principals

    @property
    def diagnostic_settings(self) -> tuple[DiagnosticSetting, ...]:
        return self._get(
            Fact.DIAGNOSTICS,
            None,
            lambda: tuple(self._ports.diagnostics_port().list_diagnostic_settings(self._resource_id)),
        )


class FactView:
    """The facts one control declared; reading another raises KeyError, so a declaration cannot lie about
    what its detector reads (and so what an evaluation fetches)."""

    def __init__(self, facts: LazyFacts, declared: frozenset[Fact]) -> None:
        self._facts = facts
        self._declared = declared

    def _check(self, fact: Fact) -> None:
        if fact not in self._declared:
            raise KeyError(f"fact {fact.value!r} is read but not declared by the control")

    @property
    def now(self) -> datetime:
        return self._facts.now

    @property
    def account(self) -> AccountSnapshot:
        self._check(Fact.ACCOUNT)
        return self._facts.account

    def vault(self, name: str) -> VaultSnapshot | None:
        self._check(Fact.VAULT)
        return self._facts.vault(name)

    def key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot | None:
        self._check(Fact.KEY)
        return self._facts.key(vault_uri, name, version)

    def key_access(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess:
        self._check(Fact.KEY_ACCESS)
        return self._facts.key_access(vault, key_name, principal_id)

    def secret(self, vault_uri: str, name: str) -> SecretSnapshot | None:
        self._check(Fact.SECRET)
        return self._facts.secret(vault_uri, name)

    def exempted(self, control_id: str) -> bool:
        self._check(Fact.EXEMPTIONS)
        return self._facts.exempted(control_id)

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        self._check(Fact.DEPLOYMENTS)
        return self._facts.deployments

    def rai_policy(self, name: str) -> RaiPolicy | None:
        self._check(Fact.RAI_POLICY)
        return self._facts.rai_policy(name)

    @property
    def training(self) -> TrainingData | None:
        self._check(Fact.TRAINING)
        return self._facts.training

    @property
    def role_assignments(self) -> tuple[RoleAssignment, ...]:
        self._check(Fact.ROLE_ASSIGNMENTS)
        return self._facts.role_assignments

    @property
    def own_principals(self) -> frozenset[str]:
        self._check(Fact.ROLE_ASSIGNMENTS)
        return self._facts.own_principals

    @property
    def diagnostic_settings(self) -> tuple[DiagnosticSetting, ...]:
        self._check(Fact.DIAGNOSTICS)
        return self._facts.diagnostic_settings

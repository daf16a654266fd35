"""The narrow ports through which the engine reaches Azure, and the remediator contract.

Adapters in warden/azure/ implement the ports; tests may pass fakes. Nothing here imports an Azure SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from warden.model import AccountSnapshot, Action, Finding, Json


class AccountPort(Protocol):
    """Reads and changes Cognitive Services accounts. Raises the classified errors of warden.errors."""

    def read_account(self, resource_id: str) -> AccountSnapshot:
        """GET the account fresh (one request); ResourceGoneError when it does not exist."""
        ...

    def patch_account(self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None) -> None:
        """PATCH only the given `properties` entries of the account and wait for the operation to finish;
        with `etag`, only if the account is unchanged since it was read (ConflictError otherwise)."""
        ...

    def list_accounts(self, subscription_id: str) -> Sequence[tuple[str, str]]:
        """(resource id, kind) of every Cognitive Services account in the subscription (for the sweep)."""
        ...


class Remediator(Protocol):
    """One action kind: a pure planner that merges findings into an Action, and an applier through a port.

    `permissions` are the ARM actions `apply` needs; infra's custom role is checked against them.
    """

    kind: str
    permissions: tuple[str, ...]

    def handles(self, finding: Finding) -> bool:
        """Whether this remediator can fix the finding."""
        ...

    def plan(self, resource_id: str, findings: Sequence[Finding]) -> Action:
        """Merge all handled findings on one resource into one Action (pure)."""
        ...

    def apply(self, action: Action, accounts: AccountPort, *, etag: str | None = None) -> None:
        """Carry the action out, only if the resource still has `etag` (when given); raises warden.errors
        on failure, never returns a bool."""
        ...

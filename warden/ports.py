"""The narrow ports through which the engine reaches Azure, one per plane, gathered in `Ports`.

Adapters in warden/azure/ implement them; tests may pass fakes. Nothing here imports an Azure SDK. Planes
join as controls need them (Key Vault, the Azure OpenAI data plane, role assignments, diagnostics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from warden.model import AccountSnapshot, Json


class AccountPort(Protocol):
    """Cognitive Services accounts on the ARM plane. Raises the classified errors of warden.errors."""

    def read_account(self, resource_id: str) -> AccountSnapshot:
        """GET the account fresh (one request); ResourceGoneError when it does not exist."""
        ...

    def patch_account(self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None) -> str | None:
        """PATCH only the given `properties` entries and wait for the operation to finish; with `etag`, only if
        the account is unchanged since it was read (ConflictError otherwise). Returns the account's new etag."""
        ...

    def regenerate_key(self, resource_id: str, key_name: str) -> None:
        """Regenerate Key1 or Key2. The answer carries the new keys: the adapter discards them unread."""
        ...

    def list_accounts(self, subscription_id: str) -> Sequence[tuple[str, str]]:
        """(resource id, kind) of every Cognitive Services account in the subscription (for the sweep)."""
        ...


@dataclass(frozen=True)
class Ports:
    """One client per plane, built once per worker at the composition root."""

    accounts: AccountPort

"""Step kind account.patch: one PATCH of an account's `properties`, carrying only the drifted properties.

Every account-property fix for one account merges into one PATCH (so a second one can never meet a 412 from
the first), sent with If-Match, and verified by re-reading the account (the poller's read of it once ARM finished
the operation, when the PATCH was accepted as one and nothing ran after it: docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from warden.model import AccountSnapshot, Json
from warden.ports import Ports
from warden.steps import Step, Verify, Written


@dataclass(frozen=True)
class AccountPatch:
    """PATCH `properties` (ARM names, e.g. {"publicNetworkAccess": "Disabled"}); `before` holds what was read."""

    kind: ClassVar[str] = "account.patch"
    order: ClassVar[int] = 10
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.CognitiveServices/accounts/write",)
    merges: ClassVar[bool] = True
    verify: ClassVar[Verify] = Verify.REREAD

    target: str
    properties: Mapping[str, Json]
    before: Mapping[str, Json] = field(default_factory=dict)
    etag: str | None = None

    @classmethod
    def of(cls, account: AccountSnapshot, properties: Mapping[str, Json], before: Mapping[str, Json]) -> AccountPatch:
        """The PATCH of `account` as it was read (its id and etag)."""
        return cls(account.resource_id, dict(properties), dict(before), account.etag)

    def merge(self, other: Step) -> AccountPatch:
        if not isinstance(other, AccountPatch):
            raise TypeError(f"cannot merge {other.kind} into {self.kind}")
        for name, value in other.properties.items():
            if name in self.properties and self.properties[name] != value:
                raise ValueError(f"two fixes disagree on property {name!r} of {self.target}")
        return AccountPatch(
            self.target,
            {**self.properties, **other.properties},
            {**self.before, **other.before},
            self.etag or other.etag,
        )

    def change(self) -> dict[str, Json]:
        return {name: {"before": self.before.get(name), "after": value} for name, value in self.properties.items()}

    def to_json(self) -> dict[str, Json]:
        return {"kind": self.kind, "target": self.target, "properties": dict(self.properties)}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> AccountPatch:
        # A stored step is re-sent without If-Match: its etag belonged to a read that is long gone.
        properties = data.get("properties")
        if not isinstance(properties, Mapping):
            raise ValueError(f"a stored {cls.kind} step has no properties: {sorted(data)}")
        return cls(str(data["target"]), dict(properties))

    def apply(self, ports: Ports, etag: str | None) -> Written:
        # When ARM ran the PATCH as an operation, the account as the poller read it after it completed.
        return ports.accounts.patch_account(self.target, self.properties, etag=etag)

"""Step kind key.rotate: make a new version of a customer-managed key that is too old, disabled or near expiry.

Only while the version judged stale is still the newest: when someone (Key Vault's own rotation policy, or a
second warden evaluation for another account on the same key) rotated it meanwhile, nothing is done again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify


@dataclass(frozen=True)
class RotateKey:
    """POST rotate on the key; `etag` is the newest version as read (the rotation's precondition)."""

    kind: ClassVar[str] = "key.rotate"
    order: ClassVar[int] = 7
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.KeyVault/vaults/keys/rotate/action",)
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str  # the versionless key id, https://VAULT/keys/NAME
    vault_uri: str
    key_name: str
    etag: str | None = None  # the newest version when judged

    def merge(self, other: Step) -> RotateKey:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        return {"keyVersion": {"before": self.etag, "after": "a new version"}}

    def to_json(self) -> dict[str, Json]:
        return {"kind": self.kind, "target": self.target, "vaultUri": self.vault_uri, "keyName": self.key_name}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> RotateKey:
        # A stored step rotates unconditionally: the version it was judged on belongs to a read long gone.
        return cls(str(data["target"]), str(data["vaultUri"]), str(data["keyName"]))

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        return ports.vault_port().rotate_key(self.vault_uri, self.key_name, if_latest=etag)

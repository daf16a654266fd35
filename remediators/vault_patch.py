"""Step kind vault.patch: one PATCH of a Key Vault's soft-delete and purge-protection settings.

Purge protection cannot be turned off again (Key Vault refuses it), so the step's change says so: the audit
record of an enforced or dry-run fix names the irreversible part (docs/keyvault.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify

#: Settings Key Vault never lets anyone turn off again once on.
IRREVERSIBLE = frozenset({"enablePurgeProtection", "enableSoftDelete"})


@dataclass(frozen=True)
class VaultPatch:
    """PATCH the vault's `properties` (ARM names); `before` holds what was read. Vaults carry no etag."""

    kind: ClassVar[str] = "vault.patch"
    order: ClassVar[int] = 5  # protect the vault before anything starts depending on its keys
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.KeyVault/vaults/write",)
    merges: ClassVar[bool] = True
    verify: ClassVar[Verify] = Verify.REREAD

    target: str
    properties: Mapping[str, Json]
    before: Mapping[str, Json] = field(default_factory=dict)
    etag: None = None

    def merge(self, other: Step) -> VaultPatch:
        if not isinstance(other, VaultPatch):
            raise TypeError(f"cannot merge {other.kind} into {self.kind}")
        for name, value in other.properties.items():
            if name in self.properties and self.properties[name] != value:
                raise ValueError(f"two fixes disagree on vault property {name!r} of {self.target}")
        return VaultPatch(self.target, {**self.properties, **other.properties}, {**self.before, **other.before})

    def change(self) -> dict[str, Json]:
        out: dict[str, Json] = {}
        for name, value in self.properties.items():
            entry: dict[str, Json] = {"before": self.before.get(name), "after": value}
            if name in IRREVERSIBLE and value is True:
                entry["irreversible"] = True
            out[name] = entry
        return out

    def to_json(self) -> dict[str, Json]:
        return {"kind": self.kind, "target": self.target, "properties": dict(self.properties)}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> VaultPatch:
        properties = data.get("properties")
        if not isinstance(properties, Mapping):
            raise ValueError(f"a stored {cls.kind} step has no properties: {sorted(data)}")
        return cls(str(data["target"]), dict(properties))

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        ports.vault_port().patch_vault(self.target, self.properties)
        return None

"""Step kind account.key-version: point an account's customer-managed key at the key's newest version, or make
it versionless (the account then follows every rotation by itself).

The newest version is read when the step runs, not when it was planned: a rotation planned just before it
(key.rotate) makes the version it must point at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

from warden.errors import ResourceGoneError
from warden.model import Encryption, Json
from warden.ports import Ports
from warden.steps import Step, Verify, Written


@dataclass(frozen=True)
class PointAtKeyVersion:
    """PATCH the account's `encryption` (sent whole, with If-Match) to the newest version of its key, or to
    no version when `versionless`. `before` is the encryption as read."""

    kind: ClassVar[str] = "account.key-version"
    order: ClassVar[int] = 12  # after a rotation (key.rotate) and any other account PATCH
    permissions: ClassVar[tuple[str, ...]] = (
        "Microsoft.CognitiveServices/accounts/write",
        "Microsoft.KeyVault/vaults/keys/read",
    )
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str
    before: Encryption
    versionless: bool = False
    etag: str | None = None

    def merge(self, other: Step) -> PointAtKeyVersion:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        # Named after the account property it changes, so a re-read tells this change from someone else's.
        after = "versionless (follows the newest)" if self.versionless else "the newest version"
        return {"encryption": {"before": {"keyVersion": self.before.key_version}, "after": {"keyVersion": after}}}

    def to_json(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "target": self.target,
            "encryption": self.before.to_arm(),
            "versionless": self.versionless,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> PointAtKeyVersion:
        enc = data.get("encryption")
        props = enc.get("keyVaultProperties") if isinstance(enc, Mapping) else None
        if not isinstance(enc, Mapping) or not isinstance(props, Mapping):
            raise ValueError(f"a stored {cls.kind} step has no encryption: {sorted(data)}")
        return cls(str(data["target"]), Encryption.from_arm(enc), data.get("versionless") is True)

    def apply(self, ports: Ports, etag: str | None) -> Written:
        version: str | None = None
        if not self.versionless:
            key = ports.vault_port().read_key(str(self.before.key_vault_uri), str(self.before.key_name))
            if key is None:
                raise ResourceGoneError(f"key {self.before.key_name} is gone from {self.before.key_vault_uri}")
            version = key.latest.version
        # Azure reads an empty keyVersion as versionless; the whole object is sent so nothing is half-merged.
        encryption = replace(self.before, key_version=version or "")
        return ports.accounts.patch_account(self.target, {"encryption": encryption.to_arm()}, etag=etag)

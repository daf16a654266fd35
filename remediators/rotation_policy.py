"""Step kind key.rotation-policy: give a customer-managed key a rotation policy (Key Vault then rotates it on
schedule and notifies before a version expires), replacing one that rotates too late or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify
from warden.vault_model import RotationPolicy


@dataclass(frozen=True)
class PutRotationPolicy:
    """PUT the key's rotation policy: rotate `rotate_after_days` after a version is created, versions expire
    after `expiry_days`, notify `notify_before_days` before that. `before` describes the policy read."""

    kind: ClassVar[str] = "key.rotation-policy"
    order: ClassVar[int] = 6  # before a rotation, so the new version already gets the policy's expiry
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.KeyVault/vaults/keyrotationpolicies/write",)
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str  # the versionless key id, https://VAULT/keys/NAME
    vault_uri: str
    key_name: str
    rotate_after_days: int
    notify_before_days: int
    expiry_days: int
    before: str = ""
    etag: None = None

    def policy(self) -> RotationPolicy:
        return RotationPolicy(
            rotate_after_create=f"P{self.rotate_after_days}D",
            notify_before_expiry=f"P{self.notify_before_days}D",
            expiry_time=f"P{self.expiry_days}D",
        )

    def merge(self, other: Step) -> PutRotationPolicy:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        policy = self.policy()
        after = f"rotate after {policy.rotate_after_create}, expire after {policy.expiry_time}, "
        after += f"notify {policy.notify_before_expiry} before expiry"
        return {"rotationPolicy": {"before": self.before or None, "after": after}}

    def to_json(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "target": self.target,
            "vaultUri": self.vault_uri,
            "keyName": self.key_name,
            "rotateAfterDays": self.rotate_after_days,
            "notifyBeforeDays": self.notify_before_days,
            "expiryDays": self.expiry_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> PutRotationPolicy:
        days = [data["rotateAfterDays"], data["notifyBeforeDays"], data["expiryDays"]]
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in days):
            raise ValueError(f"a stored {cls.kind} step has no whole day counts: {days}")
        rotate, notify, expiry = (int(str(d)) for d in days)
        return cls(str(data["target"]), str(data["vaultUri"]), str(data["keyName"]), rotate, notify, expiry)

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        ports.vault_port().put_rotation_policy(self.vault_uri, self.key_name, self.policy())
        return None

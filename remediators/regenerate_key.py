"""Step kind account.regenerate-key: regenerate Key1 or Key2 of an account (the keys may have leaked).

The service answers with the new keys; the adapter discards them unread, so no key value reaches the engine,
a log or the audit log. The answer is the only proof: warden never calls listKeys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify

KEY_NAMES = ("Key1", "Key2")


@dataclass(frozen=True)
class RegenerateKey:
    """POST regenerateKey for `key_name` (Key1 or Key2); takes no If-Match, so `etag` is always None."""

    kind: ClassVar[str] = "account.regenerate-key"
    order: ClassVar[int] = 20
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.CognitiveServices/accounts/regenerateKey/action",)
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.RESPONSE

    target: str
    key_name: str
    etag: None = None

    def __post_init__(self) -> None:
        if self.key_name not in KEY_NAMES:
            raise ValueError(f"key name must be one of {KEY_NAMES}, got {self.key_name!r}")

    def merge(self, other: Step) -> RegenerateKey:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        return {"keyName": self.key_name, "regenerated": True}  # the new key is never read or recorded

    def to_json(self) -> dict[str, Json]:
        return {"kind": self.kind, "target": self.target, "keyName": self.key_name}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> RegenerateKey:
        return cls(str(data["target"]), str(data["keyName"]))

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        ports.accounts.regenerate_key(self.target, self.key_name)
        return None

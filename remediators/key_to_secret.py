"""Step kind account.key-to-secret: one half of dual-key rotation. Regenerate the account key that is not in
use and store it as the new version of its Key Vault secret, marked as the active key.

The key value passes from the regeneration's answer to the secret in memory only (a SecretText, which never
prints itself): it reaches no log, audit record, exception or stored step (docs/keyvault.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from remediators.regenerate_key import KEY_NAMES
from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify

#: The secret version's tag naming the account key it holds (Key1 or Key2): the one in use.
ACTIVE_TAG = "warden-active-key"
CONTENT_TYPE = "application/vnd.azure-openai.account-key"


@dataclass(frozen=True)
class KeyToSecret:
    """Regenerate `key_name` of the account and store it in `secret` of the vault at `vault_uri`, expiring at
    `expires` (when the key after next replaces it)."""

    kind: ClassVar[str] = "account.key-to-secret"
    order: ClassVar[int] = 25
    permissions: ClassVar[tuple[str, ...]] = (
        "Microsoft.CognitiveServices/accounts/regenerateKey/action",
        "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    )
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str  # the account
    key_name: str
    vault_uri: str
    secret: str
    expires: datetime
    etag: None = None

    def __post_init__(self) -> None:
        if self.key_name not in KEY_NAMES:
            raise ValueError(f"key name must be one of {KEY_NAMES}, got {self.key_name!r}")

    def merge(self, other: Step) -> KeyToSecret:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        secret = f"{self.vault_uri.rstrip('/')}/secrets/{self.secret}"
        # Member names avoid "key"/"secret" endings, which the audit log's redaction treats as secret values.
        return {
            "regeneratedKeyName": self.key_name,
            "secretId": secret,
            "activeKeyName": self.key_name,
            "secretExpires": self.expires.isoformat(),
        }

    def to_json(self) -> dict[str, Json]:
        out: dict[str, Json] = {"kind": self.kind, "target": self.target, "keyName": self.key_name}
        return out | {"vaultUri": self.vault_uri, "secret": self.secret, "expires": self.expires.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> KeyToSecret:
        expires = datetime.fromisoformat(str(data["expires"]))
        return cls(str(data["target"]), str(data["keyName"]), str(data["vaultUri"]), str(data["secret"]), expires)

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        value = ports.accounts.regenerate_key_value(self.target, self.key_name)
        tags = {ACTIVE_TAG: self.key_name, "warden-account": self.target}
        ports.vault_port().set_secret(
            self.vault_uri, self.secret, value, content_type=CONTENT_TYPE, expires=self.expires, tags=tags
        )
        return None

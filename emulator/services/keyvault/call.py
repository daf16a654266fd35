"""One data-plane request as the key and secret routes see it: the vault it addresses (as ARM holds it),
the world's time, and the state they read and change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.kernel.http import Request

from .errors import KeyVaultError, bad_parameter
from .policy import unix
from .state import VaultData

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


@dataclass(frozen=True)
class Call:
    """`uri` is the vault's real URI (`https://NAME.vault.azure.net`): every id answered is built on it.
    `base` is the loopback URL the client used for the vault (`https://127.0.0.1:PORT2/NAME`), for nextLink."""

    req: Request
    data: VaultData
    vault: str
    uri: str
    base: str
    recovery: Mapping[str, Any]
    now: datetime

    @property
    def unix_now(self) -> int:
        return unix(self.now)

    def body(self, *, required: bool = True) -> Mapping[str, Any]:
        """The JSON object sent, or 400 BadParameter (an absent body is {} unless `required`)."""
        if self.req.body_invalid:
            raise bad_parameter("The request body is not valid JSON.")
        if self.req.body is None and not required:
            return {}
        if not isinstance(self.req.body, Mapping):
            raise bad_parameter("The request body must be a JSON object.")
        return self.req.body


def check_name(name: str, kind: str) -> str:
    """Key Vault object names: 1-127 letters, digits and dashes (400 BadParameter otherwise)."""
    if not 1 <= len(name) <= 127 or not set(name) <= _NAME_CHARS:
        raise KeyVaultError(
            400, "BadParameter", f"The {kind} name '{name}' is invalid: use 1-127 letters, digits and dashes."
        )
    return name

"""The Key Vault side of the engine's value types: vaults, keys and their rotation policies, secrets, and
whether an identity may use a key. SDK models become these in warden/azure/, once.

A key value never travels in these types: the only carrier of one is `SecretText`, which hides it from repr,
str and formatting (docs/keyvault.md "Secrets in memory only").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

# A vault name: 3-24 characters, letters, digits and hyphens, starting with a letter (ARM's naming rules).
_VAULT_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")


def vault_name_of(vault: str) -> str:
    """The vault name of a vault URI (`https://NAME.vault.azure.net/`, any cloud's suffix) or of a bare name,
    lower-cased (vault names are unique per cloud and case-insensitive); ValueError for anything else."""
    text = vault.strip()
    name = (urlsplit(text).hostname or "").split(".")[0] if "://" in text else text
    if not _VAULT_NAME.match(name) or "--" in name:
        raise ValueError(f"{vault!r} is not a Key Vault name or URI (https://NAME.vault.azure.net/)")
    return name.lower()


@dataclass(frozen=True)
class AccessPolicy:
    """One entry of a vault's access policies (vaults without RBAC authorization): who may do what."""

    object_id: str
    keys: frozenset[str] = frozenset()  # lower-cased key permissions: get, wrapkey, unwrapkey, ...
    secrets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class VaultSnapshot:
    """A vault as ARM returns it (Microsoft.KeyVault/vaults), reduced to what the controls read."""

    resource_id: str
    name: str
    vault_uri: str
    soft_delete: bool | None
    purge_protection: bool | None
    rbac_authorization: bool | None
    access_policies: tuple[AccessPolicy, ...] = ()


@dataclass(frozen=True)
class KeyVersion:
    """The attributes of one version of a key (Key Vault's `attributes`, unix seconds made datetimes)."""

    version: str
    enabled: bool | None
    created: datetime | None
    expires: datetime | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class RotationPolicy:
    """A key's rotation policy: ISO 8601 durations (`P90D`) of its lifetime actions. `explicit` is False for
    the service's default answer (no id: nobody set one), which only notifies."""

    rotate_after_create: str | None = None
    rotate_before_expiry: str | None = None
    notify_before_expiry: str | None = None
    expiry_time: str | None = None
    explicit: bool = True


@dataclass(frozen=True)
class KeySnapshot:
    """A key: its newest version, the version an account uses (the pinned one, else the newest), and its
    rotation policy (None when it could not be read)."""

    vault_uri: str
    name: str
    latest: KeyVersion
    in_use: KeyVersion
    rotation_policy: RotationPolicy | None

    @property
    def key_id(self) -> str:
        """The versionless key id, `https://VAULT/keys/NAME`, as audit records name a key."""
        return f"{self.vault_uri.rstrip('/')}/keys/{self.name}"


@dataclass(frozen=True)
class SecretSnapshot:
    """The newest version of a secret, metadata only: its value is never read."""

    vault_uri: str
    name: str
    version: str
    enabled: bool | None
    created: datetime | None
    expires: datetime | None = None
    content_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyAccess:
    """Whether a principal may use a key for encryption (get, wrapKey, unwrapKey): `how` says what grants it,
    `missing` names the exact grant to add when nothing does."""

    granted: bool
    how: str = ""
    missing: str = ""


class SecretText:
    """A secret value (an account key) on its way from one service to another, in memory only. It never shows
    itself: repr, str and format print a placeholder, so a stray log line or exception cannot carry it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one call that stores it (a Key Vault secret)."""
        return self._value

    def __repr__(self) -> str:
        return "SecretText(<hidden>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a SecretText is never serialized")

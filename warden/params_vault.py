"""Readers of the Key Vault controls' parameters: day counts, vault and key names, which accounts need a
customer-managed key, and which secret holds an account's keys. Pure; a ParamError says what is wrong.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from warden.control import ParamError
from warden.ids import normalize_id
from warden.params import boolean
from warden.vault_model import vault_name_of

#: The longest age or warning a baseline may set: ten years (anything longer is a typo, not a policy).
MAX_DAYS = 3650
# A Key Vault object (key or secret) name: 1-127 letters, digits and hyphens.
_OBJECT_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


def whole_days(value: object, minimum: int) -> int:
    """A whole number of days, `minimum` to MAX_DAYS."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(f"expected a whole number of days, got {value!r}")
    if not minimum <= value <= MAX_DAYS:
        raise ParamError(f"{value} days is out of range; expected {minimum} to {MAX_DAYS}")
    return value


def days(value: object) -> int:
    """A whole number of days, 1 to MAX_DAYS."""
    return whole_days(value, 1)


def vault(value: object) -> str:
    """A vault name or URI (https://NAME.vault.azure.net/), as its lower-case name; "" for none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ParamError(f"expected a Key Vault name or URI, got {value!r}")
    try:
        return vault_name_of(value)
    except ValueError as exc:
        raise ParamError(str(exc)) from None


def vaults(value: object) -> tuple[str, ...]:
    """Vault names or URIs, as lower-case names."""
    if not isinstance(value, list):
        raise ParamError(f"expected a list of Key Vault names or URIs, got {value!r}")
    out: list[str] = []
    for i, item in enumerate(value):
        try:
            name = vault(item)
        except ParamError as exc:
            raise ParamError(str(exc), item=i) from None
        if not name:
            raise ParamError("a vault name must not be empty", item=i)
        out.append(name)
    return tuple(out)


def object_name(value: object) -> str:
    """A key or secret name (letters, digits, hyphens); "" for none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not _OBJECT_NAME.match(value):
        raise ParamError(f"{value!r} is not a Key Vault key or secret name (1-127 letters, digits, hyphens)")
    return value


def resource_pattern(value: object) -> str:
    """A resource-id pattern (a glob, case-insensitive), starting /subscriptions/."""
    if not isinstance(value, str) or not value.strip().lower().startswith("/subscriptions/"):
        raise ParamError(f"expected a resource-id pattern (/subscriptions/...), got {value!r}")
    return value.strip()


def required(value: object) -> bool | tuple[str, ...]:
    """true or false, or the resource-id patterns (globs, case-insensitive) of the accounts that need it."""
    if isinstance(value, list):
        out: list[str] = []
        for i, item in enumerate(value):
            try:
                out.append(resource_pattern(item))
            except ParamError as exc:
                raise ParamError(str(exc), item=i) from None
        return tuple(out)
    try:
        return boolean(value)
    except ParamError:
        raise ParamError(f"expected true, false or a list of resource-id patterns, got {value!r}") from None


@dataclass(frozen=True)
class KeySecret:
    """Where an account's keys are held: the accounts a pattern matches, a vault and a secret in it."""

    account: str  # resource-id pattern (glob, case-insensitive)
    vault: str  # vault name
    secret: str


def key_secrets(value: object) -> tuple[KeySecret, ...]:
    """A list of {account, vault, secret}: which secret holds which accounts' keys."""
    if not isinstance(value, list):
        raise ParamError(f"expected a list of {{account, vault, secret}}, got {value!r}")
    out: list[KeySecret] = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) != {"account", "vault", "secret"}:
            raise ParamError("each entry needs exactly account, vault and secret", item=i)
        try:
            mapped = KeySecret(resource_pattern(item["account"]), vault(item["vault"]), object_name(item["secret"]))
        except ParamError as exc:
            raise ParamError(str(exc), item=i) from None
        if not mapped.vault or not mapped.secret:
            raise ParamError("vault and secret must not be empty", item=i)
        out.append(mapped)
    return tuple(out)


def secret_for(secrets: tuple[KeySecret, ...], resource_id: str) -> KeySecret | None:
    """The first entry whose account pattern (a glob, case-insensitive) covers the resource."""
    key = normalize_id(resource_id)
    return next((s for s in secrets if fnmatch.fnmatchcase(key, normalize_id(s.account))), None)

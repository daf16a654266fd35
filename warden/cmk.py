"""Pure judgements the Key Vault controls share: which accounts a pattern covers, whether a key version is
stale, and whether a rotation policy rotates in time. No network, no clock: `now` is passed in.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from warden.model import AccountIdentity, AccountSnapshot, Json, normalize_id
from warden.vault_model import KeyVersion, RotationPolicy, vault_name_of

_DAYS = re.compile(r"^P(\d+)D$", re.IGNORECASE)


def covers(resource_id: str, setting: bool | Sequence[str]) -> bool:
    """Whether a `required`-style setting (true, false, or resource-id globs) covers the resource."""
    if isinstance(setting, bool):
        return setting
    key = normalize_id(resource_id)
    return any(fnmatch.fnmatchcase(key, normalize_id(p)) for p in setting)


def vault_of(uri: str | None) -> str | None:
    """The vault name of a key vault URI, or None when there is none or it is no vault URI."""
    try:
        return vault_name_of(uri) if uri else None
    except ValueError:
        return None


def cmk_principal(account: AccountSnapshot) -> tuple[str | None, str | None]:
    """(principal id, identityClientId) of the identity an account would use for its key: the system-assigned
    one, else its only user-assigned one; (None, None) when it has none to use."""
    identity = account.identity or AccountIdentity(None)
    if (system := identity.principal_for(None)) is not None:
        return system, None
    if len(identity.user_assigned) == 1:
        client_id, principal = next(iter(identity.user_assigned.items()))
        return principal, client_id
    return None, None


def staleness(version: KeyVersion, now: datetime, max_age_days: int, warning_days: int) -> list[str]:
    """Why a key version may not protect data any longer: disabled, expired, near expiry, or too old."""
    problems = []
    if version.enabled is False:
        problems.append("disabled")
    if version.expires is not None and version.expires <= now:
        problems.append(f"expired at {version.expires.isoformat()}")
    elif version.expires is not None and version.expires - now <= timedelta(days=warning_days):
        problems.append(f"expires {version.expires.isoformat()}, within {warning_days} days")
    if version.created is not None and now - version.created > timedelta(days=max_age_days):
        problems.append(f"created {version.created.isoformat()}, older than {max_age_days} days")
    return problems


def duration_days(text: str | None) -> int | None:
    """Whole days of an ISO 8601 duration of days (`P90D`); None for anything else (months, hours)."""
    match = _DAYS.match(text or "")
    return int(match.group(1)) if match else None


def rotates_in_time(policy: RotationPolicy | None, max_age_days: int) -> bool:
    """Whether Key Vault itself rotates the key by `max_age_days` after each version is created."""
    if policy is None or not policy.explicit:
        return False
    after = duration_days(policy.rotate_after_create)
    return after is not None and after <= max_age_days


def describe_policy(policy: RotationPolicy | None) -> str:
    if policy is None or not policy.explicit:
        return "none (Key Vault's default: notify only)"
    parts = [f"rotate after {policy.rotate_after_create}" if policy.rotate_after_create else "no rotate action"]
    if policy.expiry_time:
        parts.append(f"expire after {policy.expiry_time}")
    return ", ".join(parts)


def version_facts(version: KeyVersion) -> dict[str, Json]:
    """A key version as observed values in an audit record (no key material: there is none in a snapshot)."""
    return {
        "version": version.version,
        "enabled": version.enabled,
        "created": version.created.isoformat() if version.created else None,
        "expires": version.expires.isoformat() if version.expires else None,
    }

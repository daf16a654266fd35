"""A Key Vault tenant for the integration tests: a vault, a CMK, accounts that use it, and what to count."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, account_id, key_version, vault, vault_id
from tests.integration.conftest import World
from warden.model import Mode, Trigger
from warden.sweep import SweepReport, sweep

T0 = datetime(2026, 12, 1, tzinfo=UTC)
VAULT = "kv-cmk"
VAULT_ID = vault_id(VAULT)
VAULT_URI = f"https://{VAULT}.vault.azure.net/"
KEY = "aoai-cmk"
V1 = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
PRINCIPAL = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
WRITES = ("PUT", "PATCH", "POST", "DELETE")
CRYPTO_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


def cmk_account(name: str, *, version: str | None = V1, vault_name: str = VAULT, **props: Any) -> dict[str, Any]:
    """An OpenAI account, closed to the network, with a system identity, encrypted with KEY (pinned to
    `version`; None: versionless)."""
    kv_props: dict[str, Any] = {"keyName": KEY, "keyVaultUri": f"https://{vault_name}.vault.azure.net/"}
    if version:
        kv_props["keyVersion"] = version
    found = account(
        name,
        publicNetworkAccess="Disabled",
        encryption={"keySource": "Microsoft.KeyVault", "keyVaultProperties": kv_props},
        **props,
    )
    found["identity"] = {"type": "SystemAssigned", "principalId": PRINCIPAL, "tenantId": "t"}
    return found


def plain_account(name: str, **props: Any) -> dict[str, Any]:
    found = account(name, publicNetworkAccess="Disabled", **props)
    found["identity"] = {"type": "SystemAssigned", "principalId": PRINCIPAL, "tenantId": "t"}
    return found


def key_sections(age_days: float, *, policy: dict[str, Any] | None = None, **attributes: Any) -> dict[str, Any]:
    """KEY with one version V1 created `age_days` before T0, the clock pinned at T0."""
    entry: dict[str, Any] = {"versions": [key_version(VAULT, KEY, V1, T0 - timedelta(days=age_days), **attributes)]}
    if policy is not None:
        entry["rotationPolicy"] = policy
    return {"clock": {"now": T0.isoformat()}, "vaultKeys": {VAULT: {KEY: entry}}}


def rotation_policy(days: int) -> dict[str, Any]:
    """A rotation policy as Key Vault returns one that was set (its id names it; the default answer has none)."""
    return {
        "id": f"{VAULT_URI}keys/{KEY}/rotationpolicy",
        "lifetimeActions": [
            {"trigger": {"timeAfterCreate": f"P{days}D"}, "action": {"type": "Rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}},
        ],
        "attributes": {"expiryTime": f"P{days + 60}D"},
    }


def role_assignment(scope: str, role: str = CRYPTO_USER, principal: str = PRINCIPAL) -> dict[str, Any]:
    name = "7c1f0a52-3b9d-4e8a-a6f1-2d4c8b0e9f13"
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "scope": scope,
        },
    }


def protected_vault(**props: Any) -> dict[str, Any]:
    return vault(VAULT, **({"enablePurgeProtection": True} | props))


def writes(world: World) -> list[tuple[str, str]]:
    """Every change request, ARM and Key Vault alike, as (method, lower-case path)."""
    return [(r.method, r.path.lower()) for r in world.requests() if r.method in WRITES]


def dry_sweep(world: World) -> SweepReport:
    """A sweep in dry-run (changes nothing; indexes every account's CMK, as an earlier sweep would have)."""
    return sweep(dataclasses.replace(world.runtime, mode_override=Mode.DRY_RUN), Trigger.SWEEP)


def records(world: World, control: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [r for r in world.audit() if r.get("controlId") == control and (kind is None or r["kind"] == kind)]


__all__ = ["SUB", "account_id"]

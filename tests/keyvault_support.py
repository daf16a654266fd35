"""Helpers for the Key Vault tests: vault scenarios and the real SDK clients (KeyClient, SecretClient,
KeyVaultManagementClient) pointed at the emulator, with quick retries so fault tests stay fast."""

from __future__ import annotations

from typing import Any

from azure.keyvault.keys import KeyClient
from azure.keyvault.keys._shared import http_challenge_cache as key_challenges
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets._shared import http_challenge_cache as secret_challenges
from azure.mgmt.keyvault import KeyVaultManagementClient

from emulator import Emulator
from emulator.builders import SUBSCRIPTION, vault, vault_id
from warden.azure.credentials import StaticTokenCredential

SUB = SUBSCRIPTION
OTHER_SUB = "99999999-1111-2222-3333-444444444444"
RG = "ai-prod"
VAULT = "kv-cmk"
NOW = "2026-12-01T00:00:00Z"
NOW_UNIX = 1796083200  # NOW in unix seconds
QUICK = {"retry_backoff_factor": 0.01, "retry_backoff_max": 1, "retry_total": 3}


def scenario(*vaults: dict[str, Any], **sections: Any) -> dict[str, Any]:
    """Vaults (default: one, kv-cmk) at a fixed instant, plus any data-plane sections."""
    return {"resources": list(vaults or (vault(VAULT),)), "clock": {"now": NOW}, **sections}


def key_client(emu: Emulator, name: str = VAULT, **options: Any) -> KeyClient:
    return KeyClient(
        emu.vault_url(name),
        StaticTokenCredential(),
        verify_challenge_resource=False,
        connection_verify=emu.ca_path,
        **{**QUICK, **options},
    )


def secret_client(emu: Emulator, name: str = VAULT, **options: Any) -> SecretClient:
    return SecretClient(
        emu.vault_url(name),
        StaticTokenCredential(),
        verify_challenge_resource=False,
        connection_verify=emu.ca_path,
        **{**QUICK, **options},
    )


def mgmt_client(emu: Emulator, sub: str = SUB) -> KeyVaultManagementClient:
    return KeyVaultManagementClient(
        StaticTokenCredential(), sub, base_url=emu.endpoint, connection_verify=emu.ca_path, **QUICK
    )


def forget_challenges() -> None:
    """Drop the SDKs' process-wide challenge caches, so the next client's first request is challenged (ports
    are reused across tests, and a cached challenge would skip the 401)."""
    key_challenges.clear()
    secret_challenges.clear()


def vault_calls(emu: Emulator) -> list[tuple[str, str, int]]:
    """(method, path, status) of every data-plane request, in order."""
    return [(r.method, r.path, r.status) for r in emu.requests if r.kind == "keyvault"]


__all__ = ["OTHER_SUB", "RG", "SUB", "VAULT", "vault", "vault_id"]

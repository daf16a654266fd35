"""Key Vault: vaults on the ARM plane (Microsoft.KeyVault/vaults, `provider`) and the vaults' data plane
(keys, rotation policies, secrets: `KeyVaultPlane`), served on a port of its own where the first path
segment names the vault: `https://HOST:PORT2/{vault}/keys/...` (docs/emulator.md "Key Vault")."""

from __future__ import annotations

from .plane import KeyVaultPlane
from .vaults import provider
from .versions import LISTENER

__all__ = ["LISTENER", "KeyVaultPlane", "provider"]

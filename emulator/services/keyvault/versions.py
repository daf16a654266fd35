"""The api-versions Key Vault accepts, on the ARM plane (Microsoft.KeyVault/vaults) and on the data plane.

ARM: 2026-05-15 is azure-mgmt-keyvault 14.1.0's default; 2025-05-01 is the version of the vendored upstream
example (tests/fixtures/reference/keyvault/resource-manager/); the older ones are what earlier SDK majors and
templates send. Data plane: 2025-07-01 is azure-keyvault-keys 4.11.3's default, 2026-04-01
azure-keyvault-secrets 4.12.0's (both SDKs' `_shared/client_base.py`), 7.4 to 7.6 the versions before them.
"""

from __future__ import annotations

NAMESPACE = "Microsoft.KeyVault"
VAULT_TYPE = f"{NAMESPACE}/vaults"
MGMT_API_VERSIONS = (
    "2026-05-15",
    "2025-05-01",
    "2024-11-01",
    "2024-04-01-preview",
    "2023-07-01",
    "2023-02-01",
    "2022-07-01",
    "2021-10-01",
    "2019-09-01",
)
DATA_API_VERSIONS = ("2026-04-01", "2025-07-01", "7.6", "7.5", "7.4")
#: The name of the data plane's own port (Request.listener, and the request log's `kind`).
LISTENER = "keyvault"
#: Where a vault is reached in Azure; ids in responses (kid, secret id) use it, never the loopback URL.
VAULT_DNS_SUFFIX = ".vault.azure.net"
LOCATIONS = ("eastus", "eastus2", "westus", "westus2", "northeurope", "westeurope", "swedencentral", "uksouth")

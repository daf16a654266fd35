"""Microsoft.Storage's names, api-versions and the route templates of its blob service.

2026-09-01 is what azure-mgmt-storage 25.3.0 sends; 2023-05-01 is infra's (infra/app/) and the swagger
read for the immutability policy's behaviour (docs/emulator.md, "Storage (management)").
"""

from __future__ import annotations

NAMESPACE = "Microsoft.Storage"
ACCOUNTS_TYPE = f"{NAMESPACE}/storageAccounts"
BLOB_SERVICES_TYPE = f"{ACCOUNTS_TYPE}/blobServices"
CONTAINERS_TYPE = f"{BLOB_SERVICES_TYPE}/containers"
POLICIES_TYPE = f"{CONTAINERS_TYPE}/immutabilityPolicies"
VERSIONS = (
    "2026-09-01",
    "2025-08-01",
    "2025-06-01",
    "2025-01-01",
    "2024-01-01",
    "2023-05-01",
    "2023-01-01",
    "2022-09-01",
)
ACCOUNT_PATH = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.storage/storageaccounts/{account}"
BLOB_SERVICES_PATH = f"{ACCOUNT_PATH}/blobservices"
BLOB_SERVICE_PATH = f"{BLOB_SERVICES_PATH}/{{service}}"
CONTAINERS_PATH = f"{BLOB_SERVICE_PATH}/containers"
CONTAINER_PATH = f"{CONTAINERS_PATH}/{{container}}"
POLICY_PATH = f"{CONTAINER_PATH}/immutabilitypolicies/{{policy}}"

"""warden's identity's rights, derived from the controls' declarations: the custom role's actions and data actions,
which control needs each, and the built-in roles the runtime itself needs on its own resources (docs/deploy.md).

Pure data: infra/permissions.json is generated from here (warden/infra_files.py) and `warden permissions` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from detectors import CONTROLS
from warden.registry import PERMISSIONS

#: Operations served by a data plane rather than Resource Manager: Azure RBAC lists them under `dataActions`. Key
#: Vault keys, rotation policies and secrets are read and changed through the vault's own endpoint (docs/keyvault.md),
#: fine-tuning files through the account's Azure OpenAI endpoint (docs/ai.md "Permissions").
DATA_PLANE_PREFIXES: tuple[str, ...] = (
    "Microsoft.CognitiveServices/accounts/OpenAI/",
    "Microsoft.KeyVault/vaults/keys/",
    "Microsoft.KeyVault/vaults/keyrotationpolicies/",
    "Microsoft.KeyVault/vaults/secrets/",
)


def is_data_action(permission: str) -> bool:
    """Whether a permission is a data action (granted under `dataActions`, not `actions`)."""
    return permission.startswith(DATA_PLANE_PREFIXES)


def needed_by() -> Mapping[str, tuple[str, ...]]:
    """Each permission -> the ids of the controls that need it (DESIGN order)."""
    return {p: tuple(c.id for c in CONTROLS if p in c.permissions) for p in sorted(PERMISSIONS)}


ACTIONS: tuple[str, ...] = tuple(sorted(p for p in PERMISSIONS if not is_data_action(p)))
DATA_ACTIONS: tuple[str, ...] = tuple(sorted(p for p in PERMISSIONS if is_data_action(p)))


@dataclass(frozen=True)
class BuiltInRole:
    """A built-in role the runtime needs on one of warden's own resources, and why."""

    name: str
    id: str  # the role definition's GUID, the same in every tenant
    why: str


#: On warden's storage account only: the Functions host's own storage (AzureWebJobsStorage: timer leases, the
#: deployment package), the audit log's append blobs and the state blobs (docs/state.md, docs/audit.md).
STORAGE_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "Storage Blob Data Owner",
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "the Functions host's storage by identity (AzureWebJobsStorage, the deployment package), the audit log and "
        "the state blobs",
    ),
    BuiltInRole(
        "Storage Queue Data Contributor",
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "the sweep's fan-out queue and its poison queue (WARDEN_SWEEP_QUEUE, docs/scale.md)",
    ),
)

#: On warden's Application Insights only: it accepts telemetry from Entra identities only (local auth disabled).
APP_INSIGHTS_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "Monitoring Metrics Publisher",
        "3913510d-42f4-4e42-8a64-420c390055eb",
        "sending logs and metrics to Application Insights with the managed identity",
    ),
)

#: On warden's notification topic only, when one is deployed (docs/notifications.md): it accepts Entra identities
#: only (local auth disabled).
EVENT_GRID_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "EventGrid Data Sender",
        "d5a91429-5739-47e2-a06b-3470a27159e7",
        "publishing notifications (remediations, needs-human cases, failures) to warden's Event Grid topic",
    ),
)

ROLE_NAME = "warden remediator"
ROLE_DESCRIPTION = (
    "What warden's controls need to detect and fix drift of Azure OpenAI accounts, and nothing else: generated from "
    "the controls' declarations (python -m warden permissions)."
)

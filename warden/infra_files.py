"""The files in infra/ that are generated from the controls' declarations: the custom role and runtime roles
(infra/permissions.json) and the Event Grid filters (infra/event-filters.json). The Bicep reads both with
loadJsonContent; `python -m warden infra-files` (and tests/infra/) fails when either is stale.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from detectors import CONTROLS
from warden import permissions
from warden.model import Json
from warden.routing import RELEVANT_EVENT_TYPES

GENERATED_BY = "python -m warden infra-files --write"
#: Event Grid accepts at most 25 advanced-filter values per event subscription (docs/deploy.md "What reaches the
#: function"): the operations are split over as many subscriptions as needed.
MAX_FILTER_VALUES = 25
#: A subscription's system topic publishes Resource Manager events (types under this prefix, filtered on their
#: operation); a vault's system topic publishes Key Vault events, whose type is their operation (docs/events.md).
_ARM_EVENT_PREFIX = "Microsoft.Resources."
_KEY_VAULT_EVENT_PREFIX = "Microsoft.KeyVault."


def _roles(roles: tuple[permissions.BuiltInRole, ...]) -> list[Json]:
    return [{"role": r.name, "id": r.id, "why": r.why} for r in roles]


def permissions_document() -> dict[str, Json]:
    """infra/permissions.json: the custom role (exactly the controls' union) and the runtime's built-in roles."""
    return {
        "_generated": f"{GENERATED_BY} (from the controls' declarations; see python -m warden permissions)",
        "customRole": {
            "roleName": permissions.ROLE_NAME,
            "description": permissions.ROLE_DESCRIPTION,
            "actions": list(permissions.ACTIONS),
            "dataActions": list(permissions.DATA_ACTIONS),
        },
        "storageRoles": _roles(permissions.STORAGE_ROLES),
        "appInsightsRoles": _roles(permissions.APP_INSIGHTS_ROLES),
        "eventGridRoles": _roles(permissions.EVENT_GRID_ROLES),
    }


def event_filters_document() -> dict[str, Json]:
    """infra/event-filters.json: per subscription system topic, event subscriptions whose event types and
    `data.operationName` values are exactly what some control routes; the Key Vault event types for vault topics."""
    event_types = sorted(t for t in RELEVANT_EVENT_TYPES if t.startswith(_ARM_EVENT_PREFIX))
    operations = sorted({r.operation for c in CONTROLS for r in c.routes if r.event_type.startswith(_ARM_EVENT_PREFIX)})
    chunks = [operations[i : i + MAX_FILTER_VALUES] for i in range(0, len(operations), MAX_FILTER_VALUES)]
    return {
        "_generated": f"{GENERATED_BY} (from the controls' routes, warden/routing.py)",
        "subscriptionEvents": [
            {"name": f"warden-arm-{n}", "includedEventTypes": event_types, "operationNames": chunk}
            for n, chunk in enumerate(chunks, start=1)
        ],
        "keyVaultEventTypes": sorted(t for t in RELEVANT_EVENT_TYPES if t.startswith(_KEY_VAULT_EVENT_PREFIX)),
    }


def documents() -> Mapping[str, dict[str, Json]]:
    """File name under infra/ -> its content."""
    return {"permissions.json": permissions_document(), "event-filters.json": event_filters_document()}


def render(document: Mapping[str, Json]) -> str:
    return json.dumps(document, indent=2) + "\n"


def _outdated(infra: Path) -> list[tuple[Path, str]]:
    """(path, wanted text) of each generated file under `infra` that is missing or differs from the declarations."""
    wanted = ((infra / name, render(document)) for name, document in documents().items())
    return [(path, text) for path, text in wanted if not path.is_file() or path.read_text(encoding="utf-8") != text]


def stale(infra: Path) -> list[str]:
    """The generated files under `infra` that are missing or differ from what the declarations give."""
    return [str(path) for path, _ in _outdated(infra)]


def write(infra: Path) -> list[str]:
    """Rewrite the generated files that are stale; the paths written."""
    outdated = _outdated(infra)
    for path, text in outdated:
        path.write_text(text, encoding="utf-8")
    return [str(path) for path, _ in outdated]

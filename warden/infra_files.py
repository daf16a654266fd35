"""The files in infra/ that are generated from the controls' declarations: the custom role and runtime roles
(infra/permissions.json) and the Event Grid filters (infra/event-filters.json). The Bicep reads both with
loadJsonContent; `python -m warden infra-files --check` (and tests/infra/) fails when either is stale.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from detectors import CONTROLS
from warden import permissions
from warden.model import Json

GENERATED_BY = "python -m warden infra-files --write"
#: Event Grid accepts at most 25 advanced-filter values per event subscription (docs/deploy.md "Event Grid"): the
#: operations are split over as many subscriptions as needed.
MAX_FILTER_VALUES = 25
#: The Event Grid system topic of a subscription publishes Resource Manager events of these types; a Key Vault
#: event's type is its operation (docs/events.md "Key Vault events").
_ARM_EVENT_PREFIX = "Microsoft.Resources."


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
    }


def _arm_routes() -> tuple[list[str], list[str]]:
    """The ARM event types and operation names the controls route (docs/events.md), sorted."""
    routes = [r for c in CONTROLS for r in c.routes if r.event_type.startswith(_ARM_EVENT_PREFIX)]
    return sorted({r.event_type for r in routes}), sorted({r.operation for r in routes})


def event_filters_document() -> dict[str, Json]:
    """infra/event-filters.json: per subscription system topic, event subscriptions whose event types and
    `data.operationName` values are exactly what some control routes; the Key Vault event types for vault topics."""
    event_types, operations = _arm_routes()
    chunks = [operations[i : i + MAX_FILTER_VALUES] for i in range(0, len(operations), MAX_FILTER_VALUES)]
    key_vault = sorted(
        {r.event_type for c in CONTROLS for r in c.routes if r.event_type.startswith("Microsoft.KeyVault.")}
    )
    return {
        "_generated": f"{GENERATED_BY} (from the controls' routes, warden/routing.py)",
        "subscriptionEvents": [
            {"name": f"warden-arm-{n}", "includedEventTypes": list(event_types), "operationNames": list(chunk)}
            for n, chunk in enumerate(chunks, start=1)
        ],
        "keyVaultEventTypes": list(key_vault),
    }


def documents() -> Mapping[str, dict[str, Json]]:
    """File name under infra/ -> its content."""
    return {"permissions.json": permissions_document(), "event-filters.json": event_filters_document()}


def render(document: Mapping[str, Json]) -> str:
    return json.dumps(document, indent=2) + "\n"


def stale(infra: Path) -> list[str]:
    """The generated files under `infra` that are missing or differ from what the declarations give."""
    out = []
    for name, document in documents().items():
        path = infra / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(document):
            out.append(str(path))
    return out


def write(infra: Path) -> list[str]:
    """Rewrite the generated files that are stale; the paths written."""
    written = stale(infra)
    for name, document in documents().items():
        if str(infra / name) in written:
            (infra / name).write_text(render(document), encoding="utf-8")
    return written

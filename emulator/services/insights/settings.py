"""Diagnostic settings of a resource: list, GET, PUT, DELETE at every target shape `scopes.TARGET_TEMPLATES`
spells out, and the categories routes.

The target must be in the store. A PUT is validated against the 2021-05-01-preview DiagnosticSettingsResource,
checked by rules.py under the store's lock, and answered 200 with the setting as the upstream examples show it
(lower-case `microsoft.insights` in its id, the request's properties); not long-running, no etag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.arm import ids, resources
from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.store import resource_type
from emulator.arm.types import Params, Resource, ResourceType, Route
from emulator.kernel.http import Reply, Request

from . import rules
from .categories import Catalog
from .errors import InsightsError, setting_not_found, target_not_found
from .scopes import path_id, target_of, templates
from .versions import SETTINGS_TYPE, VERSIONS, settings_schema

_SETTINGS = "providers/microsoft.insights/diagnosticsettings"
_CATEGORIES = "providers/microsoft.insights/diagnosticsettingscategories"

SETTINGS = ResourceType(
    type=SETTINGS_TYPE,
    api_versions=VERSIONS,
    swagger=settings_schema,
    definition="DiagnosticSettingsResource",
    methods=frozenset({"GET", "PUT", "DELETE"}),
    create_only=(),
    extension=True,
)


def routes() -> tuple[Route, ...]:
    one = {"GET": get, "PUT": put, "DELETE": delete}
    return (
        *(Route(t, {"GET": listing}, VERSIONS) for t in templates(_SETTINGS)),
        *(Route(t, one, VERSIONS) for t in templates(_SETTINGS + "/{name}")),
        *(Route(t, {"GET": list_categories}, VERSIONS) for t in templates(_CATEGORIES)),
        *(Route(t, {"GET": get_category}, VERSIONS) for t in templates(_CATEGORIES + "/{name}")),
    )


def _target(arm: Arm, req: Request) -> Resource:
    """The resource the request's settings belong to; 404 when the store does not hold it."""
    target_id = target_of(req.path)
    found = arm.store.get(target_id)
    if found is None:
        raise target_not_found(target_id)
    return found


def _catalog(target: Mapping[str, Any]) -> tuple[Catalog, str]:
    kind = resource_type(target)
    return Catalog.for_type(kind), kind


def _settings_of(arm: Arm, target_id: str) -> list[Resource]:
    return arm.store.of_type(SETTINGS_TYPE, target_id, exact_scope=True)


def listing(arm: Arm, req: Request, p: Params) -> Reply:
    """`{"value": [...]}`, never paged (DiagnosticSettings_List declares `nextLinkName: null`)."""
    _target(arm, req)
    return Reply(200, {"value": _settings_of(arm, target_of(req.path))})


def get(arm: Arm, req: Request, p: Params) -> Reply:
    _target(arm, req)
    found = arm.store.get(path_id(req.path))
    if found is None:
        raise setting_not_found(p["name"])
    return Reply(200, found)


def delete(arm: Arm, req: Request, p: Params) -> Reply:
    """200 when a setting was deleted, 204 when there was none (DiagnosticSettings_Delete); no body either way."""
    _target(arm, req)
    return Reply(200) if arm.store.delete(path_id(req.path)) is not None else Reply(204)


def put(arm: Arm, req: Request, p: Params) -> Reply:
    target = _target(arm, req)
    catalog, kind = _catalog(target)
    try:
        body = resources.body_for(SETTINGS, req)
    except ArmError as err:
        raise InsightsError.of(err) from None
    given = body.get("properties")
    props: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}
    rules.check_categories(catalog, kind, props)
    rid, target_id = path_id(req.path), target_of(req.path)

    def build(existing: Resource | None) -> Resource:
        # Checked under the store's lock, so two concurrent PUTs cannot both take the fifth place or one sink.
        others = [s for s in _settings_of(arm, target_id) if ids.key(str(s["id"])) != ids.key(rid)]
        if existing is None:
            rules.check_limit(others, str(target["id"]))
        rules.check_sinks(catalog, others, props)
        return {
            "id": str(existing["id"])
            if existing
            else f"{target_id}/providers/microsoft.insights/diagnosticSettings/{p['name']}",
            "type": SETTINGS_TYPE,
            "name": str(existing["name"]) if existing else p["name"],
            "properties": props,
        }

    stored, _ = arm.store.replace(rid, build)
    return Reply(200, stored)


def list_categories(arm: Arm, req: Request, p: Params) -> Reply:
    """The target type's categories from the table (none for a type it has no row for)."""
    target = _target(arm, req)
    catalog, _ = _catalog(target)
    target_id = target_of(req.path)
    return Reply(200, {"value": [c.resource(target_id) for c in catalog.categories]})


def get_category(arm: Arm, req: Request, p: Params) -> Reply:
    target = _target(arm, req)
    catalog, _ = _catalog(target)
    found = catalog.find(p["name"])
    if found is None:
        raise InsightsError(404, "ResourceNotFound", f"The diagnostic settings category '{p['name']}' does not exist.")
    return Reply(200, found.resource(target_of(req.path)))

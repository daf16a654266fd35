"""Storage accounts (top level, created as a long-running PUT) and their one blob service, `default`, which every
account has: GET answers a default one until a PUT stores it, so a scenario need not seed it."""

from __future__ import annotations

from emulator.arm import resources
from emulator.arm.errors import resource_not_found
from emulator.arm.plane import Arm
from emulator.arm.types import Hooks, Params, Resource, ResourceType, Route
from emulator.kernel.http import Reply, Request

from .versions import ACCOUNT_PATH, ACCOUNTS_TYPE, BLOB_SERVICE_PATH, BLOB_SERVICES_PATH, BLOB_SERVICES_TYPE, VERSIONS


def _account_created(arm: Arm, resource: Resource) -> Resource:
    """What the RP adds: provisioningState, the creation time and the service endpoints."""
    name = str(resource["name"]).lower()
    props = dict(resource.get("properties") or {})
    props["provisioningState"] = "Succeeded"
    props.setdefault("creationTime", arm.world.clock.now().strftime("%Y-%m-%dT%H:%M:%S.0000000Z"))
    props.setdefault(
        "primaryEndpoints",
        {kind: f"https://{name}.{kind}.core.windows.net/" for kind in ("blob", "queue", "table", "file", "dfs")},
    )
    return {**resource, "properties": props}


ACCOUNTS = ResourceType(
    type=ACCOUNTS_TYPE,
    api_versions=VERSIONS,
    long_running=frozenset({"PUT"}),
    requires_location=True,
    hooks=Hooks(created=_account_created),
)
BLOB_SERVICES = ResourceType(
    type=BLOB_SERVICES_TYPE, api_versions=VERSIONS, methods=frozenset({"GET", "PUT"}), create_only=()
)


def account_id(p: Params) -> str:
    return f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{ACCOUNTS_TYPE}/{p['account']}"


def account(arm: Arm, p: Params) -> Resource:
    """The stored account the request names (its stored casing); 404 ResourceNotFound when there is none."""
    found = arm.store.get(account_id(p))
    if found is None:
        raise resource_not_found(account_id(p))
    return found


def default_service(account_resource: Resource) -> Resource:
    """The blob service an account has before anyone sets its properties."""
    return {
        "id": f"{account_resource['id']}/blobServices/default",
        "name": "default",
        "type": BLOB_SERVICES_TYPE,
        "properties": {"cors": {"corsRules": []}, "deleteRetentionPolicy": {"enabled": False}},
    }


def blob_service(arm: Arm, p: Params) -> Resource:
    """The account's blob service: the stored one, or the default; 404 for the account or another name."""
    owner = account(arm, p)
    service_id = f"{owner['id']}/blobServices/{p['service']}"
    if p["service"].lower() != "default":
        raise resource_not_found(service_id)
    return arm.store.get(service_id) or default_service(owner)


def ensure_service(arm: Arm, p: Params) -> Resource:
    """The blob service, stored if it was only the default, so children can be written under it."""
    service = blob_service(arm, p)
    if arm.store.get(str(service["id"])) is None:
        arm.store.put(service)
    return service


def _get_service(arm: Arm, req: Request, p: Params) -> Reply:
    return Reply(200, blob_service(arm, p))


def _put_service(arm: Arm, req: Request, p: Params) -> Reply:
    service = ensure_service(arm, p)
    return resources.write(arm, BLOB_SERVICES, req, str(service["id"]))


def _list_services(arm: Arm, req: Request, p: Params) -> Reply:
    """`{"value": [the default service]}`: one per account, not paged (BlobServices_List)."""
    return Reply(200, {"value": [blob_service(arm, {**p, "service": "default"})]})


def _account(arm: Arm, req: Request, p: Params) -> Reply:
    """The generic resource handlers, except that a create answers 200, not 201: StorageAccounts_Create declares
    only 200 and 202, and azure-mgmt-storage raises on a 201."""
    handler = {"GET": resources.get, "HEAD": resources.head, "PUT": resources.write, "PATCH": resources.write}.get(
        req.method.upper(), resources.delete
    )
    reply = handler(arm, ACCOUNTS, req, account_id(p))
    if reply.status == 201:
        reply.status = 200
    return reply


def service_routes() -> tuple[Route, ...]:
    methods = dict.fromkeys(("GET", "HEAD", "PUT", "PATCH", "DELETE"), _account)
    return (
        Route(ACCOUNT_PATH, methods, VERSIONS),
        Route(BLOB_SERVICES_PATH, {"GET": _list_services}, VERSIONS),
        Route(BLOB_SERVICE_PATH, {"GET": _get_service, "PUT": _put_service}, VERSIONS),
    )

"""Blob containers under an account's `default` blob service: GET, PUT, PATCH, DELETE and the list, each answered
with `hasImmutabilityPolicy` and `immutabilityPolicy` (period, state, etag) from the container's stored
immutability policy (policies.py), as the RP shows them."""

from __future__ import annotations

from typing import Any

from emulator.arm import resources
from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.types import Params, Resource, ResourceType, Route
from emulator.kernel.http import Reply, Request

from .accounts import blob_service, ensure_service
from .versions import CONTAINER_PATH, CONTAINERS_PATH, CONTAINERS_TYPE, VERSIONS

CONTAINERS = ResourceType(type=CONTAINERS_TYPE, api_versions=VERSIONS, create_only=())
_POLICY_KEYS = (
    "immutabilityPeriodSinceCreationInDays",
    "state",
    "allowProtectedAppendWrites",
    "allowProtectedAppendWritesAll",
)


def container_not_found() -> ArmError:
    return ArmError(404, "ContainerNotFound", "The specified container does not exist.")


def policy_id(container_id: str) -> str:
    return f"{container_id}/immutabilityPolicies/default"


def container(arm: Arm, p: Params) -> Resource:
    """The stored container the request names; 404 for its account, its service or itself."""
    service = blob_service(arm, p)
    found = arm.store.get(f"{service['id']}/containers/{p['container']}")
    if found is None:
        raise container_not_found()
    return found


def with_policy(arm: Arm, resource: Any) -> Any:
    """A container as the RP answers it: `hasImmutabilityPolicy`, and `immutabilityPolicy` when there is one."""
    if not isinstance(resource, dict) or "id" not in resource:
        return resource
    props = dict(resource.get("properties") or {})
    policy = arm.store.get(policy_id(str(resource["id"])))
    props["hasImmutabilityPolicy"] = policy is not None
    props.pop("immutabilityPolicy", None)
    if policy is not None:
        given = policy.get("properties") or {}
        props["immutabilityPolicy"] = {
            "etag": policy.get("etag"),
            "properties": {k: given[k] for k in _POLICY_KEYS if k in given},
        }
    return {**resource, "properties": props}


def _get(arm: Arm, req: Request, p: Params) -> Reply:
    return Reply(200, with_policy(arm, container(arm, p)))


def _write(arm: Arm, req: Request, p: Params) -> Reply:
    """PUT (create or replace) or PATCH; the blob service is stored first if it was only the default."""
    service = ensure_service(arm, p)
    reply = resources.write(arm, CONTAINERS, req, f"{service['id']}/containers/{p['container']}")
    reply.body = with_policy(arm, reply.body)
    return reply


def _delete(arm: Arm, req: Request, p: Params) -> Reply:
    """200 when deleted (its policy goes with it), 204 when there was none."""
    service = blob_service(arm, p)
    return Reply(200) if arm.store.delete(f"{service['id']}/containers/{p['container']}") else Reply(204)


def _list(arm: Arm, req: Request, p: Params) -> Reply:
    service = blob_service(arm, p)
    found = arm.store.of_type(CONTAINERS_TYPE, str(service["id"]))
    return arm.page(req, [with_policy(arm, c) for c in found])


def container_routes() -> tuple[Route, ...]:
    one = {"GET": _get, "PUT": _write, "PATCH": _write, "DELETE": _delete}
    return (Route(CONTAINERS_PATH, {"GET": _list}, VERSIONS), Route(CONTAINER_PATH, one, VERSIONS))

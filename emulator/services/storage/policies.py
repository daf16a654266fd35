"""A blob container's immutability policy (`.../containers/{c}/immutabilityPolicies/default`): GET, PUT (creates
or updates an Unlocked policy), DELETE (aborts an Unlocked one) and `POST .../lock`, with the etag rules of the
2023-05-01 swagger (If-Match honoured on PUT, required on DELETE and lock).

A container with no policy: the swagger declares only a 200 for GET, and ARM answers 200 with a policy in state
`Deleted` and period 0 (what a DELETE leaves, per the swagger's DeleteImmutabilityPolicy description); the emulator
does the same (docs/emulator.md, "Storage (management)"). Codes for refused transitions are the emulator's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.arm.errors import ArmError
from emulator.arm.merge import new_etag
from emulator.arm.plane import Arm
from emulator.arm.types import Params, Resource, Route
from emulator.kernel.http import Reply, Request

from .containers import container, policy_id
from .versions import POLICIES_TYPE, POLICY_PATH, VERSIONS

#: The etag of the `Deleted` placeholder answered for a container with no policy (constant: nothing changes).
ABSENT_ETAG = '"8d0000000000000"'
MAX_DAYS = 146000
_CODE = "ContainerImmutabilityPolicyFailure"


def _placeholder(container_id: str) -> Resource:
    return {
        "id": policy_id(container_id),
        "name": "default",
        "type": POLICIES_TYPE,
        "etag": ABSENT_ETAG,
        "properties": {"immutabilityPeriodSinceCreationInDays": 0, "state": "Deleted"},
    }


def _reply(resource: Resource) -> Reply:
    return Reply(200, resource, {"ETag": str(resource["etag"])})


def _wrong_state() -> ArmError:
    return ArmError(409, _CODE, "Operation not allowed on immutability policy in current state.")


def _check_etag(wanted: str | None, current: Mapping[str, Any], *, required: bool) -> None:
    """412 for an If-Match that is not the policy's etag (`*` matches any); 400 when a required one is missing."""
    if not wanted:
        if required:
            raise ArmError(400, _CODE, "The If-Match header is required for this operation on an immutability policy.")
        return
    if wanted != "*" and wanted != current.get("etag"):
        raise ArmError(412, _CODE, "Operation not allowed on immutability policy with incorrect etag.")


def _policy(arm: Arm, p: Params) -> tuple[str, Resource | None]:
    if p["policy"].lower() != "default":
        raise ArmError(400, "InvalidResourceName", f"The immutability policy name '{p['policy']}' must be 'default'.")
    owner = str(container(arm, p)["id"])
    return owner, arm.store.get(policy_id(owner))


def _get(arm: Arm, req: Request, p: Params) -> Reply:
    owner, found = _policy(arm, p)
    return _reply(found or _placeholder(owner))


def _requested(req: Request) -> dict[str, Any]:
    """The writable properties of a PUT body (which may be absent): the period and the append-write switches."""
    body = req.body if isinstance(req.body, Mapping) else {}
    given = body.get("properties")
    props = dict(given) if isinstance(given, Mapping) else {}
    days = props.get("immutabilityPeriodSinceCreationInDays")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"properties.immutabilityPeriodSinceCreationInDays must be an integer from 1 to {MAX_DAYS}.",
        )
    if props.get("allowProtectedAppendWrites") is True and props.get("allowProtectedAppendWritesAll") is True:
        raise ArmError(
            400, "InvalidRequestContent", "allowProtectedAppendWrites and allowProtectedAppendWritesAll are exclusive."
        )
    keep = ("allowProtectedAppendWrites", "allowProtectedAppendWritesAll")
    return {
        "immutabilityPeriodSinceCreationInDays": days,
        **{k: props[k] for k in keep if isinstance(props.get(k), bool)},
    }


def _put(arm: Arm, req: Request, p: Params) -> Reply:
    owner, _ = _policy(arm, p)
    props = _requested(req)
    wanted = req.headers.get("if-match")

    def build(existing: Resource | None) -> Resource:
        # Checked under the store's lock: a lock landing meanwhile makes this PUT fail, not undo it.
        _check_etag(wanted, existing or _placeholder(owner), required=False)
        if existing is not None and (existing.get("properties") or {}).get("state") == "Locked":
            raise _wrong_state()
        return {
            "id": policy_id(owner),
            "name": "default",
            "type": POLICIES_TYPE,
            "etag": new_etag(),
            "properties": {**props, "state": "Unlocked"},
        }

    stored, _ = arm.store.replace(policy_id(owner), build)
    return _reply(stored)


def _check_unlocked(req: Request, owner: str, found: Resource | None) -> Resource:
    """The existing Unlocked policy a DELETE or lock acts on, its required If-Match checked."""
    _check_etag(req.headers.get("if-match"), found or _placeholder(owner), required=True)
    if found is None or (found.get("properties") or {}).get("state") != "Unlocked":
        raise _wrong_state()
    return found


def _delete(arm: Arm, req: Request, p: Params) -> Reply:
    """Aborts an Unlocked policy; the reply has period 0 and state Deleted (the swagger's description)."""
    owner, found = _policy(arm, p)
    _check_unlocked(req, owner, found)
    arm.store.delete(policy_id(owner))
    return _reply({**_placeholder(owner), "etag": new_etag()})


def _lock(arm: Arm, req: Request, p: Params) -> Reply:
    owner, found = _policy(arm, p)
    _check_unlocked(req, owner, found)

    def change(current: Resource) -> Resource:
        # Checked again under the store's lock: another write may have landed since.
        current = _check_unlocked(req, owner, current)
        return {**current, "etag": new_etag(), "properties": {**current["properties"], "state": "Locked"}}

    locked = arm.store.mutate(policy_id(owner), change)
    if locked is None:
        raise _wrong_state()
    return _reply(locked)


def policy_routes() -> tuple[Route, ...]:
    return (
        Route(POLICY_PATH, {"GET": _get, "PUT": _put, "DELETE": _delete}, VERSIONS),
        Route(f"{POLICY_PATH}/lock", {"POST": _lock}, VERSIONS),
    )

"""The generic resource handlers: GET, PUT, PATCH, DELETE, HEAD of one resource, and lists, for any type.

A write is validated and pruned against the type's swagger definition, guarded (409 while another
operation runs on the resource, 412 on a stale If-Match unless the scenario ignores If-Match), checked by
the provider's hook, and then applied at once or accepted as a long-running operation (arm/lro.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emulator.kernel.http import Reply, Request

from . import ids, merge, paging
from .errors import ArmError, json_object, parent_not_found, resource_not_found
from .lro import Operation, new_operation_id
from .types import Resource, ResourceType

if TYPE_CHECKING:
    from .plane import Arm

# How long the SDK should wait before its next poll. Not `Retry-After: 0`: azure-core reads a zero delay as
# "no hint" and falls back to its 30 s polling_interval. `retry-after-ms` is an Azure header azure-core
# honours (only when Retry-After is absent), and 10 ms keeps polling quick in tests.
POLL_HINT = {"retry-after-ms": "10"}


def body_for(rtype: ResourceType, req: Request) -> dict[str, Any]:
    """The request body checked against the type's swagger definition (400 InvalidRequestContent naming
    the path, as the RP's deserializer does) and pruned to what the RP keeps."""
    body = json_object(req)
    schema = rtype.schema()
    if schema is None:
        return dict(body)
    problems = schema.request_errors(rtype.definition or "", body)
    if problems:
        path, why = problems[0]
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {why}. Path '{path or '$'}'.",
            target=path or None,
        )
    pruned: dict[str, Any] = schema.prune(rtype.definition or "", body)
    return pruned


def check_etag(arm: Arm, wanted: str | None, current: Mapping[str, Any]) -> None:
    """412 PreconditionFailed unless `wanted` (If-Match; None or `*` match anything) is the stored etag.
    With `ifMatch: ignored` the header is not looked at, as a service that does not declare it may do."""
    if arm.options.if_match == "ignored":
        return
    if wanted and wanted != "*" and wanted != current.get("etag"):
        raise ArmError(
            412, "PreconditionFailed", "The specified precondition 'If-Match' does not match the resource etag."
        )


def _existing(arm: Arm, rtype: ResourceType, resource_id: str) -> Resource | None:
    """The stored resource, after checking that a child's parent exists (ParentResourceNotFound)."""
    if rtype.nested:
        parent = ids.parent_id(resource_id)
        if arm.store.get(parent) is None:
            raise parent_not_found(parent)
    return arm.store.get(resource_id)


def get(arm: Arm, rtype: ResourceType, req: Request, resource_id: str) -> Reply:
    found = _existing(arm, rtype, resource_id)
    if found is None:
        raise resource_not_found(resource_id)
    return Reply(200, found)


def head(arm: Arm, rtype: ResourceType, req: Request, resource_id: str) -> Reply:
    """CheckExistence: 204 when the resource exists, 404 when not (headers only)."""
    return Reply(204) if arm.store.get(resource_id) is not None else Reply(404)


def write(arm: Arm, rtype: ResourceType, req: Request, resource_id: str) -> Reply:
    """PUT (create or replace) or PATCH (merge) of one resource."""
    method = req.method.upper()
    current = _existing(arm, rtype, resource_id)
    if method == "PATCH" and current is None:
        raise resource_not_found(resource_id)
    body = body_for(rtype, req)
    if current is None and rtype.requires_location and not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    wanted = req.headers.get("if-match")
    if current is not None:
        check_etag(arm, wanted, current)
    stored_id = str(current["id"]) if current is not None else _stored_casing(arm, resource_id)
    if rtype.hooks.check is not None:
        rtype.hooks.check(arm, stored_id, current, body)

    def build(existing: Resource | None) -> Resource:
        # Merged against the state when it applies, not when it was asked for: another write may have landed.
        if existing is not None:
            check_etag(arm, wanted, existing)
        else:
            # A long-running child write can outlive its parent (the account deleted meanwhile): it then
            # fails rather than leave an orphan no route can reach.
            _existing(arm, rtype, stored_id)
        if method == "PATCH":
            if existing is None:
                raise resource_not_found(stored_id)
            return merge.patch(rtype, existing, body)
        new = merge.put(rtype, stored_id, existing, body)
        if existing is None and rtype.hooks.created is not None:
            new = rtype.hooks.created(arm, new)
        return new

    def apply() -> Resource:
        return arm.store.replace(stored_id, build)[0]

    created = current is None
    if method not in rtype.long_running:
        new = arm.ops.apply_now(stored_id, apply)
        return Reply(201 if created else 200, new)
    status = 202 if method == "PATCH" else (201 if created else 200)
    preview = build(current) if current is not None or method == "PUT" else {}
    return _long_running(arm, rtype, req, stored_id, apply, preview=preview, async_status=status, creating=created)


def delete(arm: Arm, rtype: ResourceType, req: Request, resource_id: str) -> Reply:
    """DELETE: 204 when there is nothing to delete (ARM's idempotent delete), else removed with whatever
    the provider's `deleted` hook leaves behind (a soft-deleted record)."""
    current = _existing(arm, rtype, resource_id)
    if current is None:
        return Reply(204)
    check_etag(arm, req.headers.get("if-match"), current)
    stored_id = str(current["id"])

    def apply() -> None:
        gone = arm.store.delete(stored_id)
        if gone is not None and rtype.hooks.deleted is not None:
            rtype.hooks.deleted(arm, gone)

    if "DELETE" not in rtype.long_running:
        arm.ops.apply_now(stored_id, apply)
        return Reply(200)
    return _long_running(arm, rtype, req, stored_id, apply, preview=None, async_status=202, creating=False)


def _stored_casing(arm: Arm, resource_id: str) -> str:
    """A new child's id keeps its stored parent's casing (the account id as it was created)."""
    parent = arm.store.get(ids.parent_id(resource_id)) if len(ids.after_providers(resource_id)) > 3 else None
    return f"{parent['id']}/{'/'.join(ids.segments(resource_id)[-2:])}" if parent else resource_id


def _long_running(
    arm: Arm,
    rtype: ResourceType,
    req: Request,
    resource_id: str,
    apply: Callable[[], Any],
    *,
    preview: Resource | None,
    async_status: int,
    creating: bool,
) -> Reply:
    """Answer a write ARM runs as a long-running operation.

    sync: applied now; the reply (200/201, or 200 for DELETE) carries the resource and, as the upstream
    UpdateAccount example's 200 does, Azure-AsyncOperation and Location headers, so the SDK polls once.
    async: `async_status` with the resource in an in-progress provisioningState; the operation completes
    `operationSeconds` later by the clock, whether or not anyone polls. An `lro-failed` fault takes the
    async path in both modes and ends Failed with nothing changed (azure-core never polls when the first
    reply is already terminal, so a Failed 200 would be returned instead of raised)."""
    method = req.method.upper()
    fault = arm.world.faults.take(req.method, req.path, lro=True)
    now = arm.world.clock.now()
    sub = ids.subscription(resource_id) or ""
    location = ids.location_slug(str((preview or arm.store.get(resource_id) or {}).get("location") or "global"))
    op = Operation(new_operation_id(), rtype.namespace, sub, location, resource_id, now, now, apply, lambda: None)
    if arm.options.lro == "sync" and fault is None:
        result = arm.ops.apply_now(resource_id, apply)
        arm.ops.record_done(op)
        status = 201 if method == "PUT" and creating else 200
        return Reply(status, result if method != "DELETE" else None, _monitor_headers(arm, req, op))
    op.fail = fault is not None
    op.due = now if op.fail else now + timedelta(seconds=arm.options.operation_seconds)
    state = merge.in_progress_state(rtype, method, creating)
    mark, op.undo = _marker(arm, rtype, resource_id, state, preview)
    arm.ops.start(op, mark)
    body = merge.with_state(rtype, preview, state) if preview else None
    reply = Reply(async_status, body, _monitor_headers(arm, req, op))
    reply.fault = fault.kind if fault else None
    return reply


def _marker(
    arm: Arm, rtype: ResourceType, resource_id: str, state: str, preview: Resource | None
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(show the operation running, undo that). An existing resource keeps its values and etag and shows
    the in-progress provisioningState; one being created appears with it, and goes again if it fails."""
    before = arm.store.get(resource_id)

    def mark() -> None:
        if before is not None:
            arm.store.mutate(resource_id, lambda resource: merge.with_state(rtype, resource, state))
        elif preview:
            arm.store.put(merge.with_state(rtype, preview, state))

    def undo() -> None:
        if before is not None:
            arm.store.put(before)
        else:
            arm.store.delete(resource_id)

    return mark, undo


def _monitor_headers(arm: Arm, req: Request, op: Operation) -> dict[str, str]:
    api_version = quote(req.query.get("api-version", ""), safe="")
    return {
        "Azure-AsyncOperation": f"{arm.world.endpoint}{op.status_path}?api-version={api_version}",
        "Location": f"{arm.world.endpoint}{op.result_path}?api-version={api_version}",
        **POLL_HINT,
    }


def operation_status(arm: Arm, req: Request, op_id: str) -> Reply:
    """GET .../operationStatuses/{id}: the Azure-AsyncOperation monitor ARMPolling polls."""
    op = arm.ops.get(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    return Reply(200, op.document(), dict(POLL_HINT) if op.status == "InProgress" else {})


def operation_result(arm: Arm, req: Request, op_id: str) -> Reply:
    """GET .../operationResults/{id}: 202 while running, then 200 with the resource (or the error)."""
    op = arm.ops.get(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    if op.status == "InProgress":
        location = f"{arm.world.endpoint}{req.raw_path}?api-version={quote(req.query.get('api-version', ''), safe='')}"
        return Reply(202, None, {"Location": location, **POLL_HINT})
    if op.status == "Failed":
        raise op.failure()
    body = arm.store.get(op.resource_id)
    return Reply(200, body) if body is not None else Reply(204)


def listing(arm: Arm, rtype: ResourceType, req: Request, under: str) -> Reply:
    """A paged list of `rtype` under a subscription, group or parent (ParentResourceNotFound if the parent
    of a child type is missing); extension types list what is at exactly that scope."""
    if rtype.nested and arm.store.get(under) is None:
        raise parent_not_found(under)
    # Only the page is read and copied (arm/store.py page_of_type), so listing every page stays linear.
    size = arm.options.page_size
    chunk = arm.store.page_of_type(rtype.type, under, paging.token_after(req), size + 1, exact_scope=rtype.extension)
    return paging.reply(req, arm.world.endpoint, size, chunk)

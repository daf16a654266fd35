"""ARM conventions shared by the route handlers: error bodies, paging, and LRO replies.

Message texts follow what ARM sends, so a test that prints an error reads like a real Azure failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from . import ids
from .context import Context
from .faults import Fault
from .model import ArmError, Reply, Request

# How long the SDK should wait before its next poll. Not `Retry-After: 0`: azure-core reads a zero delay as
# "no hint" and falls back to its 30 s polling_interval. `retry-after-ms` is an Azure header azure-core
# honours (only when Retry-After is absent), and 10 ms keeps polling quick in tests.
POLL_HINT = {"retry-after-ms": "10"}
SKIP_TOKEN = "$skipToken"  # noqa: S105 - a query parameter name, not a secret


def resource_not_found(resource_id: str) -> ArmError:
    """ARM's 404 for a missing resource, naming its type/name chain and resource group."""
    segs = ids.segments(resource_id)
    lowered = [s.lower() for s in segs]
    start = len(lowered) - 1 - lowered[::-1].index("providers")
    chain = "/".join(segs[start + 1 :])
    group = ids.resource_group(resource_id) or ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{chain}' under resource group '{group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def json_object(req: Request) -> Mapping[str, Any]:
    """The request body as a JSON object, or ARM's 400 for a missing or malformed one."""
    if req.body_invalid:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
    if not isinstance(req.body, Mapping):
        raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return req.body


def check_if_match(req: Request, current: Mapping[str, Any]) -> None:
    """Honour `If-Match` as ARM does for optimistic concurrency (a request-time check; writers repeat it
    with `check_etag` inside the store lock, where it counts)."""
    check_etag(req.headers.get("if-match"), current)


def check_etag(wanted: str | None, current: Mapping[str, Any]) -> None:
    """412 PreconditionFailed unless `wanted` (an If-Match value; None or `*` match anything) is the etag."""
    if wanted and wanted != "*" and wanted != current.get("etag"):
        raise ArmError(
            412,
            "PreconditionFailed",
            "The specified precondition 'If-Match' does not match the resource etag.",
        )


def page(ctx: Context, req: Request, items: list[dict[str, Any]]) -> Reply:
    """One page of a list, `nextLink` an absolute URL on the emulator carrying a `$skipToken` offset."""
    raw_skip = req.query.get(SKIP_TOKEN, "0")
    try:
        skip = int(raw_skip)
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{raw_skip}' is not valid.") from None
    if skip < 0:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{raw_skip}' is not valid.")
    size = ctx.options.page_size
    body: dict[str, Any] = {"value": items[skip : skip + size]}
    if skip + size < len(items):
        api_version = quote(req.query.get("api-version", ""), safe="")
        body["nextLink"] = f"{ctx.endpoint}{req.raw_path}?api-version={api_version}&{SKIP_TOKEN}={skip + size}"
    return Reply(200, body)


def run_lro(
    ctx: Context,
    req: Request,
    *,
    subscription: str,
    location: str | None,
    resource_id: str,
    apply: Callable[[], dict[str, Any]],
    preview: dict[str, Any],
    sync_status: int,
    async_status: int,
) -> Reply:
    """Answer a write that ARM models as a long-running operation.

    sync: apply now, reply `sync_status` with provisioningState Succeeded and no async headers, so
    ARMPolling finishes at once. async: reply `async_status` with Azure-AsyncOperation/Location headers and
    provisioningState Accepted; the change waits for the operation to succeed.

    An `lro-failed` fault always takes the async path, in sync mode too, and its operation ends Failed:
    azure-core's LROPoller never runs a poller whose first reply is already terminal, so a 200 carrying
    provisioningState Failed would come back from `.result()` as a value instead of raising.
    """
    fault: Fault | None = ctx.faults.take(req.method, req.path, lro=True)
    fault_kind = fault.kind if fault else None
    if ctx.options.lro == "sync" and fault is None:
        return Reply(sync_status, apply())
    op = ctx.ops.start(
        subscription,
        location,
        ctx.options.async_polls,
        apply,
        fail=fault is not None,
        resource_id=resource_id,
    )
    api_version = quote(req.query.get("api-version", ""), safe="")
    headers = {
        "Azure-AsyncOperation": f"{ctx.endpoint}{op.status_path}?api-version={api_version}",
        "Location": f"{ctx.endpoint}{op.result_path}?api-version={api_version}",
        **POLL_HINT,
    }
    preview["properties"] = {**preview.get("properties", {}), "provisioningState": "Accepted"}
    return Reply(async_status, preview, headers, fault=fault_kind)


def operation_status(ctx: Context, req: Request, op_id: str) -> Reply:
    """GET .../operationStatuses/{id}: the Azure-AsyncOperation monitor ARMPolling polls."""
    op = ctx.ops.poll(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    headers = dict(POLL_HINT) if op.status == "InProgress" else {}
    return Reply(200, op.document(), headers)


def operation_result(ctx: Context, req: Request, op_id: str) -> Reply:
    """GET .../operationResults/{id}: 202 while running, then 200 with the resource (or the error)."""
    op = ctx.ops.poll(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    if op.status == "InProgress":
        location = f"{ctx.endpoint}{req.raw_path}?api-version={quote(req.query.get('api-version', ''), safe='')}"
        return Reply(202, None, {"Location": location, **POLL_HINT})
    if op.status == "Failed":
        if op.error is not None:
            raise op.error
        error = op.document()["error"]
        raise ArmError(500, error["code"], error["message"])
    body = ctx.store.get(op.resource_id) if op.resource_id else None
    return Reply(200, body) if body is not None else Reply(204)

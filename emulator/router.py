"""Request dispatch: faults first, then ARM's auth and api-version checks, then the route table.

Every request, answered or reset, is recorded before its reply goes out, so a client that has its
response can already see it in `Emulator.requests`.
"""

from __future__ import annotations

import logging

from . import ids
from . import routes_cognitive as rc
from .context import Context
from .faults import fault_reply
from .model import ArmError, RecordedRequest, Reply, Request, safe_headers

log = logging.getLogger(__name__)

_ACCOUNTS = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.cognitiveservices/accounts"
_LOCATION = "subscriptions/{sub}/providers/microsoft.cognitiveservices/locations/{loc}"


def _p(template: str) -> tuple[str, ...]:
    """A route pattern: lower-case literal segments and `{name}` captures."""
    return tuple(template.split("/"))


ROUTES: list[tuple[tuple[str, ...], dict[str, rc.Handler]]] = [
    (
        _p("subscriptions/{sub}/providers/microsoft.cognitiveservices/accounts"),
        {"GET": rc.list_accounts_in_subscription},
    ),
    (tuple(_ACCOUNTS.split("/")), {"GET": rc.list_accounts_in_group}),
    (
        _p(f"{_ACCOUNTS}/{{account}}"),
        {"GET": rc.get_account, "PATCH": rc.patch_account, "PUT": rc.put_account},
    ),
    (_p(f"{_ACCOUNTS}/{{account}}/listkeys"), {"POST": rc.list_keys}),
    (_p(f"{_ACCOUNTS}/{{account}}/regeneratekey"), {"POST": rc.regenerate_key}),
    (_p(f"{_ACCOUNTS}/{{account}}/deployments"), {"GET": rc.list_children("deployments")}),
    (
        _p(f"{_ACCOUNTS}/{{account}}/deployments/{{name}}"),
        {"GET": rc.get_child("deployments"), "PUT": rc.put_deployment},
    ),
    (_p(f"{_ACCOUNTS}/{{account}}/raipolicies"), {"GET": rc.list_children("raipolicies")}),
    (
        _p(f"{_ACCOUNTS}/{{account}}/raipolicies/{{name}}"),
        {"GET": rc.get_child("raipolicies"), "PUT": rc.put_rai_policy},
    ),
    (_p(f"{_LOCATION}/operationstatuses/{{op}}"), {"GET": rc.get_operation_status}),
    (_p(f"{_LOCATION}/operationresults/{{op}}"), {"GET": rc.get_operation_result}),
]


def _match(pattern: tuple[str, ...], segs: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segs):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segs, strict=True):
        if want.startswith("{"):
            params[want[1:-1]] = got
        elif want != got.lower():
            return None
    return params


def _check_auth(req: Request) -> None:
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                'error="invalid_token", error_description="The authentication failed because of missing '
                "'Authorization' header.\""
            },
        )


def _unknown_route(req: Request, segs: list[str]) -> ArmError:
    lowered = [s.lower() for s in segs]
    if "providers" in lowered:
        start = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = segs[start + 1 :]
        if rest:
            namespace = rest[0]
            type_ = "/".join(rest[1::2]) or namespace
            return ArmError(
                404,
                "InvalidResourceType",
                f"The resource type '{type_}' could not be found in the namespace '{namespace}' "
                f"for api version '{req.query.get('api-version', '')}'.",
            )
    return ArmError(404, "InvalidResourceType", f"No route in the emulator matches '{req.path}'.")


def route(ctx: Context, req: Request) -> Reply:
    """Auth, api-version, then the first matching route; raises ArmError for ARM-shaped failures."""
    _check_auth(req)
    if not req.query.get("api-version"):
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    segs = ids.segments(req.path)
    for pattern, methods in ROUTES:
        params = _match(pattern, segs)
        if params is None:
            continue
        handler = methods.get(req.method.upper())
        if handler is None:
            raise ArmError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{req.method.upper()}'.",
            )
        return handler(ctx, req, params)
    # Resources of types without a route (scenarios may carry them) are still readable by id.
    if req.method.upper() == "GET" and "providers" in (s.lower() for s in segs):
        found = ctx.store.get(req.path)
        if found is not None:
            return Reply(200, found)
    raise _unknown_route(req, segs)


def serve(ctx: Context, req: Request) -> Reply:
    """Answer one request (fault, error or success) and record it."""
    fault = ctx.faults.take(req.method, req.path)
    reply = fault_reply(fault) if fault is not None else None
    if reply is None:
        try:
            reply = route(ctx, req)
        except ArmError as err:
            reply = err.reply()
        except Exception:
            log.exception("emulator route failed: %s %s", req.method, req.path)
            reply = ArmError(500, "InternalServerError", "The emulator failed to handle the request.").reply()
        if fault is not None and fault.kind == "applied-then-error":
            # The change is made, but the client hears an error (a lost or failed reply): what makes an
            # SDK retry a PATCH that in fact already landed.
            status = fault.status or 503
            reply = ArmError(status, "ServiceUnavailable", "Applied, then failed to answer (emulator fault).").reply()
            reply.fault = fault.kind
        if fault is not None and reply.fault is None:
            reply.fault = fault.kind  # a latency fault, served normally after its delay
    reply.kind = req.kind
    status = 0 if reply.reset else reply.status
    ctx.record(
        RecordedRequest(
            req.method.upper(),
            req.path,
            dict(req.query),
            req.body,
            status,
            reply.fault,
            req.kind,
            safe_headers(req.headers),
        )
    )
    log.debug("%s %s -> %s%s", req.method, req.path, status, f" (fault {reply.fault})" if reply.fault else "")
    return reply

"""Route handlers for Microsoft.CognitiveServices: accounts, keys, deployments, RAI policies, operations.

Each handler takes the decoded path parameters and returns a Reply or raises ArmError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ids, swagger
from .arm import (
    check_etag,
    check_if_match,
    json_object,
    operation_result,
    operation_status,
    page,
    resource_not_found,
    run_lro,
)
from .context import Context
from .model import ArmError, Reply, Request
from .patch import (
    READ_ONLY_DEPLOYMENT_PROPERTIES,
    READ_ONLY_RAI_POLICY_PROPERTIES,
    account_from_put,
    child_from_put,
    merge_account,
)

Params = dict[str, str]
Handler = Callable[[Context, Request, Params], Reply]
_COLLECTIONS = {"deployments": ids.DEPLOYMENT_TYPE, "raipolicies": ids.RAI_POLICY_TYPE}
_SEGMENT = {"deployments": "deployments", "raipolicies": "raiPolicies"}


def account_id(p: Params) -> str:
    return f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{ids.ACCOUNT_TYPE}/{p['account']}"


def _account(ctx: Context, p: Params) -> dict[str, Any]:
    aid = account_id(p)
    found = ctx.store.get(aid)
    if found is None:
        raise resource_not_found(aid)
    return found


def account_body(req: Request) -> dict[str, Any]:
    """An Accounts_Create/Update body checked against the swagger `Account` schema: a wrong type, a value
    outside an enum, a missing required field is 400 InvalidRequestContent naming the path (as the RP's
    deserializer does); properties the schema does not declare are dropped, as ARM ignores them."""
    body = json_object(req)
    problems = swagger.cognitive_services().request_errors("Account", body)
    if problems:
        path, why = problems[0]
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {why}. Path '{path or '$'}'.",
            target=path or None,
        )
    pruned: dict[str, Any] = swagger.cognitive_services().prune("Account", body)
    return pruned


# --- accounts -----------------------------------------------------------------------------------
def get_account(ctx: Context, req: Request, p: Params) -> Reply:
    return Reply(200, _account(ctx, p))


def list_accounts_in_subscription(ctx: Context, req: Request, p: Params) -> Reply:
    return page(ctx, req, ctx.store.list(ids.ACCOUNT_TYPE, f"/subscriptions/{p['sub']}"))


def list_accounts_in_group(ctx: Context, req: Request, p: Params) -> Reply:
    return page(ctx, req, ctx.store.list(ids.ACCOUNT_TYPE, f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}"))


def patch_account(ctx: Context, req: Request, p: Params) -> Reply:
    """Accounts_Update: an LRO whose body is the full Account schema, merged as ARM PATCH does."""
    current = _account(ctx, p)
    check_if_match(req, current)
    body = account_body(req)
    aid = str(current["id"])
    wanted = req.headers.get("if-match")

    def change(stored: dict[str, Any]) -> dict[str, Any]:
        check_etag(wanted, stored)  # again, under the store lock: the check and the merge are one step
        return merge_account(stored, body)

    def apply() -> dict[str, Any]:
        # Merged against the state at apply time, not at request time: another write may have landed.
        updated = ctx.store.mutate(aid, change)
        if updated is None:
            raise resource_not_found(aid)
        return updated

    return run_lro(
        ctx,
        req,
        subscription=p["sub"],
        location=current.get("location"),
        resource_id=aid,
        apply=apply,
        preview=merge_account(current, body),
        sync_status=200,
        async_status=202,
    )


def put_account(ctx: Context, req: Request, p: Params) -> Reply:
    """Accounts_Create (create or replace): an LRO; `location` is required when creating."""
    aid = account_id(p)
    current = ctx.store.get(aid)
    body = account_body(req)
    if current is None and not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    if current is not None:
        check_if_match(req, current)
    wanted = req.headers.get("if-match")

    def build(existing: dict[str, Any] | None) -> dict[str, Any]:
        if existing is not None:
            check_etag(wanted, existing)
        return account_from_put(aid, existing, body)

    def apply() -> dict[str, Any]:
        return ctx.store.replace(aid, build)[0]

    status = 201 if current is None else 200
    return run_lro(
        ctx,
        req,
        subscription=p["sub"],
        location=str((current or body).get("location")),
        resource_id=aid,
        apply=apply,
        preview=account_from_put(aid, current, body),
        sync_status=status,
        async_status=status,
    )


def list_keys(ctx: Context, req: Request, p: Params) -> Reply:
    account = _account(ctx, p)
    return Reply(200, ctx.store.keys(str(account["id"])))


def regenerate_key(ctx: Context, req: Request, p: Params) -> Reply:
    account = _account(ctx, p)
    body = json_object(req)
    name = body.get("keyName")
    # The RP parses the enum case-insensitively; anything but Key1/Key2 is a 400.
    which = {"key1": "key1", "key2": "key2"}.get(str(name).lower()) if isinstance(name, str) else None
    if which is None:
        raise ArmError(
            400,
            "InvalidKeyName",
            f"The key name '{name}' is not valid. Allowed values: Key1, Key2.",
            target="keyName",
        )
    return Reply(200, ctx.store.regenerate(str(account["id"]), which))


# --- deployments and RAI policies ---------------------------------------------------------------
def _child_id(p: Params, collection: str, parent: str | None = None) -> str:
    """A child's id; `parent` (the stored account id) keeps the stored casing for newly created children."""
    return f"{parent or account_id(p)}/{_SEGMENT[collection]}/{p['name']}"


def list_children(collection: str) -> Handler:
    def handler(ctx: Context, req: Request, p: Params) -> Reply:
        aid = account_id(p)
        items = ctx.store.list(_COLLECTIONS[collection], aid)
        # Upstream child examples come without their account; only a list with neither is a 404.
        if not items and ctx.store.get(aid) is None:
            raise resource_not_found(aid)
        return page(ctx, req, items)

    return handler


def get_child(collection: str) -> Handler:
    def handler(ctx: Context, req: Request, p: Params) -> Reply:
        cid = _child_id(p, collection)
        found = ctx.store.get(cid)
        if found is None:
            raise resource_not_found(cid)
        return Reply(200, found)

    return handler


def put_deployment(ctx: Context, req: Request, p: Params) -> Reply:
    """Deployments_CreateOrUpdate: an LRO (the poller's final GET reads the deployment back)."""
    account = _account(ctx, p)
    cid = _child_id(p, "deployments", str(account["id"]))
    current = ctx.store.get(cid)
    body = json_object(req)
    if current is not None:
        check_if_match(req, current)
    wanted = req.headers.get("if-match")

    def build(existing: dict[str, Any] | None) -> dict[str, Any]:
        if existing is not None:
            check_etag(wanted, existing)
        new = child_from_put(
            cid,
            ids.DEPLOYMENT_TYPE,
            existing,
            body,
            read_only=READ_ONLY_DEPLOYMENT_PROPERTIES,
            fields=("sku", "tags"),
        )
        new["properties"]["provisioningState"] = "Succeeded"
        return new

    def apply() -> dict[str, Any]:
        return ctx.store.replace(cid, build)[0]

    status = 201 if current is None else 200
    return run_lro(
        ctx,
        req,
        subscription=p["sub"],
        location=account.get("location"),
        resource_id=cid,
        apply=apply,
        preview=build(current),
        sync_status=status,
        async_status=status,
    )


def put_rai_policy(ctx: Context, req: Request, p: Params) -> Reply:
    """RaiPolicies_CreateOrUpdate: not an LRO, applied at once; customer policies are UserManaged.

    A stored policy whose `properties.type` is SystemManaged (e.g. Microsoft.DefaultV2) is read-only
    (FACTS.md §3): its PUT is refused with 400 OperationNotAllowed and changes nothing."""
    account = _account(ctx, p)
    cid = _child_id(p, "raipolicies", str(account["id"]))
    body = json_object(req)
    wanted = req.headers.get("if-match")

    def build(existing: dict[str, Any] | None) -> dict[str, Any]:
        if existing is not None:
            _refuse_system_managed(existing)
            check_etag(wanted, existing)
        new = child_from_put(
            cid, ids.RAI_POLICY_TYPE, existing, body, read_only=READ_ONLY_RAI_POLICY_PROPERTIES, fields=("tags",)
        )
        new["properties"].setdefault("type", "UserManaged")
        return new

    new, created = ctx.store.replace(cid, build)
    return Reply(201 if created else 200, new)


def _refuse_system_managed(policy: dict[str, Any]) -> None:
    props = policy.get("properties")
    if isinstance(props, dict) and str(props.get("type", "")).lower() == "systemmanaged":
        raise ArmError(
            400,
            "OperationNotAllowed",
            f"The RAI policy '{policy.get('name')}' is system managed and cannot be modified. "
            "Create a user-managed policy and reference it from the deployment instead.",
            target="properties.type",
        )


# --- operations ---------------------------------------------------------------------------------
def get_operation_status(ctx: Context, req: Request, p: Params) -> Reply:
    return operation_status(ctx, req, p["op"])


def get_operation_result(ctx: Context, req: Request, p: Params) -> Reply:
    return operation_result(ctx, req, p["op"])

"""List paging as ARM does it: `nextLink` carries an opaque `$skipToken` over a stable order.

The token names the last id served (not an offset), and lists are ordered by id, so a resource created or
deleted mid-listing never shifts a page: nothing is served twice or skipped.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote

from emulator.kernel.http import Reply, Request

from . import ids
from .errors import ArmError

SKIP_TOKEN = "$skipToken"  # noqa: S105 - a query parameter name, not a secret
T = TypeVar("T")


def _encode(last_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_key}).encode()).decode().rstrip("=")


def _decode(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{token}' is not valid.") from None
    if not isinstance(after, str):
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{token}' is not valid.")
    return after


def token_after(req: Request) -> str | None:
    """The id key the request's `$skipToken` names (None without one); 400 InvalidSkipToken if malformed."""
    token = req.query.get(SKIP_TOKEN)
    return _decode(token) if token is not None else None


def first_after(keyed: Iterable[tuple[str, T]], after: str | None, count: int) -> list[T]:
    """The `count` items with the smallest keys above `after` (every key when None), in key order: filtered
    before anything is ordered, and a bounded heap instead of a sort of everything."""
    above = keyed if after is None else (pair for pair in keyed if pair[0] > after)
    return [item for _, item in heapq.nsmallest(count, above, key=lambda pair: pair[0])]


def reply(req: Request, endpoint: str, page_size: int, chunk: list[dict[str, Any]]) -> Reply:
    """The page reply for `chunk`: up to `page_size + 1` items in id order after the token; the extra one only
    tells that a `nextLink` is due."""
    body: dict[str, Any] = {"value": chunk[:page_size]}
    if len(chunk) > page_size:
        api_version = quote(req.query.get("api-version", ""), safe="")
        last = ids.key(str(chunk[page_size - 1].get("id", "")))
        body["nextLink"] = f"{endpoint}{req.raw_path}?api-version={api_version}&{SKIP_TOKEN}={_encode(last)}"
    return Reply(200, body)


def page(req: Request, endpoint: str, page_size: int, items: Iterable[dict[str, Any]]) -> Reply:
    """One page of `items` (resources with an `id`), in id order, after the token's id if one is given."""
    keyed = ((ids.key(str(r.get("id", ""))), r) for r in items)
    return reply(req, endpoint, page_size, first_after(keyed, token_after(req), page_size + 1))

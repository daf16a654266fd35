"""List paging as ARM does it: `nextLink` carries an opaque `$skipToken` over a stable order.

The token names the last id served (not an offset), and lists are ordered by id, so a resource created or
deleted mid-listing never shifts a page: nothing is served twice or skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from emulator.kernel.http import Reply, Request

from . import ids
from .errors import ArmError

SKIP_TOKEN = "$skipToken"  # noqa: S105 - a query parameter name, not a secret


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


def page(req: Request, endpoint: str, page_size: int, items: Iterable[dict[str, Any]]) -> Reply:
    """One page of `items` (resources with an `id`), in id order, after the token's id if one is given."""
    ordered = sorted(items, key=lambda r: ids.key(str(r.get("id", ""))))
    token = req.query.get(SKIP_TOKEN)
    if token is not None:
        after = _decode(token)
        ordered = [r for r in ordered if ids.key(str(r.get("id", ""))) > after]
    body: dict[str, Any] = {"value": ordered[:page_size]}
    if len(ordered) > page_size:
        api_version = quote(req.query.get("api-version", ""), safe="")
        last = ids.key(str(ordered[page_size - 1].get("id", "")))
        body["nextLink"] = f"{endpoint}{req.raw_path}?api-version={api_version}&{SKIP_TOKEN}={_encode(last)}"
    return Reply(200, body)

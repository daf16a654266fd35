"""Key Vault's paged lists: `{"value": [...], "nextLink": ...}`, at most `maxresults` items a page (25 when
not given, Key Vault's limit). `nextLink` is an absolute URL on the emulator's Key Vault port whose
`$skiptoken` names the last item served, so items added mid-listing never shift a page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from emulator.kernel.http import Reply, Request

from .errors import bad_parameter

T = TypeVar("T")
MAX_RESULTS = 25


def page(
    req: Request,
    base: str,
    items: Sequence[T],
    order: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
) -> Reply:
    """One page of `items` (sorted by `order`), after the `$skiptoken` the request carries. `base` is the
    absolute URL of the list, without its query."""
    size = _max_results(req.query.get("maxresults"))
    ordered = sorted(items, key=order)
    token = req.query.get("$skiptoken")
    if token:
        try:
            after = bytes.fromhex(token).decode()
        except ValueError:
            raise bad_parameter("The $skiptoken is not one the service issued.") from None
        ordered = [i for i in ordered if order(i) > after]
    served, rest = ordered[:size], ordered[size:]
    next_link = None
    if rest:
        version = quote(req.query.get("api-version", ""), safe="")
        skip = order(served[-1]).encode().hex()
        next_link = f"{base}?api-version={version}&$skiptoken={skip}&maxresults={size}"
    return Reply(200, {"value": [render(i) for i in served], "nextLink": next_link})


def _max_results(raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_RESULTS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
        raise bad_parameter(f"maxresults must be an integer from 1 to {MAX_RESULTS}.")
    return int(raw)

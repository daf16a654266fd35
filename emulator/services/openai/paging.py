"""Cursor paging as OpenAI lists do it: `after` names the last object of the previous page, `limit` the page
size (capped by `openaiOptions.maxPageSize`), and `has_more` says whether more follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .call import Call
from .errors import bad_request
from .state import Body, Collection, Position

# Lists are ordered by `created_at`, newest first unless `order=asc`, ties kept in the order the objects were
# added. The cursor is a position, not an index, so objects added or deleted mid-listing never shift a page;
# an `after` naming an object this account never had is 400.


@dataclass(frozen=True)
class Page:
    items: list[Body]
    has_more: bool


def window(
    call: Call,
    collection: Collection,
    *,
    default_limit: int,
    descending: bool = True,
    keep: Callable[[Body], bool] = lambda body: True,
) -> Page:
    """The page the request's `after` and `limit` select, of the objects `keep` accepts."""
    size = min(_limit(call.req.query.get("limit"), default_limit), call.max_page_size)

    def rank(position: Position) -> tuple[int, int]:
        created, seq = position
        return (-created if descending else created, seq)

    ordered = sorted(collection.entries(), key=lambda e: rank(e.position))
    after = call.req.query.get("after")
    if after:
        cursor = collection.position(after)
        if cursor is None:
            raise bad_request(f"after: '{after}' does not name an object of this list.")
        ordered = [e for e in ordered if rank(e.position) > rank(cursor)]
    kept = [e.body for e in ordered if keep(e.body)]
    return Page(kept[:size], len(kept) > size)


def _limit(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"limit: expected an integer >= 1, got '{raw}'.")
    return int(raw)

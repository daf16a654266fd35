"""`POST /providers/Microsoft.ResourceGraph/resources`: a query over the `Resources` table of the store (live,
or a frozen view while a test holds one), answered as a `QueryResponse` page (docs/emulator.md, "Resource
Graph").

Paging follows the final order (by id unless the query orders otherwise). Rows without an `id` column cannot be
paged stably (the vendored ResourcesFirstPageQuery.json: "id field is required ... to return the pages in stable
sorted fashion"), so such a result is cut to one page and answered `resultTruncated: "true"` with no token.
"""

from __future__ import annotations

import copy
import operator
import threading
from collections import OrderedDict
from typing import Any

from emulator.arm.plane import Arm
from emulator.arm.types import Params, Resource, Route
from emulator.kernel.http import Reply, Request

from . import evaluate, request, source
from .parser import parse
from .syntax import Project, Query, Summarize
from .versions import COLUMNS, DEFAULT_TOP, NAMESPACE, VERSIONS

_KEPT = 4  # results kept for the pages after the first (see Graph._result)


class Graph:
    """The query route and the frozen view (`freeze()` until `thaw()`), which stands for ARG's indexing lag."""

    def __init__(self, arm: Arm) -> None:
        self._arm = arm
        self._lock = threading.Lock()
        self._frozen: list[Resource] | None = None
        self._results: OrderedDict[str, tuple[list[Resource], evaluate.Result]] = OrderedDict()

    def routes(self) -> tuple[Route, ...]:
        return (Route(f"providers/{NAMESPACE}/resources", {"POST": self.query}, VERSIONS),)

    def freeze(self) -> None:
        """Queries read the store as it is now until thaw(). Cheap: the store never changes a stored resource in
        place, so holding the current objects is a snapshot."""
        view = self._arm.store.in_key_order()
        with self._lock:
            self._frozen = view

    def thaw(self) -> None:
        with self._lock:
            self._frozen = None

    def _result(self, ask: request.Ask, parsed: Query) -> evaluate.Result:
        """The query's rows over the current view. The last few results are kept with the view they came from
        and reused while the view holds the very same resource objects (no write since), so paging through N
        rows does not evaluate the query N / $top times."""
        view = self._view()
        with self._lock:
            cached = self._results.get(ask.digest)
        if cached is not None and len(cached[0]) == len(view) and all(map(operator.is_, cached[0], view)):
            return cached[1]
        subs: set[str] | None = None
        if ask.subscriptions is not None or ask.groups is not None:
            subs = {s.lower() for s in ask.subscriptions or ()}
            subs |= source.subscriptions_in(view, ask.groups or ())
        result = evaluate.run(parsed, source.rows(view, subs))
        with self._lock:
            self._results[ask.digest] = (view, result)
            self._results.move_to_end(ask.digest)
            while len(self._results) > _KEPT:
                self._results.popitem(last=False)
        return result

    def _view(self) -> list[Resource]:
        with self._lock:
            frozen = self._frozen
        return frozen if frozen is not None else self._arm.store.in_key_order()

    def query(self, arm: Arm, req: Request, p: Params) -> Reply:
        ask = request.read(req)
        parsed = parse(ask.query)
        after, top = request.decode_token(ask) if ask.token else (None, ask.top or DEFAULT_TOP)
        result = self._result(ask, parsed)
        remaining = result.after(after) if after is not None else result.rows[ask.skip :]
        page, more = remaining[:top], len(remaining) > top
        names = _columns(parsed)
        pageable = "id" in names
        body: dict[str, Any] = {
            "totalRecords": len(result.rows),
            "count": len(page),
            "resultTruncated": "true" if more and not pageable else "false",
            "facets": [],
        }
        if more and pageable:
            body["$skipToken"] = request.encode_token(ask, result.position(page[-1]), top)
        data = [copy.deepcopy({name: row.cols.get(name) for name in names}) for row in page]
        body["data"] = _table(names, data) if ask.table else data
        return Reply(200, body)


def _columns(query: Query) -> list[str]:
    """The result's columns, in order: the last project's or summarize's, else the table's."""
    for op in reversed(query.ops):
        if isinstance(op, Project):
            return [name for name, _ in op.columns]
        if isinstance(op, Summarize):
            return [*(name for name, _ in op.by), op.name]
    return list(COLUMNS)


def _kind(values: list[Any]) -> str:
    """A column's type for the table format (the swagger's ColumnDataType), from its first non-null value."""
    found = next((v for v in values if v is not None), None)
    if isinstance(found, bool):
        return "boolean"
    if isinstance(found, int):
        return "integer"
    if isinstance(found, float):
        return "number"
    if isinstance(found, dict | list):
        return "object"
    return "string"


def _table(names: list[str], data: list[dict[str, Any]]) -> dict[str, Any]:
    columns = [{"name": name, "type": _kind([row[name] for row in data])} for name in names]
    return {"columns": columns, "rows": [[row[name] for name in names] for row in data]}

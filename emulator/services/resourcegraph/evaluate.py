"""Runs a parsed query over rows: expressions by values.py's Kusto semantics, then each tabular operator in turn.

Every row keeps a position, `(the values of the last order by, a unique key)`, that its final order follows; a
`$skipToken` names the last position served (route.py). `where` keeps a row only when its predicate is exactly
true (a null or non-boolean result drops it, as in Kusto).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import values
from .syntax import (
    Binary,
    Call,
    Column,
    Expr,
    InList,
    Limit,
    Literal,
    Member,
    OrderBy,
    Project,
    Query,
    Summarize,
    Where,
)


@dataclass(frozen=True)
class Row:
    """`key`: the source resource's id key, or a summarize group's JSON; `sort`: the last order by's values."""

    key: str
    cols: Mapping[str, Any]
    sort: tuple[Any, ...] = field(default=())


@dataclass(frozen=True)
class Result:
    """The rows in their final order, and the directions of the sort values their positions carry."""

    rows: list[Row]
    descending: tuple[bool, ...]

    def position(self, row: Row) -> list[Any]:
        return [list(row.sort), row.key]

    def after(self, position: list[Any]) -> list[Row]:
        """The rows placed after `position` (a token's): those not served yet. Found by bisection, as the rows
        are in position order."""
        sort, key = tuple(position[0]), str(position[1])
        low, high = 0, len(self.rows)
        while low < high:
            middle = (low + high) // 2
            row = self.rows[middle]
            if _compare(row.sort, row.key, sort, key, self.descending) > 0:
                high = middle
            else:
                low = middle + 1
        return self.rows[low:]


Compiled = Callable[[Mapping[str, Any]], Any]


def compile_expr(expr: Expr) -> Compiled:
    """The expression as a function of a row's columns: walked once per query, not once per row."""
    if isinstance(expr, Literal):
        constant = expr.value
        return lambda cols: constant
    if isinstance(expr, Column):
        name = expr.name
        return lambda cols: cols.get(name)
    if isinstance(expr, Member):
        base, key = compile_expr(expr.base), expr.key
        return lambda cols: values.member(base(cols), key)
    if isinstance(expr, Call):
        func, args = values.FUNCTIONS[expr.name], [compile_expr(a) for a in expr.args]
        if len(args) == 1:
            only = args[0]
            return lambda cols: func(only(cols))
        return lambda cols: func(*(a(cols) for a in args))
    if isinstance(expr, InList):
        op, left, items = expr.op, compile_expr(expr.left), expr.items
        return lambda cols: values.in_list(op, left(cols), items)
    return _binary(expr)


def _binary(expr: Binary) -> Compiled:
    op, left, right = expr.op, compile_expr(expr.left), compile_expr(expr.right)
    if op in ("=~", "!~") and isinstance(expr.right, Literal) and expr.right.value is not None:
        return _insensitive(op == "=~", left, values.tostring(expr.right.value).lower())
    if op not in ("and", "or"):
        return lambda cols: values.compare(op, left(cols), right(cols))
    decided = op == "or"  # `true or ...` / `false and ...`: the right side cannot change the answer

    def logic(cols: Mapping[str, Any]) -> Any:
        first = left(cols)
        return first if first is decided else values.logic(op, first, right(cols))

    return logic


def _insensitive(equal: bool, left: Compiled, literal: str) -> Compiled:
    """`x =~ 'literal'` / `x !~ 'literal'` with the literal lower-cased once (what values.compare does)."""

    def test(cols: Mapping[str, Any]) -> bool:
        found = left(cols)
        if found is None:
            return False
        text = found if isinstance(found, str) else values.tostring(found)
        return (text.lower() == literal) is equal

    return test


def value(expr: Expr, cols: Mapping[str, Any]) -> Any:
    """An expression's value on one row (compile_expr once for many rows)."""
    return compile_expr(expr)(cols)


def _compare(sort_a: tuple[Any, ...], key_a: str, sort_b: tuple[Any, ...], key_b: str, desc: tuple[bool, ...]) -> int:
    found = values.order(sort_a, sort_b, desc)
    if found:
        return found
    return (key_a > key_b) - (key_a < key_b)


def _where(rows: Iterable[Row], op: Where) -> Iterator[Row]:
    test = compile_expr(op.predicate)
    return (r for r in rows if test(r.cols) is True)


def _project(rows: Iterable[Row], op: Project) -> Iterator[Row]:
    columns = [(name, compile_expr(e)) for name, e in op.columns]
    return (Row(r.key, {name: get(r.cols) for name, get in columns}, r.sort) for r in rows)


def _order(rows: Iterable[Row], op: OrderBy) -> tuple[list[Row], tuple[bool, ...]]:
    """Sorted by the keys, then by row key: one stable pass per key, last key first (a descending pass keeps
    ties in order, so the row key stays ascending within them, as values.order and _compare place them)."""
    desc = tuple(d for _, d in op.keys)
    getters = [compile_expr(e) for e, _ in op.keys]
    keyed = sorted((Row(r.key, r.cols, tuple(g(r.cols) for g in getters)) for r in rows), key=lambda r: r.key)
    for index in reversed(range(len(getters))):
        keyed.sort(key=_sort_value(index), reverse=desc[index])
    return keyed, desc


def _sort_value(index: int) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: values.rank(row.sort[index])


def _summarize(rows: Iterable[Row], op: Summarize) -> list[Row]:
    groups: dict[str, tuple[list[Any], int]] = {}
    getters = [compile_expr(e) for _, e in op.by]
    for row in rows:
        found = [get(row.cols) for get in getters]
        key = json.dumps(found, sort_keys=True, separators=(",", ":"))
        groups[key] = (found, groups.get(key, (found, 0))[1] + 1)
    if not op.by and not groups:
        groups["[]"] = ([], 0)  # `summarize count()` over no rows is one row of 0
    names = [n for n, _ in op.by]
    return [
        Row(key, {**dict(zip(names, found, strict=True)), op.name: count})
        for key, (found, count) in sorted(groups.items())
    ]


def run(query: Query, source: Iterable[Row]) -> Result:
    """The query's rows over `source` (rows in key order), in their final order."""
    rows: Iterable[Row] = source
    descending: tuple[bool, ...] = ()
    for op in query.ops:
        if isinstance(op, Where):
            rows = _where(rows, op)
        elif isinstance(op, Project):
            rows = _project(rows, op)
        elif isinstance(op, OrderBy):
            rows, descending = _order(rows, op)
        elif isinstance(op, Limit):
            rows = itertools.islice(rows, max(op.count, 0))
        else:
            rows, descending = _summarize(rows, op), ()
    return Result(list(rows), descending)

"""The parsed form of a query: expressions and the tabular operators of the supported KQL subset, and the
column name Kusto gives an unnamed expression (`properties.x` and `tostring(properties.x)` are `properties_x`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUMMARIZE_COUNT = "count"  # the count column's name, as ResourcesPropertiesQuery.json shows it


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Column:
    name: str
    pos: int


@dataclass(frozen=True)
class Member:
    """`base.key`, `base['key']` or `base[0]`: a member of a dynamic value (null when absent)."""

    base: Expr
    key: str | int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    pos: int


@dataclass(frozen=True)
class Binary:
    """`and`, `or`, or a comparison (`==`, `!=`, `=~`, `!~`, `<`, `<=`, `>`, `>=`)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList:
    """`left in (...)` with `in`, `in~`, `!in` or `!in~` and a list of literals."""

    op: str
    left: Expr
    items: tuple[Any, ...]


Expr = Literal | Column | Member | Call | Binary | InList


@dataclass(frozen=True)
class Where:
    predicate: Expr


@dataclass(frozen=True)
class Project:
    columns: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class OrderBy:
    """Sort keys, each with `descending` (Kusto's default when neither asc nor desc is given)."""

    keys: tuple[tuple[Expr, bool], ...]


@dataclass(frozen=True)
class Limit:
    count: int


@dataclass(frozen=True)
class Summarize:
    """`summarize [name =] count() [by key, ...]`."""

    name: str
    by: tuple[tuple[str, Expr], ...]


Operator = Where | Project | OrderBy | Limit | Summarize


@dataclass(frozen=True)
class Query:
    table: str
    ops: tuple[Operator, ...]


def implied_name(expr: Expr) -> str | None:
    """Kusto's name for an unnamed column: a path's segments joined by `_`; a function call takes its first
    argument's name; anything else has none (the caller numbers it)."""
    if isinstance(expr, Column):
        return expr.name
    if isinstance(expr, Member):
        base = implied_name(expr.base)
        return f"{base}_{expr.key}" if base is not None else None
    if isinstance(expr, Call) and expr.args:
        return implied_name(expr.args[0])
    return None

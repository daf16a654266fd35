"""Kusto's scalar semantics for the supported subset (docs/emulator.md, "Resource Graph"): null propagation,
how values turn into strings, the functions, comparisons, and the total order `order by` and paging use.

Values are JSON values: None (null), bool, int, float, str, dict, list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def tostring(value: Any) -> str:
    """null -> "", booleans -> "true"/"false", objects and arrays -> compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def tobool(value: Any) -> bool | None:
    """A bool, a number (non-zero is true) or the string "true"/"false" (any case); anything else is null."""
    if isinstance(value, bool):
        return value
    if is_number(value):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _array_length(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def _bag_pack(*args: Any) -> dict[str, Any]:
    return {tostring(args[i]): args[i + 1] for i in range(0, len(args), 2)}


def _coalesce(*args: Any) -> Any:
    """The first argument that is neither null nor the empty string (Kusto's rule for strings)."""
    return next((a for a in args if not _is_empty(a)), None)


def _not(value: Any) -> bool | None:
    return (not value) if isinstance(value, bool) else None


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "tostring": tostring,
    "tobool": tobool,
    "tolower": lambda v: tostring(v).lower(),
    "toupper": lambda v: tostring(v).upper(),
    "isnull": lambda v: v is None,
    "isnotnull": lambda v: v is not None,
    "isempty": _is_empty,
    "isnotempty": lambda v: not _is_empty(v),
    "array_length": _array_length,
    "bag_pack": _bag_pack,
    "pack": _bag_pack,
    "coalesce": _coalesce,
    "not": _not,
}


def member(value: Any, key: str | int) -> Any:
    """`value.key` / `value[index]`: a missing member, a wrong-typed base or an index out of range is null."""
    if isinstance(key, str) and isinstance(value, dict):
        return value.get(key)
    if isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
        return value[key]
    return None


def _equal(left: Any, right: Any) -> bool:
    if is_number(left) and is_number(right):
        return bool(left == right)
    return type(left) is type(right) and bool(left == right)


def compare(op: str, left: Any, right: Any) -> bool:
    """A comparison; any null operand makes it false (whatever the operator). `==`/`!=` are case-sensitive and
    values of different types are unequal; `=~`/`!~` compare the tostring() forms case-insensitively; `<`,
    `<=`, `>`, `>=` are false unless both operands are numbers."""
    if left is None or right is None:
        return False
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("=~", "!~"):
        same = tostring(left).lower() == tostring(right).lower()
        return same if op == "=~" else not same
    if not (is_number(left) and is_number(right)):
        return False
    ordered = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}
    return bool(ordered[op])


def in_list(op: str, value: Any, items: Sequence[Any]) -> bool:
    """`in`/`!in` match as `==` does, `in~`/`!in~` as `=~`; a null value makes every form false."""
    if value is None:
        return False
    test = "=~" if op.endswith("~") else "=="
    found = any(compare(test, value, item) for item in items)
    return found if not op.startswith("!") else not found


def logic(op: str, left: Any, right: Any) -> bool | None:
    """Three-valued `and`/`or`: a non-boolean operand counts as null."""
    a = left if isinstance(left, bool) else None
    b = right if isinstance(right, bool) else None
    if op == "and":
        return False if a is False or b is False else (True if a and b else None)
    return True if a is True or b is True else (False if a is False and b is False else None)


def rank(value: Any) -> tuple[int, Any]:
    """Order across types: null < bool < number < string < objects/arrays (by their JSON)."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if is_number(value):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, tostring(value))


def order(left: Sequence[Any], right: Sequence[Any], descending: Sequence[bool]) -> int:
    """-1, 0 or 1: `left` before, level with or after `right` under sort keys with those directions. Nulls
    come first ascending and last descending, as in Kusto."""
    for a, b, desc in zip(left, right, descending, strict=True):
        ra, rb = rank(a), rank(b)
        if ra != rb:
            result = -1 if ra < rb else 1
            return -result if desc else result
    return 0

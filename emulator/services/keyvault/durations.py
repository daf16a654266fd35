"""ISO 8601 durations as Key Vault rotation policies write them (`P90D`, `P2Y`, `P1Y6M`, `PT48H`).

Years and months are calendar units: `P1M` from 31 January is the last day of February.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?$",
    re.IGNORECASE,
)


def parse(text: str) -> dict[str, int]:
    """The parts of a duration ({"y", "mo", "w", "d", "h", "mi", "s"}); ValueError for anything else."""
    found = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if found is None or not any(found.groupdict().values()) or text.strip().upper().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration (e.g. P90D, P2Y, PT48H)")
    return {name: int(value or 0) for name, value in found.groupdict().items()}


def add(when: datetime, text: str) -> datetime:
    """`when` plus the duration: calendar years and months first, then weeks, days and time."""
    parts = parse(text)
    months = when.month - 1 + parts["mo"] + 12 * parts["y"]
    year, month = when.year + months // 12, months % 12 + 1
    moved = when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))
    return moved + timedelta(
        weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["mi"], seconds=parts["s"]
    )


def at_least(text: str, days: int, since: datetime) -> bool:
    """Whether the duration, counted from `since`, lasts at least `days` days."""
    return add(since, text) >= since + timedelta(days=days)

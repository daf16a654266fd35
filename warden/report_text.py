"""The compliance report for a terminal (tables) and as JSON (docs/report.md); every cell from the log is escaped
with warden.text.printable, since resource ids come from events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from warden.audit import format_time
from warden.model import Json
from warden.posture import Item, Posture, Status, exemptions, needs_human
from warden.text import printable

REASON_WIDTH = 80
#: The planner's words for a drift with no automatic fix: the same on every such row, so the table shows the drift.
_NO_FIX = "no automatic remediation for this drift; a human must fix it; drift: "
_TIME = "%Y-%m-%d %H:%M"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def resource_name(resource_id: str) -> str:
    """The last segment of an id (the account's name), escaped."""
    return printable(resource_id.rstrip("/").rsplit("/", 1)[-1] or "-")


def window_line(p: Posture) -> str:
    """The window and what was read."""
    days = f"{p.days} day{'s' * (p.days != 1)}"
    line = f"{p.since.strftime(_TIME)} to {p.generated.strftime(_TIME)} UTC ({days}), {p.entries_read} audit entries"
    return line + (f" ({p.unreadable} unreadable, skipped: run `warden verify`)" if p.unreadable else "")


def totals_line(p: Posture) -> str:
    """One line: how many resource/control pairs, and each status's total."""
    counts = ", ".join(f"{s.value} {p.totals.get(s, 0)}" for s in Status)
    return f"Totals: {len(p.items)} resource/control pairs: {counts}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, last_free: bool = False) -> list[str]:
    """Aligned columns; numbers right-aligned; the last column left ragged when `last_free`."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = []
        for i, cell in enumerate(row):
            if last_free and i == len(row) - 1:
                cells.append(cell)
            elif i and cell.isdigit():
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell.ljust(widths[i]))
        out.append("  ".join(cells).rstrip())
    return out


def _counts_table(title: str, label: str, groups: Mapping[str, Mapping[Status, int]]) -> list[str]:
    header = [label, *(s.value.upper() for s in Status)]
    rows = [[printable(name or "-"), *(str(counts.get(s, 0)) for s in Status)] for name, counts in groups.items()]
    return [f"{title}:", *(_table(header, rows) if rows else ["  (none)"])]


def _items_table(title: str, items: Sequence[Item], *, expiry: bool) -> list[str]:
    header = ["RESOURCE", "CONTROL", "OUTCOME", "TIME (UTC)", "EXPIRES" if expiry else "REASON"]
    rows = [
        [
            resource_name(i.resource_id),
            printable(i.control_id),
            printable(i.outcome or "intent"),
            i.time[:16].replace("T", " "),
            printable(i.expires or "-")
            if expiry
            else _cut(printable(i.reason.removeprefix(_NO_FIX) or "-"), REASON_WIDTH),
        ]
        for i in items
    ]
    return [f"{title} ({len(items)}):", *(_table(header, rows, last_free=True) if rows else ["  (none)"])]


def format_posture(p: Posture) -> str:
    """The report as terminal tables: totals, per control, per subscription, what needs a human, exemptions,
    and the trend (one line per UTC day)."""
    lines = [f"Compliance posture {window_line(p)}", totals_line(p)]
    lines += ["", *_counts_table("By control", "CONTROL", p.by_control)]
    lines += ["", *_counts_table("By subscription", "SUBSCRIPTION", p.by_subscription)]
    lines += ["", *_items_table("Needs a human", needs_human(p), expiry=False)]
    lines += ["", *_items_table("Exempt", exemptions(p), expiry=True)]
    trend = [[d.day.isoformat(), *(str(d.counts.get(s, 0)) for s in Status)] for d in p.trend]
    lines += ["", "Trend (latest record per resource and control at the end of each UTC day):"]
    lines += _table(["DAY", *(s.value.upper() for s in Status)], trend)
    return "\n".join(lines)


def _counts_json(counts: Mapping[Status, int]) -> dict[str, Json]:
    return {s.value: counts.get(s, 0) for s in Status}


def item_json(i: Item) -> dict[str, Json]:
    return {
        "resourceId": i.resource_id,
        "controlId": i.control_id,
        "subscriptionId": i.subscription_id,
        "status": i.status.value,
        "outcome": i.outcome,
        "time": i.time,
        "reason": i.reason,
        "expires": i.expires,
        "seq": i.seq,
    }


def posture_json(p: Posture) -> dict[str, Json]:
    """The report as a JSON-able dict: camelCase keys, statuses by their values, every count present."""
    return {
        "generated": format_time(p.generated),
        "since": format_time(p.since),
        "days": p.days,
        "entriesRead": p.entries_read,
        "unreadable": p.unreadable,
        "totals": _counts_json(p.totals),
        "byControl": {name: _counts_json(c) for name, c in p.by_control.items()},
        "bySubscription": {name: _counts_json(c) for name, c in p.by_subscription.items()},
        "needsHuman": [item_json(i) for i in needs_human(p)],
        "exemptions": [item_json(i) for i in exemptions(p)],
        "trend": [{"day": d.day.isoformat(), "counts": _counts_json(d.counts)} for d in p.trend],
        "items": [item_json(i) for i in p.items],
    }

"""The compliance report as one self-contained HTML5 document (docs/report.md): inline CSS with a print style, an
inline SVG chart of the trend, no script and no external reference. Everything from the log goes through
html.escape; elements carry ids and data-* attributes a browser test can count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from warden.audit import format_time
from warden.posture import DayCounts, Item, Posture, Status, exemptions, needs_human

COLORS: Mapping[Status, str] = {
    Status.COMPLIANT: "#2e7d32",
    Status.REMEDIATED: "#1565c0",
    Status.WOULD_REMEDIATE: "#f9a825",
    Status.EXEMPT: "#8d8d8d",
    Status.NEEDS_HUMAN: "#ef6c00",
    Status.FAILED: "#c62828",
}
LABELS: Mapping[Status, str] = {
    Status.COMPLIANT: "compliant",
    Status.REMEDIATED: "remediated",
    Status.WOULD_REMEDIATE: "would remediate (dry-run)",
    Status.EXEMPT: "exempt",
    Status.NEEDS_HUMAN: "needs a human",
    Status.FAILED: "failed",
}

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  background: #fff; margin: 0 auto; padding: 16px 24px; max-width: 1200px; }
h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.15em; margin: 24px 0 8px; }
.meta { color: #555; margin: 0; }
.totals { display: flex; flex-wrap: wrap; gap: 8px; list-style: none; padding: 0; margin: 12px 0; }
.totals li { border: 1px solid #ccc; border-left: 6px solid var(--c); border-radius: 4px; padding: 6px 12px;
  min-width: 120px; }
.totals .n { display: block; font-size: 1.6em; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { border: 1px solid #d4d4d4; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td[data-count="0"] { color: #aaa; }
.id { display: block; color: #666; font-size: 0.8em; word-break: break-all; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; background: var(--c);
  white-space: nowrap; }
.reason { word-break: break-word; }
.nowrap { white-space: nowrap; }
.empty { color: #666; font-style: italic; }
svg { max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0; margin: 4px 0; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; background: var(--c);
  vertical-align: -1px; }
footer { margin-top: 32px; color: #666; font-size: 0.85em; }
@media print {
  body { font-size: 10pt; padding: 0; max-width: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, .totals li, figure { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  thead th { background: #fff; border-bottom: 2px solid #555; }
  .status { color: #000; background: #fff; border: 1px solid var(--c); }
  a { color: inherit; text-decoration: none; }
}
"""


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _name(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] or resource_id


def _status_badge(status: Status) -> str:
    style = f"--c:{COLORS[status]}"
    return f'<span class="status" style="{style}" data-status="{status.value}">{escape(LABELS[status])}</span>'


def _resource_cell(resource_id: str) -> str:
    return f'<td><strong>{escape(_name(resource_id))}</strong><span class="id">{escape(resource_id)}</span></td>'


def _totals(p: Posture) -> str:
    items = []
    for s in Status:
        n = p.totals.get(s, 0)
        items.append(
            f'<li style="--c:{COLORS[s]}" data-status="{s.value}">'
            f'<span class="n" id="total-{s.value}" data-count="{n}">{n}</span>{escape(LABELS[s])}</li>'
        )
    return (
        f'<section id="totals"><h2>Totals</h2><p>{len(p.items)} resource/control pairs</p>'
        f'<ul class="totals">{"".join(items)}</ul></section>'
    )


def _items_table(section: str, title: str, items: Sequence[Item], *, expiry: bool) -> str:
    head = ["Resource", "Control", "Status", "Outcome", "Time (UTC)", "Expires" if expiry else "Reason"]
    rows = []
    for i in items:
        last = escape(i.expires or "-") if expiry else escape(i.reason or "-")
        rows.append(
            f'<tr data-resource="{_attr(i.resource_id)}" data-control="{_attr(i.control_id)}" '
            f'data-status="{i.status.value}" data-outcome="{_attr(i.outcome)}"'
            + (f' data-expires="{_attr(i.expires or "")}"' if expiry else "")
            + f">{_resource_cell(i.resource_id)}<td>{escape(i.control_id)}</td><td>{_status_badge(i.status)}</td>"
            f'<td class="nowrap">{escape(i.outcome or "intent, no result")}</td>'
            f'<td class="nowrap">{escape(i.time[:19].replace("T", " "))}</td>'
            f'<td class="reason">{last}</td></tr>'
        )
    body = (
        f"<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="empty">None.</p>'
    )
    return f'<section id="{section}" data-count="{len(items)}"><h2>{escape(title)} ({len(items)})</h2>{body}</section>'


def _counts_table(section: str, title: str, label: str, groups: Mapping[str, Mapping[Status, int]]) -> str:
    attr = section.removeprefix("by-")
    head = f"<th>{label}</th>" + "".join(f'<th class="num">{escape(LABELS[s])}</th>' for s in Status)
    rows = []
    for name, counts in groups.items():
        cells = "".join(
            f'<td class="num" data-status="{s.value}" data-count="{counts.get(s, 0)}">{counts.get(s, 0)}</td>'
            for s in Status
        )
        rows.append(f'<tr data-{attr}="{_attr(name)}"><th>{escape(name or "(none)")}</th>{cells}</tr>')
    body = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="empty">No records in the window.</p>'
    )
    return f'<section id="{section}"><h2>{escape(title)}</h2>{body}</section>'


def axis(value: int) -> tuple[int, int]:
    """(tick step, tick count) of a y axis reaching `value`: the step is 1, 2 or 5 times a power of ten, chosen
    for at most four steps (at least one: an empty chart still has an axis)."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if step * 4 >= value:
                return step, max(1, math.ceil(value / step))
        power *= 10


def trend_svg(trend: Sequence[DayCounts], *, width: int = 760, height: int = 280) -> str:
    """Stacked bars, one per UTC day, by status; y axis with ticks and a label, x axis with the days."""
    left, right, top, bottom = 56, 12, 12, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    step, ticks = axis(max((sum(d.counts.values()) for d in trend), default=0))
    top_value = step * ticks
    parts = [
        f'<svg id="trend-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="trend-title"><title id="trend-title">Resource/control pairs by status at the end '
        f"of each UTC day</title>"
    ]
    for k in range(ticks + 1):  # gridlines and y ticks
        value = step * k
        y = top + plot_h - plot_h * k / ticks
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    slot = plot_w / max(len(trend), 1)
    bar = max(min(slot * 0.7, 60), 2)
    label_every = max(1, math.ceil(len(trend) / 14))  # at most ~14 day labels
    for n, day in enumerate(trend):
        x = left + slot * n + (slot - bar) / 2
        base = float(top + plot_h)
        parts.append(f'<g class="day" data-day="{day.day.isoformat()}">')
        for s in Status:
            count = day.counts.get(s, 0)
            if not count:
                continue
            h = plot_h * count / top_value
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLORS[s]}" '
                f'data-status="{s.value}" data-count="{count}"><title>{day.day.isoformat()}: {count} '
                f"{escape(LABELS[s])}</title></rect>"
            )
        parts.append("</g>")
        if n % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{day.day:%m-%d}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#555"/>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#555"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">UTC day</text>'
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"resource/control pairs</text></svg>"
    )
    return "".join(parts)


def _legend() -> str:
    items = "".join(f'<li><i style="--c:{COLORS[s]}"></i>{escape(LABELS[s])}</li>' for s in Status)
    return f'<ul class="legend" id="trend-legend">{items}</ul>'


def _trend(p: Posture) -> str:
    return (
        '<section id="trend"><h2>Trend</h2><p class="meta">The latest record per resource and control at the end '
        "of each UTC day of the window (records before the window are not read).</p>"
        f"<figure>{trend_svg(p.trend)}{_legend()}</figure></section>"
    )


def render_report(p: Posture) -> str:
    """The whole report as one HTML5 document: totals, what needs a human, the trend chart, per control and
    per subscription, exemptions with their expiry. Opens offline: nothing is loaded from anywhere."""
    window = f"{format_time(p.since)[:16].replace('T', ' ')} to {format_time(p.generated)[:16].replace('T', ' ')} UTC"
    unreadable = f"; {p.unreadable} unreadable, skipped (run warden verify)" if p.unreadable else ""
    body: Iterable[str] = (
        "<header><h1>warden compliance report</h1>",
        f'<p class="meta" id="window" data-days="{p.days}" data-since="{_attr(format_time(p.since))}" '
        f'data-generated="{_attr(format_time(p.generated))}">{escape(window)} ({p.days} '
        f"day{'s' * (p.days != 1)}); {p.entries_read} audit entries read{escape(unreadable)}</p></header>",
        "<main>",
        _totals(p),
        _items_table("needs-human", "Needs a human", needs_human(p), expiry=False),
        _trend(p),
        _counts_table("by-control", "By control", "Control", p.by_control),
        _counts_table("by-subscription", "By subscription", "Subscription", p.by_subscription),
        _items_table("exemptions", "Exempt", exemptions(p), expiry=True),
        "</main>",
        "<footer>Built from the audit log (the single source of truth): <code>warden log</code> shows each "
        "record, <code>warden verify</code> checks that none was removed or altered.</footer>",
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>warden compliance report {escape(format_time(p.generated)[:10])}</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )

"""The audit log as one self-contained HTML page (GET /api/audit/page, docs/review.md): the filter form, the
needs-human list first, then the matching entries newest first, each remediation with its before and after.
Pure: no I/O. Every value from the log is escaped; the page names no external URL and never holds the function key.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from warden.audit import format_time
from warden.model import Json, Outcome
from warden.text import printable

#: Records whose change or steps are shown as before/after: what warden did (result) or would do (decision).
REMEDIATION_KINDS = frozenset({"result", "decision"})

# The function key arrives as ?code=<key>. The server never writes it into a page (it is a secret: a saved or
# printed page would leak it), so this copies it from the address bar, at the moment it is needed, into the
# filter form's submission and into the links between the report and the audit page. Without JavaScript the form
# still works with an x-functions-key header or with auth off locally (docs/review.md "The function key").
KEEP_CODE_SCRIPT = """(function () {
  var code = new URLSearchParams(location.search).get("code");
  if (!code) { return; }
  document.addEventListener("submit", function (e) {
    var form = e.target, input = form.querySelector("input[name=code]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "code";
      form.appendChild(input);
    }
    input.value = code;
  });
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a[data-keep-code]") : null;
    if (a) {
      var url = new URL(a.href);
      url.searchParams.set("code", code);
      a.href = url.href;
    }
  });
})();"""
KEEP_CODE_TAG = f"<script>{KEEP_CODE_SCRIPT}</script>"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.4em 0 .4em; }
.meta, .count { color: #555; } nav a { margin-right: 1em; }
form { display: flex; flex-wrap: wrap; gap: .6em 1em; align-items: end; padding: .6em; background: #f3f4f6; }
label { display: flex; flex-direction: column; font-size: .85em; color: #444; }
input, select, button { font: inherit; padding: .15em .3em; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: .25em .5em; }
thead th { border-bottom: 2px solid #999; } tbody tr { border-bottom: 1px solid #ddd; }
table.change { width: auto; margin: .2em 0; font-size: .9em; } table.change td, table.change th { padding: 0 .5em; }
.before { color: #8a1c1c; } .after { color: #1c6b2a; } .none { color: #777; font-style: italic; }
.outcome { font-weight: 600; white-space: nowrap; } .time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.o-remediated { color: #1c6b2a; } .o-failed, .o-needs-human, .o-partial, .o-not-verified { color: #8a1c1c; }
.o-would-remediate { color: #8a5a00; } .error { color: #8a1c1c; }
#needs-human { border-left: 4px solid #8a1c1c; padding-left: .8em; }
@media print { form, nav { display: none; } body { margin: 0; } }
"""


_ROW_DATA = (
    ("seq", "seq"),
    ("kind", "kind"),
    ("outcome", "outcome"),
    ("control", "controlId"),
    ("resource", "resourceId"),
)
_ENTRY_COLUMNS = ("time (UTC)", "kind", "resource", "control", "mode", "outcome", "detail")


class NeedsHuman(Protocol):
    """What the page shows of a needs-human item (warden.posture.Item has these, and more)."""

    @property
    def resource_id(self) -> str: ...
    @property
    def control_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class PageQuery:
    """The filters as the admin typed them (echoed back into the form); `limit` is the most rows shown."""

    since: str = "7d"
    resource: str = ""
    control: str = ""
    outcome: str = ""
    limit: int = 500


@dataclass(frozen=True)
class AuditPage:
    """Everything the page shows. `entries` are the newest matching ones, newest first, at most `query.limit`;
    `matching` counts every match; `entries_read` is what the bounded read returned (the page's cost)."""

    query: PageQuery
    since: datetime
    generated: datetime
    entries: Sequence[Mapping[str, Json]]
    matching: int
    needs_human: Sequence[NeedsHuman]
    entries_read: int
    report_days: int = 7


def csp(document: str) -> str:
    """The Content-Security-Policy header for a page of ours: nothing loads from anywhere (no URL, not even the
    app's), only the document's own inline scripts run (by hash), and a form submits only to the app itself."""
    hashes = (
        " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
            for s in dict.fromkeys(_INLINE_SCRIPT.findall(document))
        )
        or "'none'"
    )
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {hashes}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _e(value: object) -> str:
    """Escaped for HTML text and attributes, control characters made visible (a forged id cannot hide text)."""
    return html.escape(printable(value), quote=True)


def _value(value: Json) -> str:
    if value is None:
        return "(unset)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _time(text: object) -> str:
    """A stored ISO time as `YYYY-MM-DD HH:MM:SS` (UTC); anything else as stored."""
    value = str(text or "")
    return value[:19].replace("T", " ") if len(value) >= 19 and value[10:11] == "T" else value


def _resource(resource_id: object) -> str:
    full = str(resource_id or "")
    name = full.rstrip("/").rsplit("/", 1)[-1] or "-"
    return f'<span title="{_e(full)}">{_e(name)}</span>' if full else "-"


def _delta_cells(delta: Json) -> str:
    if isinstance(delta, Mapping) and ("before" in delta or "after" in delta):
        before, after = _e(_value(delta.get("before"))), _e(_value(delta.get("after")))
        if delta.get("irreversible") is True:
            after += ' <strong class="error">(irreversible)</strong>'
        return f'<td class="before">{before}</td><td class="after">{after}</td>'
    return f'<td class="before none">-</td><td class="after">{_e(_value(delta))}</td>'


def _change_table(entry: Mapping[str, Json]) -> str:
    """The change (property: before, after) and every step with its status and own change."""
    rows = []
    change = entry.get("change")
    for prop, delta in change.items() if isinstance(change, Mapping) else ():
        name = _e(prop)
        rows.append(f'<tr class="delta" data-property="{name}"><td>{name}</td><td></td>{_delta_cells(delta)}</tr>')
    steps = entry.get("steps")
    for step in steps if isinstance(steps, list) else ():
        if not isinstance(step, Mapping):
            continue
        label = f"{step.get('step') or '-'} ({step.get('status') or '?'})"
        if step.get("target"):
            label += f" on {str(step['target']).rstrip('/').rsplit('/', 1)[-1]}"
        step_change = step.get("change")
        deltas = list(step_change.items()) if isinstance(step_change, Mapping) and step_change else [("", None)]
        if isinstance(change, Mapping) and all(change.get(k) == v for k, v in deltas):  # the change shown above
            deltas = [("", None)]
        for prop, delta in deltas:
            cells = _delta_cells(delta) if prop else '<td class="none">-</td><td class="none">-</td>'
            row = f"<td>{_e(prop)}</td><td>{_e(label)}</td>{cells}"
            rows.append(f'<tr class="step" data-step="{_e(step.get("step"))}">{row}</tr>')
    if not rows:
        return ""
    head = "<thead><tr><th>property</th><th>step</th><th>before</th><th>after</th></tr></thead>"
    return f'<table class="change">{head}<tbody>{"".join(rows)}</tbody></table>'


def _detail(entry: Mapping[str, Json]) -> str:
    parts = []
    if entry.get("kind") in REMEDIATION_KINDS and (entry.get("change") or entry.get("steps")):
        parts.append(_change_table(entry))
    if entry.get("reason"):
        parts.append(f'<div class="reason">{_e(entry["reason"])}</div>')
    if entry.get("error"):
        parts.append(f'<div class="error">error: {_e(entry["error"])}</div>')
    return "".join(parts)


def _entry_row(entry: Mapping[str, Json]) -> str:
    outcome = str(entry.get("outcome") or "")
    attrs = " ".join(f'data-{name}="{_e(entry.get(key) or "")}"' for name, key in _ROW_DATA)
    cells = [
        f'<td class="time">{_e(_time(entry.get("time")))}</td>',
        f"<td>{_e(entry.get('kind') or '-')}</td>",
        f"<td>{_resource(entry.get('resourceId'))}</td>",
        f"<td>{_e(entry.get('controlId') or '-')}</td>",
        f"<td>{_e(entry.get('mode') or '-')}</td>",
        f'<td class="outcome o-{_e(outcome)}">{_e(outcome or "-")}</td>',
        f"<td>{_detail(entry)}</td>",
    ]
    return f'<tr class="entry" {attrs}>{"".join(cells)}</tr>'


def _needs_row(item: NeedsHuman) -> str:
    status = str(item.status)
    return (
        f'<tr class="needs" data-status="{_e(status)}" data-control="{_e(item.control_id)}" '
        f'data-resource="{_e(item.resource_id)}"><td class="time">{_e(_time(item.time))}</td>'
        f'<td class="outcome o-{_e(status)}">{_e(status)}</td><td>{_resource(item.resource_id)}</td>'
        f"<td>{_e(item.control_id)}</td><td>{_e(item.reason)}</td></tr>"
    )


def _form(query: PageQuery) -> str:
    options = "".join(
        f'<option value="{_e(v)}"{" selected" if v == query.outcome else ""}>{_e(v or "(any)")}</option>'
        for v in ["", *(o.value for o in Outcome)]
    )
    return (
        '<form method="get" action="" id="filters">'
        f'<label>since (ISO date or time, or age: 24h, 7d)<input name="since" value="{_e(query.since)}"></label>'
        f'<label>resource (substring or glob)<input name="resource" value="{_e(query.resource)}"></label>'
        f'<label>control (id or glob)<input name="control" value="{_e(query.control)}"></label>'
        f'<label>outcome<select name="outcome">{options}</select></label>'
        f'<label>limit<input name="limit" type="number" min="1" value="{query.limit}"></label>'
        '<button type="submit">Filter</button></form>'
    )


def _table(head: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="none">{_e(empty)}</p>'
    ths = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_audit_page(page: AuditPage) -> str:
    """The whole page: a self-contained HTML document (inline style, one small inline script, no URL)."""
    q = page.query
    needs = [_needs_row(item) for item in page.needs_human]
    rows = [_entry_row(entry) for entry in page.entries]
    shown, matching, days = len(rows), page.matching, page.report_days
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>warden audit log</title><style>{_STYLE}</style>{KEEP_CODE_TAG}</head><body>"
        f'<h1>warden audit log</h1><p class="meta">entries since {_e(format_time(page.since))} (UTC); '
        f"generated {_e(format_time(page.generated))}; {page.entries_read} entries read</p>"
        f'<nav><a data-keep-code href="../report?days={days}">compliance report (last {days}d)</a></nav>'
        f"{_form(q)}"
        f'<section id="needs-human" data-count="{len(needs)}"><h2>Needs a human ({len(needs)})</h2>'
        '<p class="meta">The latest evaluation of each resource and control in this window that needs a person or '
        "failed, newest first (the resource and control filters apply, the outcome filter does not).</p>"
        f"{_table(('time', 'status', 'resource', 'control', 'reason'), needs, 'Nothing needs a human.')}</section>"
        f'<section id="entries" data-matching="{matching}" data-shown="{shown}" data-read="{page.entries_read}">'
        f'<h2>Entries</h2><p class="count">showing {shown} of {matching} matching, newest first'
        f"{' (raise the limit or narrow the filters for the rest)' if shown < matching else ''}</p>"
        f"{_table(_ENTRY_COLUMNS, rows, 'No entry matches.')}"
        "</section></body></html>\n"
    )

"""The admin's pages served by the Function App (docs/review.md): GET /api/report and GET /api/audit/page, both
read from the audit log over a bounded window (only the day files/blobs that can hold it are read).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import azure.functions as func

from warden.audit import AuditLog
from warden.audit_review import filter_entries
from warden.azure import functions_host as host
from warden.cli_log import positive_count, since_time
from warden.model import Json
from warden.redact import for_log

if TYPE_CHECKING:  # the pages' modules load on the first request: cold start pays for none of them
    from warden.audit_page import AuditPage, PageQuery

#: A year of day files is the most one request reads (the report's cost follows its window).
MAX_REPORT_DAYS = 366
DEFAULT_PAGE_SINCE = "7d"
DEFAULT_PAGE_LIMIT = 500


def on_report(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/report?days=7[&format=json] : the compliance posture over the last `days` days."""
    rt = host.get_runtime()
    return report_response(req, rt.audit, rt.clock())


def on_audit_page(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/audit/page?since=7d&resource=&control=&outcome=&limit=500 : the audit log as a page."""
    rt = host.get_runtime()
    return audit_page_response(req, rt.audit, rt.clock())


def _bad(name: str, exc: ValueError) -> func.HttpResponse:
    return func.HttpResponse(f"bad query: {name}: {for_log(str(exc))}\n", status_code=400)


def _page(document: str) -> func.HttpResponse:
    from warden.audit_page import csp

    headers = {
        "Content-Security-Policy": csp(document),
        "Cache-Control": "no-store",  # the log is confidential: no shared or back-button cache keeps it
        "Referrer-Policy": "no-referrer",  # the address holds the function key
        "X-Content-Type-Options": "nosniff",
    }
    return func.HttpResponse(document, status_code=200, headers=headers, mimetype="text/html", charset="utf-8")


def report_days(text: str | None) -> int:
    """`days`: a whole number from 1 to MAX_REPORT_DAYS; raises ValueError."""
    from warden.posture import DEFAULT_DAYS

    days = positive_count(text or str(DEFAULT_DAYS))
    if days > MAX_REPORT_DAYS:
        raise ValueError(f"at most {MAX_REPORT_DAYS}: {days}")
    return days


def report_response(req: func.HttpRequest, audit: AuditLog, now: datetime) -> func.HttpResponse:
    try:
        days = report_days(req.params.get("days"))
    except ValueError as exc:
        return _bad("days", exc)
    form = req.params.get("format") or "html"
    if form not in ("html", "json"):
        return _bad("format", ValueError(f"html or json, not {form!r}"))
    from warden.posture import read_posture
    from warden.report_html import render_report
    from warden.report_text import posture_json

    posture = read_posture(audit, now=now, days=days)
    if form == "json":
        return func.HttpResponse(json.dumps(posture_json(posture)), status_code=200, mimetype="application/json")
    return _page(with_audit_link(render_report(posture), days))


def with_audit_link(document: str, days: int) -> str:
    """The report with a link to the audit page over the same days, and the script that carries the key along."""
    from warden.audit_page import KEEP_CODE_TAG

    nav = f'<nav><a data-keep-code href="audit/page?since={days}d">audit log (last {days}d)</a></nav>{KEEP_CODE_TAG}'
    start = document.find("<body")
    end = document.find(">", start) + 1 if start >= 0 else 0
    return document[:end] + nav + document[end:]


def page_query(req: func.HttpRequest, now: datetime) -> tuple[PageQuery, datetime]:
    """The filters of a request, checked with the parsers of `warden log`; raises ValueError naming the field."""
    from warden.audit_page import PageQuery

    text = (req.params.get("since") or DEFAULT_PAGE_SINCE).strip()
    try:
        since = since_time(text, now)
    except ValueError as exc:
        raise ValueError(f"since: {exc}") from None
    try:
        limit = positive_count(req.params.get("limit") or str(DEFAULT_PAGE_LIMIT))
    except ValueError as exc:
        raise ValueError(f"limit: {exc}") from None
    fields = {k: (req.params.get(k) or "").strip() for k in ("resource", "control", "outcome")}
    return PageQuery(since=text, limit=limit, **fields), since


def audit_page_response(req: func.HttpRequest, audit: AuditLog, now: datetime) -> func.HttpResponse:
    try:
        query, since = page_query(req, now)
    except ValueError as exc:
        return func.HttpResponse(f"bad query: {for_log(str(exc))}\n", status_code=400)
    from warden.audit_page import render_audit_page

    return _page(render_audit_page(build_audit_page(audit, now, query, since)))


class _Counted:
    """An iterator over entries that counts them (what the bounded read cost)."""

    def __init__(self, entries: Iterator[dict[str, Json]]) -> None:
        self._entries = entries
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Json]]:
        for entry in self._entries:
            self.count += 1
            yield entry


def build_audit_page(audit: AuditLog, now: datetime, query: PageQuery, since: datetime) -> AuditPage:
    """One bounded read: the window (since, resource, control) feeds the needs-human list, the outcome filter
    then picks the rows; only the newest `limit` are kept while counting every match."""
    from warden.audit_page import AuditPage
    from warden.posture import build_posture, needs_human

    read = _Counted(audit.entries(since=since))  # not the older day files/blobs
    window = list(filter_entries(read, since=since, resource=query.resource or None, control=query.control or None))
    days = max(1, math.ceil((now - since) / timedelta(days=1)))
    posture = build_posture(window, now=now, days=days)
    shown: deque[Mapping[str, Json]] = deque(maxlen=query.limit)
    matching = 0
    for entry in filter_entries(window, outcome=query.outcome or None):
        matching += 1
        shown.append(entry)
    return AuditPage(
        query=query,
        since=since,
        generated=now,
        entries=list(reversed(shown)),
        matching=matching,
        needs_human=needs_human(posture),
        entries_read=read.count,
        report_days=min(days, MAX_REPORT_DAYS),
    )

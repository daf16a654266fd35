"""The report and the audit page in a real headless browser (Debian's chromium through Playwright), served by the
function app behind a function key, read from an audit log the real pipeline wrote (docs/review.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.browser.conftest import App, Browse
from warden.audit import LocalAuditLog
from warden.audit_review import filter_entries
from warden.model import Json
from warden.posture import Status, build_posture, needs_human


def url(app: App, route: str, *, key: bool = True, **params: str) -> str:
    query = {**params, **({"code": app.key} if key else {})}
    return f"{app.served.base}/api/{route}?{urlencode(query)}"


def matching(app: App, since: timedelta, **filters: str) -> list[dict[str, Json]]:
    """What filter_entries gives over the same log, read here independently of the app."""
    start = datetime.now(UTC) - since
    return list(filter_entries(LocalAuditLog(app.audit_dir).entries(since=start), since=start, **filters))  # type: ignore[arg-type]


def rows(browse: Browse, selector: str = "#entries tr.entry") -> list[dict[str, str]]:
    found: list[dict[str, str]] = browse.page.eval_on_selector_all(
        selector, "rows => rows.map(r => Object.assign({}, r.dataset))"
    )
    return found


def visit(browse: Browse, address: str) -> Any:
    response = browse.page.goto(address)
    assert response is not None and response.status == 200, response and response.status
    return response


def test_the_report_shows_the_audit_logs_counts(app: App, browse: Browse) -> None:
    response = visit(browse, url(app, "report", days="7"))
    posture = build_posture(LocalAuditLog(app.audit_dir).entries(), now=datetime.now(UTC), days=7)
    shown = {s: int(browse.page.get_attribute(f"#total-{s.value}", "data-count")) for s in Status}
    assert shown == {s: posture.totals.get(s, 0) for s in Status}
    assert shown[Status.REMEDIATED] > 0 and shown[Status.COMPLIANT] > 0 and shown[Status.NEEDS_HUMAN] > 0
    assert browse.page.get_attribute("#window", "data-days") == "7"
    assert app.key not in response.text() and app.key not in browse.page.content()
    browse.screenshot("report.png")
    browse.only_loopback()


def test_the_audit_page_lists_what_filter_entries_gives(app: App, browse: Browse) -> None:
    response = visit(browse, url(app, "audit/page", since="24h"))
    expected = matching(app, timedelta(hours=24))
    shown = rows(browse)
    assert len(shown) == len(expected) > 0
    assert [r["seq"] for r in shown] == [str(e["seq"]) for e in reversed(expected)]  # newest first
    assert browse.page.get_attribute("#entries", "data-matching") == str(len(expected))
    assert f"showing {len(expected)} of {len(expected)} matching" in browse.page.inner_text("#entries .count")
    # The needs-human list comes first, and it is the posture's over the same window.
    window = build_posture(expected, now=datetime.now(UTC), days=1)
    needs = rows(browse, "#needs-human tr.needs")
    assert [(r["resource"], r["control"]) for r in needs] == [
        (i.resource_id, i.control_id) for i in needs_human(window)
    ]
    assert len(needs) > 0
    order = browse.page.evaluate(
        "document.querySelector('#needs-human').compareDocumentPosition(document.querySelector('#entries'))"
    )
    assert order & 4, "the needs-human list must come before the entries"
    # Every remediation shows its before and after.
    remediated = browse.page.locator("#entries tr.entry[data-kind=result][data-outcome=remediated]")
    assert remediated.count() == sum(1 for e in expected if e["kind"] == "result" and e["outcome"] == "remediated") > 0
    for i in range(remediated.count()):
        change = remediated.nth(i).locator("table.change")
        assert change.locator("td.before").count() == change.locator("td.after").count() > 0
        assert change.locator("td.after").first.inner_text().strip()
    assert app.key not in response.text() and app.key not in browse.page.content()
    browse.screenshot("audit-page.png")
    browse.screenshot("audit-page-top.png", full_page=False)  # what an admin sees first: filters, needs-human
    browse.only_loopback()


def test_the_filter_form_narrows_the_rows(app: App, browse: Browse) -> None:
    visit(browse, url(app, "audit/page", since="24h"))
    everything = len(rows(browse))
    browse.page.select_option("select[name=outcome]", "remediated")
    with browse.page.expect_navigation() as nav:
        browse.page.click("#filters button[type=submit]")
    assert nav.value.status == 200  # the inline script carried the key: the host answers 401 without it
    narrowed = rows(browse)
    assert 0 < len(narrowed) < everything
    assert len(narrowed) == len(matching(app, timedelta(hours=24), outcome="remediated"))
    assert {r["outcome"] for r in narrowed} == {"remediated"}
    browse.screenshot("audit-page-remediated.png")
    browse.page.select_option("select[name=outcome]", "")
    browse.page.fill("input[name=control]", "network.*")
    with browse.page.expect_navigation():
        browse.page.click("#filters button[type=submit]")
    by_control = rows(browse)
    assert 0 < len(by_control) < everything
    assert len(by_control) == len(matching(app, timedelta(hours=24), control="network.*"))
    assert all(r["control"].startswith("network.") for r in by_control)
    assert app.key not in browse.page.content()
    browse.only_loopback()


def test_the_limit_keeps_the_newest_and_says_how_many_match(app: App, browse: Browse) -> None:
    visit(browse, url(app, "audit/page", since="24h", limit="5"))
    expected = matching(app, timedelta(hours=24))
    assert [r["seq"] for r in rows(browse)] == [str(e["seq"]) for e in reversed(expected[-5:])]
    assert f"showing 5 of {len(expected)} matching" in browse.page.inner_text("#entries .count")


def test_the_links_between_the_pages_carry_the_key(app: App, browse: Browse) -> None:
    visit(browse, url(app, "audit/page", since="2d"))
    with browse.page.expect_navigation() as nav:
        browse.page.click("nav a[data-keep-code]")
    assert nav.value.status == 200 and browse.page.locator("#total-remediated").count() == 1
    with browse.page.expect_navigation() as back:
        browse.page.click("nav a[data-keep-code]")
    assert back.value.status == 200 and browse.page.locator("#entries").count() == 1
    browse.only_loopback()


def test_without_the_function_key_the_host_refuses(app: App, browse: Browse) -> None:
    for route in ("report", "audit/page"):  # an empty 401, like the Functions host (a browser shows its own page)
        assert browse.page.request.get(url(app, route, key=False)).status == 401
        assert browse.page.request.get(url(app, route, key=False), headers={"x-functions-key": app.key}).ok
    assert ("/api/report", 401) in app.served.answered


def test_a_bad_query_is_a_400_with_one_line(app: App, browse: Browse) -> None:
    for route, params, problem in (
        ("report", {"days": "0"}, "bad query: days: not a positive number: '0'"),
        ("report", {"days": "400"}, "bad query: days: at most 366"),
        ("audit/page", {"since": "yesterday"}, "bad query: since: not an ISO-8601 time or an age"),
        ("audit/page", {"limit": "ten"}, "bad query: limit: not a positive number"),
    ):
        response = browse.page.request.get(url(app, route, **params))
        assert response.status == 400
        body = response.text()
        assert body.startswith(problem) and body.count("\n") == 1 and app.key not in body

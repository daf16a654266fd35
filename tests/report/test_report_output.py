"""The report's three shapes: terminal tables, JSON, and the self-contained HTML document."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.report.helpers import LOCAL, NOW, PUBLIC, SUB, Writer, account, baseline, hours
from warden.model import Decision, Exemption, Outcome
from warden.posture import Posture, Status, build_posture, needs_human
from warden.report_html import axis, render_report
from warden.report_text import format_posture, posture_json

A, B, C = account("acct-a"), account("acct-b"), account("acct-c")
HOSTILE = account("x") + '/<script>alert("x")</script>/<b onclick="x">\x1b[2J\nFAKE ROW'


@pytest.fixture
def report(tmp_path: Path) -> Posture:
    """Two days of records: every status at least once, an exemption, and a hostile resource id."""
    w = Writer(tmp_path)
    w.evaluation(hours(30), A, Outcome.NEEDS_HUMAN)
    w.evaluation(hours(5), A, Outcome.COMPLIANT)
    w.evaluation(hours(5), A, Outcome.COMPLIANT, control_id=LOCAL)
    w.remediation(hours(4), B, Outcome.REMEDIATED)
    w.decision(hours(4), B, Decision.DRY_RUN, control_id=LOCAL)
    w.planned(hours(3), C, baseline((Exemption(C, PUBLIC, "vendor", "alice", NOW + timedelta(days=9)),)))
    w.remediation(hours(2), C, Outcome.FAILED, control_id=LOCAL)
    w.evaluation(hours(1), HOSTILE, Outcome.NEEDS_HUMAN)
    return build_posture(w.entries(), now=NOW, days=2)


def test_the_fixture_has_every_status(report: Posture) -> None:
    assert all(report.totals[s] >= 1 for s in Status)


def test_text_sections_and_counts(report: Posture) -> None:
    text = format_posture(report)
    assert text.startswith("Compliance posture 2026-03-08 12:00 to 2026-03-10 12:00 UTC (2 days)")
    assert "Totals: 7 resource/control pairs: compliant 2, remediated 1, would-remediate 1, exempt 1, " in text
    for title in ("By control:", "By subscription:", "Needs a human (2):", "Exempt (1):", "Trend"):
        assert title in text
    row = next(line for line in text.splitlines() if line.startswith(LOCAL))
    assert row.split() == [LOCAL, "1", "0", "1", "0", "0", "1"]
    sub_row = next(line for line in text.splitlines() if line.startswith(SUB))
    assert sub_row.split()[1:] == ["2", "1", "1", "1", "1", "1"]
    trend = text.split("Trend")[1].splitlines()[2:]
    assert [line.split()[0] for line in trend] == ["2026-03-08", "2026-03-09", "2026-03-10"]
    assert trend[1].split()[1:] == ["0", "0", "0", "0", "1", "0"]  # A needed a human at the end of 03-09


def test_text_escapes_hostile_ids(report: Posture) -> None:
    text = format_posture(report)
    assert "\x1b" not in text and "\\x1b[2J\\nFAKE ROW" in text
    assert not any(line.startswith("FAKE ROW") for line in text.splitlines())


def test_json_shape(report: Posture) -> None:
    doc = posture_json(report)
    json.dumps(doc)  # JSON-able
    assert list(doc) == [
        "generated",
        "since",
        "days",
        "entriesRead",
        "unreadable",
        "totals",
        "byControl",
        "bySubscription",
        "needsHuman",
        "exemptions",
        "trend",
        "items",
    ]
    assert doc["totals"] == {s.value: report.totals[s] for s in Status}
    assert doc["generated"] == "2026-03-10T12:00:00.000000Z" and doc["days"] == 2
    assert doc["byControl"][LOCAL]["would-remediate"] == 1  # type: ignore[index,call-overload]
    first = doc["needsHuman"][0]  # type: ignore[index]
    assert first["resourceId"] == HOSTILE and first["status"] == "needs-human"  # type: ignore[index]
    (exempt,) = doc["exemptions"]  # type: ignore[misc]
    assert exempt["expires"] == (NOW + timedelta(days=9)).isoformat()  # type: ignore[index]
    assert [d["day"] for d in doc["trend"]] == ["2026-03-08", "2026-03-09", "2026-03-10"]  # type: ignore[index,union-attr]
    assert len(doc["items"]) == 7  # type: ignore[arg-type]


class Page(HTMLParser):
    """The tags with their attributes, the text outside <style>, and any tag left open."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.open: list[str] = []
        self.text: list[str] = []
        self.style = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "style":
            self.style += data
        else:
            self.text.append(data)

    def find(self, **wanted: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())]


def parse(document: str) -> Page:
    page = Page()
    page.feed(document)
    page.close()
    assert page.open == [], f"unclosed: {page.open}"
    return page


def test_html_is_one_document_with_no_external_reference(report: Posture) -> None:
    document = render_report(report)
    assert document.startswith("<!DOCTYPE html>")
    page = parse(document)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object")
        for name, value in attrs.items():
            assert not (name in ("src", "href", "xlink:href", "action") or value.startswith(("http:", "https:", "//")))
    assert "url(" not in page.style and "@import" not in page.style and "@media print" in page.style
    outside_text = document
    for chunk in page.text:
        outside_text = outside_text.replace(chunk, "")
    for ref in ("http://", "https://", "//"):
        assert ref not in outside_text.replace("&lt;", "<")  # only data text may hold them (none does here)


def test_html_counts_equal_the_posture(report: Posture) -> None:
    page = parse(render_report(report))
    for s in Status:
        (total,) = page.find(id=f"total-{s.value}")
        assert int(total["data-count"]) == report.totals[s]
        cells = [a for a in page.find(data_status=s.value) if "data-control" not in a and a.get("data-count")]
        per_control = [a for a in cells if a.get("class") == "num"]
        assert sum(int(a["data-count"]) for a in per_control) == 2 * report.totals[s]  # control + subscription
    rows = [a for t, a in page.tags if t == "tr" and "data-resource" in a and a.get("data-status") != "exempt"]
    assert [r["data-resource"] for r in rows] == [i.resource_id for i in needs_human(report)]
    (section,) = page.find(id="needs-human")
    assert section["data-count"] == "2"
    (exempt,) = page.find(data_status="exempt", data_resource=C)
    assert exempt["data-expires"] == (NOW + timedelta(days=9)).isoformat()


def test_html_has_the_trend_chart(report: Posture) -> None:
    document = render_report(report)
    page = parse(document)
    assert [t for t, _ in page.tags].count("svg") == 1
    days = [a["data-day"] for t, a in page.tags if t == "g" and "data-day" in a]
    assert days == ["2026-03-08", "2026-03-09", "2026-03-10"]
    bars = [a for t, a in page.tags if t == "rect"]
    last = {a["data-status"]: int(a["data-count"]) for a in bars[-len([n for n in report.totals.values() if n]) :]}
    assert last == {s.value: n for s, n in report.totals.items() if n}
    assert "resource/control pairs" in document and "UTC day" in document  # axis labels
    assert page.find(id="trend-legend")
    # The order of sections: totals, then what needs a human, before anything else.
    ids = [a["id"] for t, a in page.tags if t == "section"]
    assert ids == ["totals", "needs-human", "trend", "by-control", "by-subscription", "exemptions"]


def test_html_escapes_a_hostile_resource_id(report: Posture) -> None:
    document = render_report(report)
    assert "<script>" not in document and "&lt;script&gt;" in document
    page = parse(document)
    assert not any(t in ("script", "b") for t, _ in page.tags)
    assert page.find(data_resource=HOSTILE)  # the attribute round-trips exactly


def test_an_empty_report_still_renders() -> None:
    empty = build_posture([], now=NOW, days=1)
    page = parse(render_report(empty))
    assert page.find(id="total-compliant")[0]["data-count"] == "0"
    assert "(none)" in format_posture(empty)


@pytest.mark.parametrize(("top", "expected"), [(0, (1, 1)), (4, (1, 4)), (5, (2, 3)), (120, (50, 3)), (1001, (500, 3))])
def test_the_y_axis_steps(top: int, expected: tuple[int, int]) -> None:
    assert axis(top) == expected

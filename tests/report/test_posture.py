"""The posture: each stored outcome's status, the latest record per resource and control, the window, the trend."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.report.helpers import LOCAL, NOW, PUBLIC, SUB, SUB2, Writer, account, baseline, hours
from warden.model import Decision, Exemption, Outcome
from warden.posture import NO_RESULT, Posture, Status, build_posture, exempt_until, needs_human

A, B, C = account("acct-a"), account("acct-b"), account("acct-c", SUB2)


@pytest.fixture
def writer(tmp_path: Path) -> Writer:
    return Writer(tmp_path)


def posture(writer: Writer, days: int = 7) -> Posture:
    return build_posture(writer.entries(), now=NOW, days=days)


def statuses(p: Posture) -> dict[tuple[str, str], Status]:
    return {(i.resource_id.rsplit("/", 1)[-1], i.control_id): i.status for i in p.items}


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome.REMEDIATED, Status.REMEDIATED),
        (Outcome.NOT_VERIFIED, Status.NEEDS_HUMAN),
        (Outcome.PARTIAL, Status.FAILED),
        (Outcome.FAILED, Status.FAILED),
    ],
)
def test_results_of_remediations(writer: Writer, outcome: Outcome, status: Status) -> None:
    writer.remediation(hours(2), A, outcome)
    p = posture(writer)
    assert statuses(p) == {("acct-a", PUBLIC): status}
    assert p.items[0].outcome == outcome.value
    assert p.totals[status] == 1 and sum(p.totals.values()) == 1


@pytest.mark.parametrize(
    ("decision", "status"),
    [
        (Decision.DRY_RUN, Status.WOULD_REMEDIATE),
        (Decision.NO_REMEDIATOR, Status.NEEDS_HUMAN),
        (Decision.BLOCKED, Status.NEEDS_HUMAN),
    ],
)
def test_decisions(writer: Writer, decision: Decision, status: Status) -> None:
    writer.decision(hours(2), A, decision)
    assert statuses(posture(writer)) == {("acct-a", PUBLIC): status}


def test_compliant_and_failed_evaluations(writer: Writer) -> None:
    writer.evaluation(hours(3), A, Outcome.COMPLIANT)
    writer.evaluation(hours(3), A, Outcome.FAILED, control_id=LOCAL)  # its facts could not be read
    assert statuses(posture(writer)) == {("acct-a", PUBLIC): Status.COMPLIANT, ("acct-a", LOCAL): Status.FAILED}


def test_exempt_with_its_expiry_from_the_planners_reason(writer: Writer) -> None:
    expires = NOW + timedelta(days=30)
    rule = Exemption(A, PUBLIC, "vendor needs it", "alice@contoso.com", expires)
    pf = writer.planned(hours(1), A, baseline((rule,)))
    assert pf.decision is Decision.EXEMPT
    (item,) = posture(writer).items
    assert item.status is Status.EXEMPT and item.outcome == "exempted"
    assert item.expires == expires.isoformat()
    assert "alice@contoso.com" in item.reason


def test_a_date_only_expiry_reads_as_written() -> None:
    assert exempt_until("exempt until 2027-03-31 (end of day UTC) (owner bob): lab; drift: x") == (
        "2027-03-31 (end of day UTC)"
    )
    assert exempt_until("exemption expired 2026-01-01 (owner bob), enforced again; drift") is None


def test_an_expired_exemption_is_not_exempt(writer: Writer) -> None:
    rule = Exemption(A, PUBLIC, "was needed", "alice", NOW - timedelta(days=1))
    pf = writer.planned(hours(1), A, baseline((rule,)))
    assert pf.decision is Decision.ENFORCE and pf.reason.startswith("exemption expired")
    (item,) = posture(writer).items  # its intent, with no result yet
    assert item.status is Status.FAILED and item.expires is None


def test_an_intent_without_a_result_is_failed(writer: Writer) -> None:
    writer.intent(hours(2), A)
    done = writer.intent(hours(2), B)
    writer.result(done, hours(1.9), Outcome.REMEDIATED)
    p = posture(writer)
    assert statuses(p) == {("acct-a", PUBLIC): Status.FAILED, ("acct-b", PUBLIC): Status.REMEDIATED}
    (failed,) = needs_human(p)
    assert failed.resource_id == A and failed.reason.startswith(NO_RESULT) and failed.outcome == ""


def test_skipped_and_gone_drop_the_key(writer: Writer) -> None:
    writer.evaluation(hours(5), A, Outcome.COMPLIANT)
    writer.evaluation(hours(5), B, Outcome.COMPLIANT)
    writer.decision(hours(4), A, Decision.OFF)  # the control was switched off: skipped
    writer.evaluation(hours(4), B, Outcome.RESOURCE_GONE)
    assert posture(writer).items == ()


def test_a_resource_level_gone_drops_every_key_of_the_resource(writer: Writer) -> None:
    writer.evaluation(hours(5), A, Outcome.COMPLIANT)
    writer.evaluation(hours(5), A, Outcome.COMPLIANT, control_id=LOCAL)
    writer.evaluation(hours(5), B, Outcome.COMPLIANT)
    writer.write(writer.recorder(hours(4)).evaluation(A.upper(), Outcome.RESOURCE_GONE, reason="404"))
    assert statuses(posture(writer)) == {("acct-b", PUBLIC): Status.COMPLIANT}
    writer.evaluation(hours(3), A, Outcome.COMPLIANT)  # recreated, judged again
    assert ("acct-a", PUBLIC) in statuses(posture(writer))


def test_events_are_not_posture(writer: Writer) -> None:
    rec = writer.recorder(hours(1))
    writer.write(rec.event(A, Outcome.IGNORED, "self-caused"), rec.event(A, Outcome.FAILED, "sweep failed"))
    writer.write(rec.evaluation(A, Outcome.FAILED, error="403"))  # the account could not be read: no control
    p = posture(writer)
    assert p.items == () and p.entries_read == 3


def test_the_latest_record_wins_and_ids_compare_case_insensitively(writer: Writer) -> None:
    writer.remediation(hours(30), A, Outcome.FAILED)
    writer.evaluation(hours(20), A.upper().replace("RESOURCEGROUPS", "resourcegroups"), Outcome.COMPLIANT)
    writer.evaluation(hours(10), A.lower(), Outcome.NEEDS_HUMAN, control_id=PUBLIC.upper())
    p = posture(writer)
    (item,) = p.items
    assert item.status is Status.NEEDS_HUMAN and item.resource_id == A.lower()
    assert p.by_control == {PUBLIC: {**dict.fromkeys(Status, 0), Status.NEEDS_HUMAN: 1}}


def test_a_tie_in_time_goes_to_the_later_entry(writer: Writer) -> None:
    intent = writer.intent(hours(1), A)
    writer.result(intent, hours(1), Outcome.REMEDIATED)  # same instant (a fake clock): order decides
    assert statuses(posture(writer)) == {("acct-a", PUBLIC): Status.REMEDIATED}


def test_counts_per_control_and_subscription(writer: Writer) -> None:
    writer.evaluation(hours(1), A, Outcome.COMPLIANT)
    writer.evaluation(hours(1), A, Outcome.COMPLIANT, control_id=LOCAL)
    writer.remediation(hours(1), B, Outcome.REMEDIATED)
    writer.decision(hours(1), C, Decision.DRY_RUN, control_id=LOCAL)
    p = posture(writer)
    assert p.by_control[PUBLIC][Status.COMPLIANT] == 1 and p.by_control[PUBLIC][Status.REMEDIATED] == 1
    assert p.by_control[LOCAL][Status.COMPLIANT] == 1 and p.by_control[LOCAL][Status.WOULD_REMEDIATE] == 1
    assert p.by_subscription[SUB][Status.COMPLIANT] == 2 and p.by_subscription[SUB][Status.REMEDIATED] == 1
    assert p.by_subscription[SUB2][Status.WOULD_REMEDIATE] == 1
    assert sum(p.totals.values()) == len(p.items) == 4
    assert {i.subscription_id for i in p.items} == {SUB, SUB2}


def test_the_window_bound(writer: Writer) -> None:
    writer.evaluation(NOW - timedelta(days=3, minutes=1), A, Outcome.FAILED)
    writer.evaluation(NOW - timedelta(days=2), B, Outcome.COMPLIANT)
    writer.evaluation(NOW + timedelta(minutes=1), B, Outcome.FAILED)  # after `now`: not yet
    p = posture(writer, days=3)
    assert statuses(p) == {("acct-b", PUBLIC): Status.COMPLIANT}
    assert p.entries_read == 3 and p.since == NOW - timedelta(days=3)
    assert statuses(posture(writer, days=4)) == {
        ("acct-a", PUBLIC): Status.FAILED,
        ("acct-b", PUBLIC): Status.COMPLIANT,
    }


def test_the_trend_counts_each_day_at_its_end(writer: Writer) -> None:
    day = NOW.replace(hour=0, minute=0)  # 2026-03-10 00:00 UTC
    writer.evaluation(day - timedelta(days=2, hours=-1), A, Outcome.COMPLIANT)  # 03-08 01:00
    writer.evaluation(day - timedelta(days=2, hours=-2), B, Outcome.NEEDS_HUMAN)  # 03-08 02:00
    writer.remediation(day - timedelta(days=1, hours=-3), B, Outcome.REMEDIATED)  # 03-09
    writer.evaluation(day + timedelta(hours=1), A, Outcome.RESOURCE_GONE)  # 03-10: A gone
    p = posture(writer, days=3)
    assert [d.day for d in p.trend] == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]
    counted = [{s: n for s, n in d.counts.items() if n} for d in p.trend]
    assert counted == [
        {},
        {Status.COMPLIANT: 1, Status.NEEDS_HUMAN: 1},
        {Status.COMPLIANT: 1, Status.REMEDIATED: 1},
        {Status.REMEDIATED: 1},
    ]
    assert p.trend[-1].counts == p.totals


def test_records_out_of_order_in_the_log_go_to_their_own_day(writer: Writer) -> None:
    writer.evaluation(hours(1), A, Outcome.FAILED)
    writer.evaluation(hours(30), A, Outcome.COMPLIANT)  # written later, happened earlier
    p = posture(writer, days=2)
    assert statuses(p) == {("acct-a", PUBLIC): Status.FAILED}
    assert [d.counts[Status.COMPLIANT] for d in p.trend] == [0, 1, 0]


def test_unreadable_entries_are_skipped_and_counted(writer: Writer, tmp_path: Path) -> None:
    writer.evaluation(hours(1), A, Outcome.COMPLIANT)
    (day_file,) = tmp_path.glob("audit-*.jsonl")
    with day_file.open("ab") as f:
        f.write(b'{"truncated\n')
    p = posture(writer)
    assert p.unreadable == 1 and p.entries_read == 2 and len(p.items) == 1


def test_needs_human_lists_needs_human_and_failed_newest_first(writer: Writer) -> None:
    writer.evaluation(hours(5), A, Outcome.NEEDS_HUMAN)
    writer.remediation(hours(3), B, Outcome.FAILED)
    writer.evaluation(hours(4), C, Outcome.COMPLIANT)
    writer.decision(hours(2), C, Decision.BLOCKED, control_id=LOCAL)
    assert [(i.resource_id, i.status) for i in needs_human(posture(writer))] == [
        (C, Status.NEEDS_HUMAN),
        (B, Status.FAILED),
        (A, Status.NEEDS_HUMAN),
    ]


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_posture([], now=NOW.replace(tzinfo=None), days=1)
    with pytest.raises(ValueError, match="days"):
        build_posture([], now=NOW, days=0)
    empty = build_posture([], now=NOW, days=1)
    assert empty.items == () and len(empty.trend) == 2 and set(empty.totals.values()) == {0}

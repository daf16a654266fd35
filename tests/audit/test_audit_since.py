"""Reading the audit log from a time on (`entries(since=...)`): only the day files/blobs that can hold such
entries are read, the result filtered by filter_entries equals the same filter over the whole log, and
verify (which reads everything) still sees what the bounded read skips."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from tests.audit.helpers import T0, record
from warden.audit import LocalAuditLog, chain, format_time
from warden.audit_review import filter_entries, verify
from warden.azure.audit_blob import BlobAuditLog
from warden.model import AuditRecord, Json

MIDNIGHT = T0.replace(hour=0)  # 2024-05-01T00:00Z, the start of day 0


def day_start(day: int) -> datetime:
    return MIDNIGHT + timedelta(days=day)


def _seqs(entries: Iterator[dict[str, Json]] | list[dict[str, Json]]) -> list[Json]:
    return [e["seq"] for e in entries]


def _same_as_full_read(log: LocalAuditLog | BlobAuditLog, since: datetime) -> list[Json]:
    """The bounded read, filtered, must give exactly what the filter gives over every entry."""
    bounded = _seqs(filter_entries(log.entries(since=since), since=since))
    assert bounded == _seqs(filter_entries(log.entries(), since=since)), since
    return bounded


# Local folder ---------------------------------------------------------------------------------------------


@pytest.fixture
def four_days(tmp_path: Path) -> LocalAuditLog:
    """3 entries per day over four days: seq 1-3 on 05-01, 4-6 on 05-02, 7-9 on 05-03, 10-12 on 05-04."""
    log = LocalAuditLog(tmp_path)
    for day in range(4):
        log.append([record(day * 3 + i, day=day) for i in range(3)])
    return log


def test_local_since_a_day_reads_exactly_that_day_on(four_days: LocalAuditLog) -> None:
    for day in range(4):
        entries = list(four_days.entries(since=day_start(day)))
        assert _seqs(entries) == list(range(day * 3 + 1, 13))
        assert {getattr(e, "where", "").split(" ")[0] for e in entries} == {
            f"audit-2024-05-0{d + 1}.jsonl" for d in range(day, 4)
        }
    assert list(four_days.entries(since=day_start(4))) == []
    assert _seqs(four_days.entries(since=day_start(-30))) == list(range(1, 13))
    assert _seqs(four_days.entries(since=None)) == _seqs(four_days.entries()) == list(range(1, 13))


def test_local_since_within_a_day_is_cut_by_time(four_days: LocalAuditLog) -> None:
    # The whole day file of 05-02 is read; filter_entries keeps 10:01 on (seq 4 is at 10:03).
    since = day_start(1) + timedelta(hours=10, minutes=4)
    assert _seqs(four_days.entries(since=since)) == list(range(4, 13))
    assert _same_as_full_read(four_days, since) == list(range(5, 13))


def test_local_since_is_taken_in_utc(four_days: LocalAuditLog) -> None:
    # 02:00+02:00 on 05-02 is 00:00 UTC on 05-02; 01:00+02:00 is still 05-01 in UTC; naive means UTC.
    plus2 = timezone(timedelta(hours=2))
    assert _seqs(four_days.entries(since=datetime(2024, 5, 2, 2, 0, tzinfo=plus2)))[0] == 4
    assert _seqs(four_days.entries(since=datetime(2024, 5, 2, 1, 0, tzinfo=plus2)))[0] == 1
    assert _seqs(four_days.entries(since=datetime(2024, 5, 3)))[0] == 7


def test_local_late_records_are_never_missed(four_days: LocalAuditLog) -> None:
    # A late record goes into the newest file, never an older one: still found from its own day on.
    four_days.append([record(50, day=1)])
    four_days.append([record(51, day=0), record(52, day=3)])
    for hour in range(0, 4 * 24 + 1, 3):
        _same_as_full_read(four_days, day_start(0) + timedelta(hours=hour))
    assert 13 in _same_as_full_read(four_days, day_start(1))


def test_local_older_files_are_not_opened(four_days: LocalAuditLog) -> None:
    # 05-01's file replaced by something unreadable: the read from 05-02 does not touch it, verify does.
    path = four_days.folder / "audit-2024-05-01.jsonl"
    path.unlink()
    path.mkdir()  # opening it would raise IsADirectoryError
    assert _seqs(four_days.entries(since=day_start(1))) == list(range(4, 13))
    with pytest.raises(IsADirectoryError):
        list(four_days.entries())
    path.rmdir()
    path.write_text("garbage\n")
    entries = list(four_days.entries(since=day_start(1)))
    assert not any(getattr(e, "problem", "") for e in entries)
    report = verify(four_days.entries(), head=four_days.head_mark())
    assert not report.ok and any("unreadable line" in p for p in report.problems)


# Blob container (Azurite) ---------------------------------------------------------------------------------


class CountingContainer(ContainerClient):
    """The real client, recording every blob downloaded and every prefix listed."""

    downloads: list[str]
    listed: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.downloads, self.listed = [], []

    def download_blob(self, blob: Any, *args: Any, **kwargs: Any) -> Any:
        self.downloads.append(str(blob))
        return super().download_blob(blob, *args, **kwargs)

    def list_blobs(self, name_starts_with: str | None = None, *args: Any, **kwargs: Any) -> Any:
        self.listed.append(f"list {name_starts_with}")
        return super().list_blobs(name_starts_with, *args, **kwargs)

    def walk_blobs(self, name_starts_with: str | None = None, *args: Any, **kwargs: Any) -> Any:
        self.listed.append(f"walk {name_starts_with}")
        return super().walk_blobs(name_starts_with, *args, **kwargs)

    def reset(self) -> None:
        self.downloads.clear()
        self.listed.clear()


@pytest.fixture
def counting(azurite: str, container_name: str) -> Iterator[CountingContainer]:
    with CountingContainer.from_connection_string(azurite, container_name) as client:
        yield client


# Day offsets from 2024-05-01: 2023-12-31, 2024-03-15, 04-29, 04-30, 05-01, 05-02 (three blobs), 05-03.
SPREAD = (-122, -47, -2, -1, 0, 1, 1, 1, 1, 1, 2)


@pytest.fixture
def spread(container: ContainerClient) -> BlobAuditLog:
    """A blob log written over several months; 05-02 is split into 02.jsonl, 02-1.jsonl and 02-2.jsonl."""
    log = BlobAuditLog(container, rollover_blocks=2)
    for n, day in enumerate(SPREAD):
        log.append([record(n, day=day)])
    return log


def _blob_names(container: ContainerClient) -> list[str]:
    return sorted(b.name for b in container.list_blobs(name_starts_with="audit/"))


def test_the_spread_fixture(spread: BlobAuditLog, container: ContainerClient) -> None:
    assert _blob_names(container) == [
        "audit/2023/12/31.jsonl",
        "audit/2024/03/15.jsonl",
        "audit/2024/04/29.jsonl",
        "audit/2024/04/30.jsonl",
        "audit/2024/05/01.jsonl",
        "audit/2024/05/02-1.jsonl",
        "audit/2024/05/02-2.jsonl",
        "audit/2024/05/02.jsonl",
        "audit/2024/05/03.jsonl",
    ]
    assert verify(spread.entries()).ok


def test_blob_since_a_day_returns_exactly_the_entries_from_that_day_on(
    spread: BlobAuditLog, counting: CountingContainer
) -> None:
    reader = BlobAuditLog(counting)
    everything = list(spread.entries())
    for day in [*sorted(set(SPREAD)), 3, -400]:
        since = day_start(day)
        got = list(filter_entries(reader.entries(since=since), since=since))
        # Every entry of `since`'s day and later, rollover markers included (the one that opens a day is
        # the last entry of the blob before it).
        assert got == [e for e in everything if str(e["time"]) >= format_time(since)], since
        assert got or day == 3
    since = day_start(1)
    got = list(filter_entries(reader.entries(since=since), since=since))
    assert [(e["kind"], getattr(e, "where", "")) for e in got][:2] == [
        ("rollover", "audit/2024/05/01.jsonl line 2"),
        ("result", "audit/2024/05/02.jsonl line 1"),
    ]
    assert [getattr(e, "where", "").split(" ")[0] for e in got if e["kind"] == "result"] == [
        "audit/2024/05/02.jsonl",
        "audit/2024/05/02.jsonl",
        "audit/2024/05/02-1.jsonl",
        "audit/2024/05/02-1.jsonl",
        "audit/2024/05/02-2.jsonl",
        "audit/2024/05/03.jsonl",
    ]


def test_blob_since_reads_no_older_blob_and_lists_no_older_month(
    spread: BlobAuditLog, counting: CountingContainer
) -> None:
    reader = BlobAuditLog(counting)
    list(reader.entries(since=day_start(1) + timedelta(hours=5)))
    # The blob before 05-02 (it holds 05-02's rollover marker), then 05-02's three parts and 05-03.
    assert counting.downloads == [
        "audit/2024/05/01.jsonl",
        "audit/2024/05/02.jsonl",
        "audit/2024/05/02-1.jsonl",
        "audit/2024/05/02-2.jsonl",
        "audit/2024/05/03.jsonl",
    ]
    assert counting.listed == ["walk audit/", "walk audit/2024/", "list audit/2024/05/"]

    counting.reset()  # since 05-01: the blob before it is in April; March and 2023 are never listed
    list(reader.entries(since=day_start(0)))
    assert counting.downloads[:2] == ["audit/2024/04/30.jsonl", "audit/2024/05/01.jsonl"]
    assert len(counting.downloads) == 6
    assert counting.listed == ["walk audit/", "walk audit/2024/", "list audit/2024/05/", "list audit/2024/04/"]

    counting.reset()  # since 2024-02-01: nothing in Feb or Jan 2024, so the blob before is 2023's last
    list(reader.entries(since=datetime(2024, 2, 1, tzinfo=UTC)))
    assert counting.downloads[0] == "audit/2023/12/31.jsonl" and len(counting.downloads) == 9
    assert counting.listed[-2:] == ["walk audit/2023/", "list audit/2023/12/"]

    counting.reset()  # after the last entry: only the newest blob is read, and nothing is returned
    assert list(filter_entries(reader.entries(since=day_start(30)), since=day_start(30))) == []
    assert counting.downloads == ["audit/2024/05/03.jsonl"]

    counting.reset()  # without since: everything, for verify
    assert verify(reader.entries()).ok
    assert len(counting.downloads) == len(_blob_names(counting))


def test_a_damaged_older_blob_does_not_affect_a_bounded_read_but_verify_reports_it(
    spread: BlobAuditLog, container: ContainerClient
) -> None:
    # Possible only without an immutability policy: replace April 29's blob with garbage.
    container.delete_blob("audit/2024/04/29.jsonl")
    container.upload_blob("audit/2024/04/29.jsonl", b"not { json\n")
    entries = list(spread.entries(since=day_start(0)))
    assert entries and not any(getattr(e, "problem", "") for e in entries)
    report = verify(spread.entries())
    assert not report.ok
    assert any(p.startswith("audit/2024/04/29.jsonl line 1: unreadable line") for p in report.problems)


def test_a_batch_that_followed_a_rollover_into_the_previous_days_blob_is_read(
    container: ContainerClient, counting: CountingContainer
) -> None:
    # A writer closed 05-01 naming 05-02, then stopped before writing its batch. The next writer's batch is
    # dated 05-03, yet it goes where the marker points: into 05-02's blob, which `since=05-03` must read.
    first = BlobAuditLog(container)
    first.append([record(1, day=0)])
    head = first._head
    assert head is not None and head.blob is not None
    marker = AuditRecord(
        time=day_start(1),
        kind="rollover",
        change={"blob": {"before": head.blob, "after": "audit/2024/05/02.jsonl"}},
    )
    data, _, _ = chain([marker], head.seq, head.hash)
    container.get_blob_client(head.blob).append_block(data, appendpos_condition=head.size)
    BlobAuditLog(container).append([record(2, day=2)])
    assert _blob_names(container) == ["audit/2024/05/01.jsonl", "audit/2024/05/02.jsonl"]
    reader = BlobAuditLog(counting)
    got = list(filter_entries(reader.entries(since=day_start(2)), since=day_start(2)))
    assert [(e["eventId"], getattr(e, "where", "")) for e in got] == [("evt-2", "audit/2024/05/02.jsonl line 1")]
    assert counting.downloads == ["audit/2024/05/02.jsonl"]
    assert verify(reader.entries()).ok


def test_blob_bounded_read_equals_the_full_read_at_every_hour(spread: BlobAuditLog) -> None:
    for hour in range(-2 * 24, 3 * 24 + 1, 7):
        _same_as_full_read(spread, day_start(0) + timedelta(hours=hour))
    _same_as_full_read(spread, datetime(2024, 5, 2, 1, 0))  # naive: UTC
    _same_as_full_read(spread, datetime(2024, 5, 2, 1, 0, tzinfo=timezone(timedelta(hours=3))))

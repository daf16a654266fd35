"""The blob audit writer under contention and with big batches, on Azurite: no batch is lost however many races
it loses, the threads of one instance commit as a group, and a batch over one append block is split into
blocks of whole lines (docs/audit.md, "Azure Blob Storage")."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from tests.audit.helpers import record
from warden.audit_review import verify
from warden.azure import audit_blob
from warden.azure.audit_blob import BlobAuditLog
from warden.errors import AuditWriteError

BLOB = "audit/2024/05/01.jsonl"


class _Blob:
    """A blob client whose append_block calls `before()` first (a rival's append, a pause)."""

    def __init__(self, inner: Any, before: Any) -> None:
        self._inner, self._before = inner, before

    def append_block(self, data: bytes, **kwargs: Any) -> Any:
        self._before()
        return self._inner.append_block(data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Container(ContainerClient):
    before: Any = staticmethod(lambda: None)

    def get_blob_client(self, blob: Any, *args: Any, **kwargs: Any) -> Any:
        return _Blob(super().get_blob_client(blob, *args, **kwargs), self.before)


def test_a_writer_that_loses_many_races_in_a_row_still_gets_its_batch_in(azurite: str, container_name: str) -> None:
    rival = BlobAuditLog(ContainerClient.from_connection_string(azurite, container_name))
    rival.append([record(0)])
    unlucky = _Container.from_connection_string(azurite, container_name)
    lost = iter(range(1, 31))  # 30 races in a row: more than the old cap of 20 attempts

    def rival_first() -> None:
        n = next(lost, None)
        if n is not None:
            rival.append([record(n)])  # lands between our head read and our append: we lose the race

    unlucky.before = rival_first
    log = BlobAuditLog(unlucky)
    log.append([record(99)])
    entries = list(rival.entries())
    assert [e["eventId"] for e in entries] == [f"evt-{n}" for n in range(31)] + ["evt-99"]
    assert log.stats.lost_races == 30
    assert verify(entries).ok


def test_a_writer_gives_up_only_when_its_time_budget_is_spent(azurite: str, container_name: str) -> None:
    rival = BlobAuditLog(ContainerClient.from_connection_string(azurite, container_name))
    unlucky = _Container.from_connection_string(azurite, container_name)
    count = iter(range(10_000))
    unlucky.before = lambda: rival.append([record(next(count))])  # always first
    with pytest.raises(AuditWriteError, match=r"lost races in 0\.2 s"):
        BlobAuditLog(unlucky, budget_s=0.2).append([record(99)])
    assert "evt-99" not in {e["eventId"] for e in rival.entries()}  # failed means not written: the caller stops


def test_sixteen_instances_racing_lose_no_batch(azurite: str, container_name: str) -> None:
    writers, batches = 16, 12
    logs = [BlobAuditLog(ContainerClient.from_connection_string(azurite, container_name)) for _ in range(writers)]
    logs[0].append([record(-1)])  # the chain's start (writers racing on an empty container: see the report)
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def worker(w: int) -> None:
        start.wait()
        for i in range(batches):
            try:
                logs[w].append([record(w * 1000 + i), record(w * 1000 + i + 500)])
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = list(logs[0].entries())
    written = {e["eventId"] for e in entries}
    expected = {f"evt-{w * 1000 + i + k}" for w in range(writers) for i in range(batches) for k in (0, 500)}
    assert written - {"evt--1", ""} == expected  # rollover markers have no event id: the records span days
    assert len([e for e in entries if e["kind"] == "result"]) == writers * batches * 2 + 1
    report = verify(entries)
    assert report.ok, report.problems


def test_threads_of_one_instance_commit_queued_batches_in_one_block(azurite: str, container_name: str) -> None:
    container = _Container.from_connection_string(azurite, container_name)
    log = BlobAuditLog(container)
    queued, release = threading.Event(), threading.Event()
    first = True

    def hold_the_first_append() -> None:  # the first writer holds its append until five more batches wait
        nonlocal first
        if first:
            first = False
            queued.wait(10)

    container.before = hold_the_first_append
    threads = [threading.Thread(target=log.append, args=([record(0)],))]
    threads[0].start()
    for n in range(1, 6):
        threads.append(threading.Thread(target=log.append, args=([record(n), record(n + 10)],)))
        threads[-1].start()
    while len(log._queued) < 6:
        release.wait(0.01)
    queued.set()
    for thread in threads:
        thread.join()
    entries = list(log.entries())
    assert len(entries) == 11 and verify(entries).ok
    props = container.get_blob_client(BLOB).get_blob_properties()
    assert props.append_blob_committed_block_count == 2  # the first batch, then the five others together
    assert (log.stats.blocks, log.stats.batches) == (2, 6)
    # Each batch stays whole and in order within the block.
    ids = [e["eventId"] for e in entries[1:]]
    assert all(ids.index(f"evt-{n}") + 1 == ids.index(f"evt-{n + 10}") for n in range(1, 6))


def test_a_batch_bigger_than_one_append_block_is_written_as_blocks_of_whole_lines(
    container: ContainerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_blob, "MAX_APPEND_BYTES", 4096)
    log = BlobAuditLog(container)
    log.append([record(0)])
    log.append([record(n, reason="r" * 700) for n in range(1, 21)])  # ~20 KiB: several blocks
    entries = list(log.entries())
    assert [e["eventId"] for e in entries] == [f"evt-{n}" for n in range(21)]
    assert verify(entries).ok
    blocks = container.get_blob_client(BLOB).get_blob_properties().append_blob_committed_block_count
    assert blocks is not None and blocks > 5


def test_a_record_bigger_than_one_append_block_is_stored_cut_not_lost(
    container: ContainerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_blob, "MAX_APPEND_BYTES", 8192)
    log = BlobAuditLog(container)
    log.append([record(1, reason="r" * 20_000, observed={"raw": "x" * 20_000})])
    (entry,) = list(log.entries())
    note = "[cut: the record's 40801 bytes exceed one append block of 8192]"
    assert entry["eventId"] == "evt-1" and entry["observed"] == {"cut": note}
    assert entry["reason"] == "r" * 4096 + "… " + note
    assert verify([entry]).ok

"""BlobAuditLog against Azurite with the real azure-storage-blob client: dated append blobs, one chain across
racing instances, rollover, read-back, and the failure paths."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from azure.storage.blob import BlobType, ContainerClient

from tests.audit.helpers import T0, record
from warden.audit import chain, tail_entry
from warden.audit_review import verify
from warden.azure.audit_blob import BlobAuditLog, blob_key, blob_name, from_settings
from warden.errors import AuditWriteError, ConfigurationError
from warden.model import AuditRecord


def _names(container: ContainerClient) -> list[str]:
    """The audit blobs (the log's start marker, START_BLOB, sits outside their prefix)."""
    return [b.name for b in container.list_blobs(name_starts_with="audit/")]


def test_appends_land_in_the_dated_append_blob(container: ContainerClient) -> None:
    log = BlobAuditLog(container)
    log.append([record(1), record(2)])
    log.append([record(3)])
    assert _names(container) == ["audit/2024/05/01.jsonl"]
    props = container.get_blob_client("audit/2024/05/01.jsonl").get_blob_properties()
    assert props.blob_type == BlobType.APPENDBLOB
    assert props.append_blob_committed_block_count == 2  # one append_block per batch
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert [e["eventId"] for e in entries] == ["evt-1", "evt-2", "evt-3"]
    assert entries[0].where == "audit/2024/05/01.jsonl line 1"  # type: ignore[attr-defined]
    assert verify(entries).ok


def test_chain_continues_across_days_and_a_new_instance(
    container: ContainerClient, azurite: str, container_name: str
) -> None:
    BlobAuditLog(container).append([record(1, day=0)])
    BlobAuditLog(container).append([record(2, day=1)])
    other = ContainerClient.from_connection_string(azurite, container_name)  # a second client (another host)
    BlobAuditLog(other).append([record(3, day=2)])
    names = _names(container)
    assert sorted(names) == ["audit/2024/05/01.jsonl", "audit/2024/05/02.jsonl", "audit/2024/05/03.jsonl"]
    entries = list(BlobAuditLog(container).entries())
    kinds = [(e["seq"], e["kind"]) for e in entries]
    # Each day blob is closed by a rollover marker that names the next one (appends only, no seal).
    assert kinds == [(1, "result"), (2, "rollover"), (3, "result"), (4, "rollover"), (5, "result")]
    assert entries[1]["change"] == {"blob": {"before": "audit/2024/05/01.jsonl", "after": "audit/2024/05/02.jsonl"}}
    assert verify(entries).ok


def test_rollover_names_when_a_blob_nears_its_block_limit(container: ContainerClient) -> None:
    log = BlobAuditLog(container, rollover_blocks=3)
    for i in range(7):
        log.append([record(i)])
    log.append([record(9, day=1)])
    assert sorted(_names(container), key=lambda n: blob_key(n) or n) == [
        "audit/2024/05/01.jsonl",
        "audit/2024/05/01-1.jsonl",
        "audit/2024/05/01-2.jsonl",
        "audit/2024/05/02.jsonl",
    ]
    entries = list(log.entries())
    wheres = [getattr(e, "where", "") for e in entries]
    assert entries[3]["kind"] == "rollover" and wheres[3] == "audit/2024/05/01.jsonl line 4"
    assert wheres[4] == "audit/2024/05/01-1.jsonl line 1"
    assert [e["eventId"] for e in entries if e["kind"] == "result"] == [f"evt-{i}" for i in (*range(7), 9)]
    assert verify(entries).ok


def test_blob_names_sort_in_chain_order() -> None:
    from datetime import date

    names = [blob_name(date(2024, 5, 1), p) for p in (0, 1, 2, 10)] + [blob_name(date(2024, 5, 2))]
    assert names[:2] == ["audit/2024/05/01.jsonl", "audit/2024/05/01-1.jsonl"]
    assert sorted(reversed(names), key=blob_key) == names  # type: ignore[arg-type]
    assert blob_key("audit/2024/13/40.jsonl") is None and blob_key("other.txt") is None


def test_instances_taking_turns_retry_on_stale_append_positions(
    azurite: str, container_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    a = BlobAuditLog(ContainerClient.from_connection_string(azurite, container_name))
    b = BlobAuditLog(ContainerClient.from_connection_string(azurite, container_name))
    caplog.set_level(logging.INFO, logger="warden.azure.audit_blob")
    for i in range(5):  # each append finds the other instance's block where it expected the end
        a.append([record(2 * i)])
        b.append([record(2 * i + 1)])
    races = [r for r in caplog.records if "AppendPositionConditionNotMet" in r.getMessage()]
    assert len(races) == 8  # all but the first append of each instance start from a stale position
    entries = list(a.entries())
    assert [e["eventId"] for e in entries] == [f"evt-{i}" for i in range(10)]
    assert verify(entries).ok


def test_two_instances_appending_concurrently_give_one_chain(azurite: str, container_name: str) -> None:
    logs = [
        BlobAuditLog(ContainerClient.from_connection_string(azurite, container_name), rollover_blocks=15)
        for _ in range(2)
    ]
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(12):
                logs[t % 2].append([record(t * 100 + i, day=i // 6)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = list(logs[0].entries())
    results = [e for e in entries if e["kind"] == "result"]
    assert len(results) == 48
    assert {e["eventId"] for e in results} == {f"evt-{t * 100 + i}" for t in range(4) for i in range(12)}
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    report = verify(entries)
    assert report.ok, report.problems


def test_a_block_that_landed_on_an_earlier_try_is_not_written_twice(container: ContainerClient) -> None:
    log = BlobAuditLog(container)
    log.append([record(1)])
    head = log._head
    assert head is not None and head.blob is not None
    # The pipeline's retry re-sends an append whose response was lost: the first try did commit it.
    data, _, _ = chain([record(2)], head.seq, head.hash)
    container.get_blob_client(head.blob).append_block(data, appendpos_condition=head.size)
    log.append([record(2)])  # 412: the bytes at our position are ours, so it succeeded
    entries = list(log.entries())
    assert [e["eventId"] for e in entries] == ["evt-1", "evt-2"]
    assert verify(entries).ok


def test_a_removed_blob_is_refused_not_chained_over(container: ContainerClient) -> None:
    log = BlobAuditLog(container)
    log.append([record(1, day=0)])
    log.append([record(2, day=1)])
    container.delete_blob("audit/2024/05/02.jsonl")  # possible without an immutability policy
    with pytest.raises(AuditWriteError, match="entries were removed"):
        log.append([record(3, day=1)])


def test_non_audit_blobs_are_ignored(container: ContainerClient) -> None:
    container.upload_blob("README.txt", b"not part of the log")
    container.upload_blob("audit/notes.txt", b"nor this")
    log = BlobAuditLog(container)
    log.append([record(1)])
    assert [e["seq"] for e in log.entries()] == [1]


def test_unreachable_storage_raises_audit_write_error() -> None:
    from azure.storage.blob import ExponentialRetry

    dead = ContainerClient.from_connection_string(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
        "audit",
        retry_policy=ExponentialRetry(initial_backoff=0, increment_base=0, retry_total=0),
    )
    with pytest.raises(AuditWriteError) as info:
        BlobAuditLog(dead).append([record(1)])
    assert info.value.__cause__ is not None


def test_a_missing_container_raises_audit_write_error(azurite: str) -> None:
    log = from_settings(None, azurite, "no-such-container")
    with pytest.raises(AuditWriteError):
        log.append([record(1)])


def test_from_settings(azurite: str) -> None:
    log = from_settings(None, azurite, "created-by-settings", create_container=True)
    log.append([record(1)])
    assert [e["seq"] for e in log.entries()] == [1]
    with pytest.raises(ConfigurationError):
        from_settings(None, None, "x")
    with pytest.raises(ConfigurationError):
        from_settings("https://acct.blob.core.windows.net", azurite, "x")


def test_a_container_without_an_immutability_policy_is_reported(container: ContainerClient) -> None:
    # Azurite has no immutability policies: the check must say "not immutable", not "cannot tell".
    assert BlobAuditLog(container).is_immutable() is False


def _forge_marker(container: ContainerClient, blob: str, names: str) -> None:
    """Append, as anyone with write access could, a rollover marker with a valid hash naming `names`."""
    client = container.get_blob_client(blob)
    last = tail_entry(client.download_blob().readall())
    assert last is not None
    marker = AuditRecord(
        time=T0 + timedelta(days=1), kind="rollover", change={"blob": {"before": blob, "after": names}}
    )
    data, _, _ = chain([marker], int(last["seq"]), str(last["hash"]))  # type: ignore[arg-type]
    client.append_block(data)


def test_a_forged_marker_naming_an_older_blob_is_ignored_and_reported(
    container: ContainerClient, caplog: pytest.LogCaptureFixture
) -> None:
    log = BlobAuditLog(container)
    log.append([record(1, day=0)])
    log.append([record(2, day=1)])  # 01.jsonl: seq 1 and a marker to 02.jsonl; 02.jsonl: seq 3
    _forge_marker(container, "audit/2024/05/02.jsonl", "audit/2024/05/01.jsonl")  # seq 4
    report = verify(log.entries())
    assert report.problems == (
        "audit/2024/05/02.jsonl line 2 (seq 4): rollover: names 'audit/2024/05/01.jsonl', "
        "not an audit blob after its own",
    )
    with caplog.at_level(logging.WARNING, logger="warden.azure.audit_blob"):
        log.append([record(3, day=1)])  # this instance loses a race to the forger, re-reads, goes on
        BlobAuditLog(container).append([record(4, day=1)])  # so does a fresh one
    assert "ignoring the rollover marker (seq 4) at the end of audit/2024/05/02.jsonl" in caplog.text
    assert sorted(_names(container)) == ["audit/2024/05/01.jsonl", "audit/2024/05/02.jsonl"]
    entries = list(log.entries())
    assert [(e["seq"], e["eventId"]) for e in entries][-3:] == [(4, ""), (5, "evt-3"), (6, "evt-4")]
    report = verify(entries)
    assert report.problems == (
        "audit/2024/05/02.jsonl line 2 (seq 4): rollover: names 'audit/2024/05/01.jsonl', "
        "not an audit blob after its own",
        "audit/2024/05/02.jsonl line 2 (seq 4): rollover: entries follow it in its own blob "
        "(audit/2024/05/02.jsonl line 3)",
    )
    log.append([record(5, day=2)])  # the next day still rolls over normally: seq 7 names 03.jsonl, seq 8 in it
    after = verify(log.entries())
    assert after.entries == 8 and after.problems == report.problems
    assert "audit/2024/05/03.jsonl" in _names(container)


@pytest.mark.parametrize("names", ["audit/2024/05/02.jsonl", "not/a/blob.txt", ""])
def test_a_forged_marker_naming_its_own_blob_or_none_never_stops_writes(container: ContainerClient, names: str) -> None:
    log = BlobAuditLog(container)
    log.append([record(1, day=1)])
    _forge_marker(container, "audit/2024/05/02.jsonl", names)
    log.append([record(2, day=1)])
    assert [e["seq"] for e in log.entries()] == [1, 2, 3]
    problems = verify(log.entries()).problems
    assert len(problems) == 2 and "not an audit blob after its own" in problems[0]


def test_verify_reports_a_marker_whose_next_entry_is_not_line_1_of_the_named_blob(
    container: ContainerClient,
) -> None:
    log = BlobAuditLog(container)
    for day in range(3):  # 01: 1, marker→02 (2); 02: 3, marker→03 (4); 03: 5
        log.append([record(day, day=day)])
    assert verify(log.entries()).ok
    container.delete_blob("audit/2024/05/02.jsonl")  # possible without an immutability policy
    problems = verify(log.entries()).problems
    assert (
        "audit/2024/05/01.jsonl line 2 (seq 2): rollover: the next entry (audit/2024/05/03.jsonl line 1) is not "
        "line 1 of 'audit/2024/05/02.jsonl'" in problems
    )
    assert any(p.startswith("removed: seq 3-4 missing") for p in problems)

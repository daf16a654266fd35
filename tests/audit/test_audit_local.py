"""LocalAuditLog: day files, the chain across them, tamper detection by verify, concurrency, failures."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from tests.audit.helpers import T0, record
from warden.audit import GENESIS_HASH, LocalAuditLog, entry_hash
from warden.audit_review import verify
from warden.errors import AuditWriteError
from warden.model import AuditRecord


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _problems(folder: Path) -> tuple[str, ...]:
    log = LocalAuditLog(folder)
    report = verify(log.entries(), head=log.head_mark())
    assert not report.ok
    return report.problems


@pytest.fixture
def three_days(tmp_path: Path) -> Path:
    """A log of 3 entries per day over three days (seq 1-3, 4-6, 7-9)."""
    log = LocalAuditLog(tmp_path)
    for day in range(3):
        log.append([record(day * 3 + i, day=day) for i in range(3)])
    return tmp_path


def test_round_trip_keeps_every_field_and_adds_the_chain(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path / "audit")  # created on first append
    log.append([record(1), record(2)])
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2]
    assert entries[0]["prev_hash"] == GENESIS_HASH and entries[1]["prev_hash"] == entries[0]["hash"]
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert entries[1]["eventId"] == "evt-2" and entries[1]["resourceId"].endswith("/accounts/aoai-prod")
    assert entries[1]["caller"] == {"objectId": "11111111-aaaa", "appId": "22222222-bbbb"}
    names = [p.name for p in sorted((tmp_path / "audit").iterdir())]
    assert names == ["audit-2024-05-01.jsonl", "audit.head", "audit.lock"]
    # Each line is the stored JSON object, one per line, UTF-8.
    stored = [json.loads(line) for line in _lines(tmp_path / "audit" / "audit-2024-05-01.jsonl")]
    assert stored == [dict(e) for e in entries]
    report = verify(log.entries(), head=log.head_mark())
    assert report.ok and report.entries == 2 and report.head == (2, entries[1]["hash"])


def test_empty_append_writes_nothing_and_a_missing_folder_reads_empty(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path / "none")
    log.append([])
    assert list(log.entries()) == [] and not (tmp_path / "none").exists()
    assert verify(log.entries()).ok


def test_chain_continues_across_day_files(three_days: Path) -> None:
    names = sorted(p.name for p in three_days.glob("audit-*.jsonl"))
    assert names == ["audit-2024-05-01.jsonl", "audit-2024-05-02.jsonl", "audit-2024-05-03.jsonl"]
    entries = list(LocalAuditLog(three_days).entries())
    assert [e["seq"] for e in entries] == list(range(1, 10))
    first_of_day2 = json.loads(_lines(three_days / "audit-2024-05-02.jsonl")[0])
    assert first_of_day2["seq"] == 4 and first_of_day2["prev_hash"] == entries[2]["hash"]
    assert entries[3].where == "audit-2024-05-02.jsonl line 1"  # type: ignore[attr-defined]
    assert verify(entries).ok


def test_a_late_record_never_goes_into_a_past_day_file(three_days: Path) -> None:
    log = LocalAuditLog(three_days)
    log.append([record(99, day=0)])  # its time is on day 1, but day 3's file already exists
    last = json.loads(_lines(three_days / "audit-2024-05-03.jsonl")[-1])
    assert last["seq"] == 10 and last["time"].startswith("2024-05-01")
    assert len(_lines(three_days / "audit-2024-05-01.jsonl")) == 3
    assert verify(log.entries()).ok


def test_a_batch_is_filed_under_its_latest_record_day(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1, day=0), record(2, day=1)])
    assert [p.name for p in tmp_path.glob("audit-*.jsonl")] == ["audit-2024-05-02.jsonl"]


def test_verify_detects_an_edited_line(three_days: Path) -> None:
    path = three_days / "audit-2024-05-02.jsonl"
    lines = _lines(path)
    lines[1] = lines[1].replace('"outcome":"remediated"', '"outcome":"failed"')
    path.write_text("".join(lines), encoding="utf-8")
    problems = _problems(three_days)
    assert len(problems) == 1
    assert "audit-2024-05-02.jsonl line 2 (seq 5): altered" in problems[0]


def test_verify_detects_an_edit_with_a_recomputed_hash(three_days: Path) -> None:
    path = three_days / "audit-2024-05-02.jsonl"
    lines = _lines(path)
    entry = json.loads(lines[1])
    entry["outcome"] = "failed"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry, separators=(",", ":")) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    (problem,) = _problems(three_days)
    assert "line 3 (seq 6)" in problem and "prev_hash does not match the hash of" in problem


def test_verify_detects_a_removed_line(three_days: Path) -> None:
    path = three_days / "audit-2024-05-02.jsonl"
    lines = _lines(path)
    del lines[1]
    path.write_text("".join(lines), encoding="utf-8")
    (problem,) = _problems(three_days)
    assert problem.startswith("removed: seq 5 missing between audit-2024-05-02.jsonl line 1 (seq 4)")


def test_verify_detects_a_removed_day_file(three_days: Path) -> None:
    (three_days / "audit-2024-05-02.jsonl").unlink()
    (problem,) = _problems(three_days)
    assert problem.startswith(
        "removed: seq 4-6 missing between audit-2024-05-01.jsonl line 3 (seq 3) and audit-2024-05-03.jsonl line 1"
    )
    assert "removed day file" in problem


def test_verify_detects_a_removed_first_day_file(three_days: Path) -> None:
    (three_days / "audit-2024-05-01.jsonl").unlink()
    (problem,) = _problems(three_days)
    assert problem.startswith("removed: seq 1-3 missing between the start and")


def test_verify_detects_a_removed_newest_file_through_the_head_mark(three_days: Path) -> None:
    (three_days / "audit-2024-05-03.jsonl").unlink()
    (problem,) = _problems(three_days)
    assert "ends at seq 6" in problem and "seq 7-9 missing" in problem
    # ...and the sink refuses to chain on, which would hide the loss.
    with pytest.raises(AuditWriteError, match="removed or altered"):
        LocalAuditLog(three_days).append([record(50, day=3)])


def test_verify_detects_reordered_lines(three_days: Path) -> None:
    path = three_days / "audit-2024-05-02.jsonl"
    lines = _lines(path)
    lines[0], lines[1] = lines[1], lines[0]
    path.write_text("".join(lines), encoding="utf-8")
    problems = _problems(three_days)
    assert any("reordered: seq 4 comes after seq 5" in p for p in problems)
    assert not any(p.startswith("removed") for p in problems)


def test_verify_detects_an_inserted_line(three_days: Path) -> None:
    path = three_days / "audit-2024-05-02.jsonl"
    lines = _lines(path)
    forged = json.loads(lines[0])
    forged["eventId"] = "forged"
    forged["hash"] = entry_hash(forged)
    lines.insert(1, json.dumps(forged) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    problems = _problems(three_days)
    assert any("line 2 (seq 4): inserted" in p for p in problems)


def test_verify_detects_a_truncated_last_line(three_days: Path) -> None:
    path = three_days / "audit-2024-05-03.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # cut into the last (acknowledged) entry
    unreadable, tail = _problems(three_days)
    assert unreadable == "audit-2024-05-03.jsonl line 3: unreadable line (truncated or not JSON)"
    assert tail.startswith("removed: the log ends at seq 8, the recorded head is 9")
    assert verify(LocalAuditLog(three_days).entries()).problems == (unreadable,)  # the chain alone sees it
    # The head mark says seq 9 but the file now ends at seq 8: appending would hide the loss, so it refuses.
    with pytest.raises(AuditWriteError):
        LocalAuditLog(three_days).append([record(60, day=2)])


def test_an_interrupted_partial_line_is_kept_apart_from_the_next_append(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1)])
    with (tmp_path / "audit-2024-05-01.jsonl").open("ab") as f:
        f.write(b'{"seq":2,"v":1,"ti')  # a write that never completed (and was never acknowledged)
    log.append([record(2)])
    entries = list(log.entries())
    assert [e.get("seq") for e in entries] == [1, None, 2]
    assert entries[2]["prev_hash"] == entries[0]["hash"]  # chained onto the last complete entry
    report = verify(entries, head=log.head_mark())
    assert report.problems == ("audit-2024-05-01.jsonl line 2: unreadable line (truncated or not JSON)",)


def test_an_unwritable_folder_raises_audit_write_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AuditWriteError) as info:
        LocalAuditLog(blocker / "audit").append([record(1)])
    assert isinstance(info.value.__cause__, OSError)


def test_a_failing_batch_writes_nothing(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1)])
    bad = AuditRecord(time="not a time", kind="result")  # type: ignore[arg-type]
    with pytest.raises(AuditWriteError) as info:
        log.append([record(2), bad])
    assert info.value.__cause__ is not None
    assert [e["seq"] for e in log.entries()] == [1]


def test_concurrent_appends_from_threads(tmp_path: Path) -> None:
    logs = [LocalAuditLog(tmp_path), LocalAuditLog(tmp_path)]  # two instances: only the flock serializes

    def worker(t: int) -> None:
        for i in range(25):
            logs[t % 2].append([record(t * 100 + i, day=i % 2), record(t * 100 + i + 50, day=i % 2)])

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = list(logs[0].entries())
    assert len(entries) == 6 * 25 * 2
    assert [e["seq"] for e in entries] == list(range(1, 301))
    assert len({e["eventId"] for e in entries}) == 300
    assert verify(entries, head=logs[0].head_mark()).ok


def _process_worker(folder: str, worker: int, count: int) -> None:
    log = LocalAuditLog(folder)
    for i in range(count):
        log.append([record(worker * 1000 + i)])


def test_concurrent_appends_from_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: nothing shared but the folder
    procs = [ctx.Process(target=_process_worker, args=(str(tmp_path), w, 30)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    log = LocalAuditLog(tmp_path)
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == list(range(1, 121))
    assert {e["eventId"] for e in entries} == {f"evt-{w * 1000 + i}" for w in range(4) for i in range(30)}
    assert verify(entries, head=log.head_mark()).ok
    assert T0.tzinfo is not None

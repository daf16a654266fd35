"""Local state store: done markers, attempt history, and locks that exclude threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warden.state import LocalStateStore

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_done_markers(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    assert not store.is_done("e1")
    store.mark_done("e1", T0)
    assert store.is_done("e1")
    assert LocalStateStore(tmp_path).is_done("e1")  # survives a restart
    assert not store.is_done("e2")


def test_history_counts_attempts_in_window_case_insensitively(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.record_attempt(RID, T0 - timedelta(hours=30))
    store.record_attempt(RID.upper(), T0 - timedelta(hours=2))
    store.record_attempt(RID, T0 - timedelta(minutes=1))
    history = store.history(RID.replace("resourceGroups", "resourcegroups"), T0, timedelta(hours=24))
    assert history.attempts_in_window == 2
    assert history.last_attempt == T0 - timedelta(minutes=1)
    assert store.history("/other", T0, timedelta(hours=24)).attempts_in_window == 0


def test_lock_excludes_threads(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    inside: list[int] = []
    overlaps: list[int] = []

    def work(n: int) -> None:
        with store.lock(RID):
            if inside:
                overlaps.append(n)
            inside.append(n)
            time.sleep(0.01)
            inside.remove(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


def _hold(folder: str, path: str) -> None:
    store = LocalStateStore(folder)
    with store.lock(RID):
        Path(path).write_text("held")
        time.sleep(0.5)
        Path(path + ".released").write_text("released")  # the last thing done while holding the lock


def test_lock_excludes_processes(tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    proc = multiprocessing.get_context("spawn").Process(target=_hold, args=(str(tmp_path / "s"), str(flag)))
    proc.start()
    deadline = time.monotonic() + 20
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert flag.exists()
    store = LocalStateStore(tmp_path / "s")
    with store.lock(RID):
        # We can only get in after the other process finished its critical section.
        assert (tmp_path / "flag.released").exists()
    proc.join()


def test_reserve_is_atomic_across_threads_and_prunes_to_the_window(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    granted: list[bool] = []

    def grab() -> None:
        for _ in range(5):
            granted.append(store.reserve("*", T0, timedelta(hours=1), cap=7))

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 7 and len(granted) == 30
    assert store.reserve("*", T0 + timedelta(hours=2), timedelta(hours=1), cap=7)
    assert store.history("*", T0 + timedelta(hours=2), timedelta(days=7)).attempts_in_window == 1


def test_a_damaged_attempts_file_counts_from_zero(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.record_attempt(RID, T0)
    next((tmp_path / "attempts").glob("*.json")).write_text("{not json")
    assert store.history(RID, T0, timedelta(hours=1)).attempts_in_window == 0
    store.record_attempt(RID, T0)
    assert store.history(RID, T0, timedelta(hours=1)).attempts_in_window == 1


def test_done_markers_are_keyed_on_the_id_and_the_content(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.mark_done("e1", T0, "digest-a")
    assert store.is_done("e1", "digest-a")
    assert not store.is_done("e1", "digest-b")  # another event reusing the id is not done
    assert store.is_done("e1")  # some delivery with this id was
    assert not store.is_done("e2")


def test_any_event_id_makes_a_state_key_a_lone_surrogate_too(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    store.mark_done("e-\ud800", T0, "d")
    assert store.is_done("e-\ud800", "d") and not store.is_done("e-\udc00", "d")


def test_attempts_written_as_iso_text_by_earlier_versions_still_count(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path)
    rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/a"
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    store.record_attempt(rid, now)  # creates the folders and the file
    path = next((tmp_path / "attempts").glob("*.json"))
    path.write_text('["2026-12-01T11:30:00+00:00", "2026-12-01T11:50:00+00:00"]')
    history = store.history(rid, now, timedelta(hours=1))
    assert history.attempts_in_window == 2 and history.last_attempt == datetime(2026, 12, 1, 11, 50, tzinfo=UTC)
    assert store.reserve(rid, now, timedelta(hours=1), cap=3) and not store.reserve(rid, now, timedelta(hours=1), cap=3)

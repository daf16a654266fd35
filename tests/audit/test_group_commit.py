"""Group commit (warden/group_commit.py): threads appending at once share writes, every item lands exactly once,
in one piece per caller, and a failed write fails every caller whose items it carried."""

from __future__ import annotations

import threading
import time

import pytest

from warden.group_commit import GroupCommit


def test_concurrent_submits_share_writes_and_each_lands_once() -> None:
    writes: list[list[tuple[int, int]]] = []

    def write(items: list[tuple[int, int]]) -> None:
        time.sleep(0.005)  # an fsync's worth: the others queue up meanwhile
        writes.append(items)

    group: GroupCommit[tuple[int, int]] = GroupCommit(write)

    def worker(n: int) -> None:
        for i in range(20):
            group.submit([(n, i), (n, i)])  # a caller's two items stay together

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    landed = [item for batch in writes for item in batch]
    assert sorted(landed) == sorted([(n, i) for n in range(8) for i in range(20)] * 2)
    assert len(writes) < 8 * 20  # shared: fewer writes than submits
    for batch in writes:
        assert all(batch[k] == batch[k + 1] for k in range(0, len(batch), 2))


def test_a_failed_write_fails_every_caller_it_carried_and_the_next_write_goes_on() -> None:
    calls: list[list[str]] = []
    failing = threading.Event()
    failing.set()

    def write(items: list[str]) -> None:
        calls.append(items)
        if failing.is_set():
            raise OSError("disk full")

    group: GroupCommit[str] = GroupCommit(write)
    with pytest.raises(OSError, match="disk full"):
        group.submit(["a"])
    failing.clear()
    group.submit(["b"])
    assert calls == [["a"], ["b"]]

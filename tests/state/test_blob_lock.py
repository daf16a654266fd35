"""BlobStateStore's per-resource lock (a field of the resource's state blob) against Azurite: it excludes holders
across instances, waiters wait and time out, an optimistic evaluation claims it with one conditional write and
loses to any change since its read, and a crashed holder's lock is taken over once it expired."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from tests.state.conftest import RID, MakeStore
from warden.azure.state_blob import BlobStateStore
from warden.azure.state_lock import LOCK_SECONDS
from warden.azure.state_names import resource_blob_name
from warden.errors import TransientError
from warden.state import LockContendedError

OTHER = RID.replace("accounts/a", "accounts/b")
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _lock_field(container: ContainerClient, resource_id: str = RID) -> dict[str, str] | None:
    held: dict[str, str] | None = json.loads(container.download_blob(resource_blob_name(resource_id)).readall()).get(
        "lock"
    )
    return held


def test_holders_in_two_instances_never_overlap(make_store: MakeStore, container: ContainerClient) -> None:
    stores = [make_store(), make_store()]
    spans: list[tuple[float, float]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def work(store: BlobStateStore) -> None:
        start.wait()
        try:
            with store.lock(RID.upper() if store is stores[1] else RID):  # one resource, whatever the case
                entered = time.monotonic()
                time.sleep(0.05)
                spans.append((entered, time.monotonic()))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(stores[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(spans) == 8
    spans.sort()
    for (_, left), (entered, _) in itertools.pairwise(spans):
        assert entered >= left, "two holders were inside the lock at once"
    assert _lock_field(container) is None  # every holder released


def test_different_resources_do_not_block_each_other(make_store: MakeStore) -> None:
    a, b = make_store(), make_store(lock_timeout=1)
    with a.lock(RID), b.lock(OTHER):
        pass


def test_a_waiter_gets_the_lock_once_the_holder_releases(make_store: MakeStore) -> None:
    a, b = make_store(), make_store()
    entered = threading.Event()
    released_at: list[float] = []
    entered_at: list[float] = []

    def wait_for_it() -> None:
        with b.lock(RID):
            entered_at.append(time.monotonic())
            entered.set()

    with a.lock(RID):
        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        assert not entered.wait(0.6), "the waiter got in while the lock was held"
        released_at.append(time.monotonic())
    assert entered.wait(5), "the waiter did not get the lock after release"
    waiter.join()
    assert entered_at[0] >= released_at[0]


def test_a_waiter_gives_up_with_a_transient_error(make_store: MakeStore, container: ContainerClient) -> None:
    a, b = make_store(), make_store(lock_timeout=0.4)
    with a.lock(RID):
        with pytest.raises(TransientError, match="locked by another holder") as caught, b.lock(RID):
            pass
        assert caught.value.code == "LockHeld"
        assert _lock_field(container) is not None  # the holder keeps it
    assert _lock_field(container) is None


def test_the_lock_is_released_when_the_work_fails(make_store: MakeStore, container: ContainerClient) -> None:
    store = make_store()
    with pytest.raises(RuntimeError), store.lock(RID):
        store.record_attempt(RID, T0)
        raise RuntimeError("boom")
    assert _lock_field(container) is None
    assert store.history(RID, T0, DAY).attempts_in_window == 1  # what changed before it raised is kept
    with make_store(lock_timeout=0.5).lock(RID):
        pass


def test_an_optimistic_claim_wins_once_and_loses_to_any_change_since_its_read(make_store: MakeStore) -> None:
    """The deliveries of one drifted event at several instances: each reads, each claims on its read; exactly
    one claim is granted, every other one is refused without waiting."""
    stores = [make_store() for _ in range(6)]
    read, claimed = threading.Barrier(len(stores)), threading.Barrier(len(stores))
    won: list[BlobStateStore] = []
    lost: list[BaseException] = []

    def deliver(store: BlobStateStore) -> None:
        with store.optimistic(RID):
            store.pending(RID)  # served from the one read
            read.wait()
            try:
                store.claim(RID)
                won.append(store)
            except LockContendedError as exc:
                lost.append(exc)
            claimed.wait()  # the winner still holds the lock while the others try

    threads = [threading.Thread(target=deliver, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == len(stores) - 1
    # A claim on a state that changed since its read is refused too, even with no lock held any more.
    late = make_store()
    with late.optimistic(RID):
        make_store().record_attempt(RID, T0)  # another instance writes the state
        with pytest.raises(LockContendedError):
            late.claim(RID)


def test_a_claim_while_another_holds_the_lock_is_refused_and_nothing_waits(make_store: MakeStore) -> None:
    holder, other = make_store(), make_store(lock_timeout=30)
    with holder.lock(RID), other.optimistic(RID), pytest.raises(LockContendedError):
        other.claim(RID)  # refused at once (waiting would end in a TransientError "LockHeld")


def test_a_write_without_the_lock_keeps_the_holders_lock(make_store: MakeStore, container: ContainerClient) -> None:
    """A compliant evaluation writes its done marker without the lock, while another instance holds it: the
    holder's lock survives, and the holder's final write (now on a changed blob) still releases it."""
    holder, other = make_store(), make_store()
    with holder.lock(RID):
        holder.record_attempt(RID, T0)
        with other.optimistic(RID):
            other.mark_done("e-compliant", T0, "d", RID)
        assert _lock_field(container) is not None
    assert _lock_field(container) is None
    fresh = make_store()
    assert fresh.is_done("e-compliant", "d", RID)
    assert fresh.history(RID, T0, DAY).attempts_in_window == 1


def test_a_crashed_holders_lock_is_taken_over_once_it_expired(
    make_store: MakeStore, container: ContainerClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A holder that stops inside its lock (never exits) blocks the resource until its lock expires, then the
    next waiter takes it over; if the stopped holder ever writes its end, it releases nothing of the new one's."""
    crashed = make_store(lock_seconds=2).lock(RID)
    crashed.__enter__()  # and never leaves: the instance died
    until = datetime.fromisoformat(str((_lock_field(container) or {})["until"]))
    with make_store(lock_timeout=20).lock(RID):
        assert datetime.now(UTC) >= until, "taken over before the crashed holder's lock expired"
        taker = _lock_field(container)
        crashed.__exit__(None, None, None)  # the stopped holder's late end
        assert _lock_field(container) == taker
    assert "lost the lock" in caplog.text
    assert _lock_field(container) is None


def test_a_lock_outlasts_any_function_invocation() -> None:
    """A live holder never outlives its lock: the host ends an invocation at functionTimeout (host.json)."""
    host = json.loads((Path(__file__).parents[2] / "host.json").read_text())
    hours, minutes, seconds = (int(p) for p in host["functionTimeout"].split(":"))
    invocation = hours * 3600 + minutes * 60 + seconds
    assert invocation + 60 < LOCK_SECONDS  # a minute at least for clock skew between instances

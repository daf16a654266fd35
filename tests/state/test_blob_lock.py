"""BlobStateStore.lock against Azurite: blob leases exclude holders across instances, wait, time out, renew
while held, and are taken over once a crashed holder's lease expires."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from azure.storage.blob import BlobLeaseClient, ContainerClient

from tests.state.conftest import RID, MakeStore
from warden.azure.state_blob import BlobStateStore, lock_blob_name
from warden.errors import TransientError

OTHER = RID.replace("accounts/a", "accounts/b")


def _lease_state(container: ContainerClient, resource_id: str) -> str:
    return str(container.get_blob_client(lock_blob_name(resource_id)).get_blob_properties().lease.state)


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
    assert _lease_state(container, RID) == "available"  # every holder released


def test_different_resources_do_not_block_each_other(make_store: MakeStore) -> None:
    a, b = make_store(), make_store(lock_timeout=1)
    with a.lock(RID):
        started = time.monotonic()
        with b.lock(OTHER):
            pass
        assert time.monotonic() - started < 1


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
        started = time.monotonic()
        with pytest.raises(TransientError, match="locked by another holder") as caught, b.lock(RID):
            pass
        assert 0.4 <= time.monotonic() - started < 3
        assert caught.value.code == "LeaseAlreadyPresent"
        assert _lease_state(container, RID) == "leased"  # the holder keeps it
    assert _lease_state(container, RID) == "available"


def test_the_lock_is_released_when_the_work_fails(make_store: MakeStore, container: ContainerClient) -> None:
    store = make_store()
    with pytest.raises(RuntimeError), store.lock(RID):
        raise RuntimeError("boom")
    assert _lease_state(container, RID) == "available"
    with make_store(lock_timeout=0.5).lock(RID):
        pass


def test_an_abandoned_lease_expires_but_a_held_one_is_renewed(
    make_store: MakeStore, container: ContainerClient
) -> None:
    """Both at once, to pay the 15 s minimum lease only once: a crashed holder's lease (never released, never
    renewed) is taken over after it expires, while a live holder working past 15 s keeps its lock."""
    crashed = container.get_blob_client(lock_blob_name(RID))
    crashed.upload_blob(b"", overwrite=True)
    BlobLeaseClient(crashed).acquire(lease_duration=15)
    abandoned_at = time.monotonic()

    holder, taker, waiter = make_store(), make_store(lock_timeout=25), make_store(lock_timeout=25)
    times: dict[str, float] = {}
    failures: list[BaseException] = []
    holding = threading.Event()

    def take_over() -> None:
        try:
            with taker.lock(RID):
                times["taken over"] = time.monotonic()
        except BaseException as exc:
            failures.append(exc)

    def hold() -> None:
        try:
            with holder.lock(OTHER):
                holding.set()
                time.sleep(17)  # past one lease period: only renewals keep the lease
                times["holder left"] = time.monotonic()
        except BaseException as exc:
            failures.append(exc)

    def wait() -> None:
        holding.wait()
        try:
            with waiter.lock(OTHER):
                times["waiter entered"] = time.monotonic()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=f) for f in (take_over, hold, wait)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert 14 <= times["taken over"] - abandoned_at < 20
    assert times["waiter entered"] >= times["holder left"]


def test_a_lease_taken_from_under_the_holder_is_logged_not_raised(
    make_store: MakeStore, container: ContainerClient, caplog: pytest.LogCaptureFixture
) -> None:
    blob = container.get_blob_client(lock_blob_name(RID))
    with make_store().lock(RID):
        BlobLeaseClient(blob).break_lease(lease_break_period=0)  # an operator broke it
        BlobLeaseClient(blob).acquire(lease_duration=15)  # and someone else took it
    assert "could not release the lock" in caplog.text  # the work was done; the other lease is untouched
    assert _lease_state(container, RID) == "leased"

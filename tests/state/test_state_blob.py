"""BlobStateStore against Azurite: done markers, attempt history and pruning, concurrent attempts from two
instances, and how storage failures map onto the warden error tree."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.storage.blob import ContainerClient

from emulator.azurite import DEV_ACCOUNT, DEV_KEY
from tests.state.conftest import RID, MakeStore
from warden.azure.state_blob import BlobStateStore, from_settings
from warden.azure.state_names import attempts_blob_name, done_blob_name, resource_blob_name
from warden.errors import AzureError, ConfigurationError, PermissionDeniedError, TransientError

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_done_markers_are_seen_by_every_instance(make_store: MakeStore, container: ContainerClient) -> None:
    a, b = make_store(), make_store()
    assert not a.is_done("e1")
    a.mark_done("e1", T0)
    assert a.is_done("e1")
    assert b.is_done("e1")  # another instance
    assert not b.is_done("e2")
    blob = container.get_blob_client(done_blob_name("e1"))
    assert blob.blob_name.startswith("events/") and len(blob.blob_name) == len("events/") + 64
    props = blob.get_blob_properties()
    assert props.metadata == {"handled_at": T0.isoformat()}
    assert json.loads(blob.download_blob().readall()) == {"eventId": "e1", "at": T0.isoformat()}
    a.mark_done("e1", T0 + DAY)  # a second marking (a redelivery that raced) is harmless
    assert a.is_done("e1")


def test_history_counts_attempts_in_the_window_whatever_the_id_case(make_store: MakeStore) -> None:
    store = make_store()
    store.record_attempt(RID, T0 - timedelta(hours=30))
    store.record_attempt(RID.upper(), T0 - timedelta(hours=2))
    store.record_attempt(RID + "/", T0 - timedelta(minutes=1))
    history = make_store().history(RID.replace("resourceGroups", "resourcegroups"), T0, DAY)
    assert history.attempts_in_window == 2
    assert history.last_attempt == T0 - timedelta(minutes=1)
    assert store.history(RID, T0, timedelta(hours=48)).attempts_in_window == 3
    assert store.history(RID, T0 - timedelta(minutes=90), DAY).attempts_in_window == 1  # later ones are not "before"
    assert store.history("/other", T0, DAY).attempts_in_window == 0
    assert store.history("/other", T0, DAY).last_attempt is None


def test_attempts_older_than_a_week_are_pruned(make_store: MakeStore, container: ContainerClient) -> None:
    store = make_store()
    store.record_attempt(RID, T0 - timedelta(days=8))
    store.record_attempt(RID, T0 - timedelta(days=6))
    store.record_attempt(RID, T0)
    stored = json.loads(container.download_blob(resource_blob_name(RID)).readall())  # the resource's one blob
    assert stored["attempts"] == [(T0 - timedelta(days=6)).isoformat(), T0.isoformat()]


def test_concurrent_attempts_from_two_instances_are_all_counted(make_store: MakeStore) -> None:
    stores = [make_store(), make_store()]
    threads_per_store, attempts_per_thread = 6, 3
    start = threading.Barrier(len(stores) * threads_per_store)
    failures: list[BaseException] = []

    def work(store: BlobStateStore, n: int) -> None:
        start.wait()
        try:
            for i in range(attempts_per_thread):
                store.record_attempt(RID, T0 - timedelta(seconds=n * attempts_per_thread + i))
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(store, s * threads_per_store + t))
        for s, store in enumerate(stores)
        for t in range(threads_per_store)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    total = len(stores) * threads_per_store * attempts_per_thread
    history = stores[0].history(RID, T0, DAY)
    assert history.attempts_in_window == total
    assert history.last_attempt == T0


def test_blob_names_hash_the_normalized_resource_id() -> None:
    assert resource_blob_name(RID) == resource_blob_name(RID.upper() + "/")
    assert attempts_blob_name(RID) == attempts_blob_name(f" {RID.lower()} ")
    assert attempts_blob_name(RID).startswith("attempts/") and attempts_blob_name(RID).endswith(".json")
    assert resource_blob_name(RID).startswith("resources/") and resource_blob_name(RID).endswith(".json")
    assert done_blob_name("E1") != done_blob_name("e1")  # event ids are compared as given


def test_a_missing_container_is_an_error_not_an_empty_state(azurite: str) -> None:
    store = BlobStateStore(ContainerClient.from_connection_string(azurite, "state-missing"))
    for call in (
        lambda: store.is_done("e1"),
        lambda: store.mark_done("e1", T0),
        lambda: store.history(RID, T0, DAY),
        lambda: store.record_attempt(RID, T0),
    ):
        with pytest.raises(AzureError) as caught:
            call()
        assert not isinstance(caught.value, TransientError)
        assert caught.value.status == 404 and caught.value.code == "ContainerNotFound"
        assert isinstance(caught.value.__cause__, HttpResponseError)
    with pytest.raises(AzureError, match=r"ContainerNotFound|not exist"), store.lock(RID):
        pass


def test_a_corrupt_state_blob_is_reported(make_store: MakeStore, container: ContainerClient) -> None:
    container.upload_blob(resource_blob_name(RID), b'{"attempts": "not a list of times"}')
    with pytest.raises(AzureError, match="not a resource state"):
        make_store().history(RID, T0, DAY)
    container.upload_blob(attempts_blob_name("*"), b'{"not": "a list"}')
    with pytest.raises(AzureError, match="not a JSON list"):
        make_store().history("*", T0, DAY)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(port: int, container: str = "state") -> ContainerClient:
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )
    return ContainerClient.from_connection_string(conn, container, retry_total=0)


def test_an_unreachable_account_is_transient() -> None:
    store = BlobStateStore(_client(_closed_port()))
    with pytest.raises(TransientError, match="connection failed") as caught:
        store.is_done("e1")
    assert isinstance(caught.value.__cause__, ServiceRequestError)
    with pytest.raises(TransientError), store.lock(RID):
        pass


class _Failing(BaseHTTPRequestHandler):
    """A storage endpoint that answers every request with the status and code named by the container."""

    def _fail(self) -> None:
        status, code = self.path.split("/")[2].split("-", 1)  # /<account>/<status>-<code>/...
        body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>m</Message></Error>'
        self.send_response(int(status))
        self.send_header("x-ms-error-code", code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body.encode())

    do_GET = do_PUT = do_HEAD = _fail

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "status,code,expected",
    [
        (503, "ServerBusy", TransientError),
        (500, "InternalError", TransientError),
        (429, "TooManyRequests", TransientError),
        (403, "AuthorizationPermissionMismatch", PermissionDeniedError),
        (400, "InvalidHeaderValue", AzureError),
    ],
)
def test_service_failures_map_onto_the_error_tree(
    failing_port: int, status: int, code: str, expected: type[AzureError]
) -> None:
    store = BlobStateStore(_client(failing_port, f"{status}-{code}"))
    for call in (lambda: store.is_done("e1"), lambda: store.record_attempt(RID, T0)):
        with pytest.raises(AzureError) as caught:
            call()
        assert type(caught.value) is expected
        assert caught.value.status == status
        assert isinstance(caught.value.__cause__, HttpResponseError)
    with pytest.raises(expected), store.lock(RID):
        pass


def test_from_settings_creates_the_container(azurite: str) -> None:
    store = from_settings(None, azurite, "state-created")
    assert store.container_name == "state-created"
    store.mark_done("e1", T0)
    again = from_settings(None, azurite, "state-created")  # an existing container is fine
    assert again.is_done("e1")


def test_from_settings_wants_exactly_one_way_in(azurite: str) -> None:
    with pytest.raises(ConfigurationError):
        from_settings(None, None, "state")
    with pytest.raises(ConfigurationError):
        from_settings("https://acct.blob.core.windows.net", azurite, "state")


@pytest.mark.parametrize("seconds", [0, -1])
def test_a_lock_must_hold_for_some_time(container: ContainerClient, seconds: int) -> None:
    with pytest.raises(ConfigurationError, match="lock_seconds"):
        BlobStateStore(container, lock_seconds=seconds)


def test_reservations_never_exceed_the_cap_across_instances(make_store: MakeStore) -> None:
    stores = [make_store(), make_store(), make_store()]
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    granted: list[bool] = []
    lock = threading.Lock()

    def grab(store: BlobStateStore) -> None:
        for _ in range(4):
            ok = store.reserve("*", now, timedelta(hours=1), cap=5)
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=grab, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 5 and len(granted) == 24
    # An hour later the window is empty again, and the pruned list holds only the new reservation.
    assert stores[0].reserve("*", now + timedelta(hours=1, seconds=1), timedelta(hours=1), cap=5)
    assert stores[1].history("*", now + timedelta(hours=1, seconds=2), timedelta(days=7)).attempts_in_window == 1

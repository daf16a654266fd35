"""Remediation state in Azure Blob Storage, shared by every scaled-out instance: done markers per event,
attempt lists per resource updated under etag conditions, and per-resource locks held as blob leases.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from enum import Enum

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as SdkError
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient, ContentSettings

from warden.azure.clients import container_client
from warden.azure.errors import classified_errors
from warden.errors import AzureError, ConfigurationError, TransientError
from warden.model import Json, RemediationHistory, normalize_id
from warden.state import link_entry, pending_entries, text_bytes

log = logging.getLogger(__name__)

MIN_LEASE_SECONDS, MAX_LEASE_SECONDS = 15, 60  # what the Blob service accepts for a finite lease
RETENTION = timedelta(days=7)  # attempts older than this can no longer matter to any attempt window
CONFLICT_ATTEMPTS = 50  # lost etag races before record_attempt gives up (TransientError: redelivered)
FIRST_BACKOFF, MAX_BACKOFF = 0.05, 1.0  # seconds between tries for a lease another holder has
_JSON = ContentSettings(content_type="application/json")


def _digest(text: str) -> str:
    return hashlib.sha256(text_bytes(text)).hexdigest()


def lock_blob_name(resource_id: str) -> str:
    """locks/<sha256 of the normalized id>: one lease-able blob per resource, whatever the id's case."""
    return f"locks/{_digest(normalize_id(resource_id))}"


def done_blob_name(event_id: str, digest: str = "") -> str:
    """events/<sha256 of the event id>.<content digest (warden.state.event_digest)>: found without knowing when
    the event was handled; one id's markers share the prefix events/<sha256 of the id>."""
    return f"events/{_digest(event_id)}" + (f".{_digest(digest)}" if digest else "")


def attempts_blob_name(resource_id: str) -> str:
    """attempts/<sha256 of the normalized id>.json: a JSON list of ISO times."""
    return f"attempts/{_digest(normalize_id(resource_id))}.json"


def pending_blob_name(resource_id: str) -> str:
    """pending/<sha256 of the normalized id>.json: the steps a partial remediation left (warden/pending.py)."""
    return f"pending/{_digest(normalize_id(resource_id))}.json"


def link_blob_name(group: str, member: str = "") -> str:
    """links/<sha256 of the group>/<sha256 of the member>.json (the group's prefix alone without a member)."""
    prefix = f"links/{_digest(group.lower())}/"
    return prefix + (f"{_digest(normalize_id(member))}.json" if member else "")


def _code(exc: HttpResponseError) -> str:
    """The storage error code ("LeaseAlreadyPresent"...); the SDK sets it, at times as an enum."""
    code = getattr(exc, "error_code", None) or ""
    return str(code.value if isinstance(code, Enum) else code)


def storage_errors(what: str) -> AbstractContextManager[None]:
    """The shared classifier (warden/azure/errors.py), naming the state store in the message."""
    return classified_errors(f"state store: {what}")


class _Renewal:
    """Renews a held lease every `interval` seconds on a daemon thread, so work may outlast one lease period."""

    def __init__(self, lease: BlobLeaseClient, interval: float, resource_id: str) -> None:
        self._lease = lease
        self._interval = interval
        self._resource_id = resource_id
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="warden-lease-renewal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()  # an in-flight renew finishes first: release never races it

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._lease.renew()
            except HttpResponseError as exc:
                if exc.status_code == 409:  # expired and taken by another holder: exclusion is gone
                    log.error("state: lost the lock on %s (%s); another instance may hold it", self._resource_id, exc)
                    return
                log.warning("state: could not renew the lock on %s (%s); retrying", self._resource_id, exc)
            except SdkError as exc:  # a failed renewal leaves two more tries before the lease runs out
                log.warning("state: could not renew the lock on %s (%s); retrying", self._resource_id, exc)


class BlobStateStore:
    """StateStore on one blob container, shared by all instances of the app.

    - lock: a lease on locks/<sha>; waiters poll with backoff until `lock_timeout` (then TransientError).
      The lease is renewed every lease_seconds/3 while held; a crashed holder's lease expires by itself
      after `lease_seconds`, and the next waiter takes it over.
    - is_done/mark_done: the existence of events/<sha>; the handling time is in its metadata.
    - history/record_attempt: attempts/<sha>.json, read-modify-written under If-Match / If-None-Match: *.
    """

    def __init__(
        self, container_client: ContainerClient, *, lease_seconds: int = 60, lock_timeout: float = 120
    ) -> None:
        if not MIN_LEASE_SECONDS <= lease_seconds <= MAX_LEASE_SECONDS:
            raise ConfigurationError(
                f"lease_seconds={lease_seconds} is outside {MIN_LEASE_SECONDS}..{MAX_LEASE_SECONDS} (service limits)"
            )
        self._container = container_client
        self._lease_seconds = lease_seconds
        self._lock_timeout = lock_timeout

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    def is_done(self, event_id: str, digest: str = "") -> bool:
        with storage_errors(f"reading the done marker of event {event_id!a}"):
            if not digest:  # any marker of the id (a missing container raises: it never reads as "not done")
                return any(True for _ in self._container.list_blobs(name_starts_with=done_blob_name(event_id)))
            try:
                self._container.get_blob_client(done_blob_name(event_id, digest)).get_blob_properties()
            except ResourceNotFoundError as exc:
                if _code(exc) != "BlobNotFound":  # a missing container must not read as "not done"
                    raise
                return False
        return True

    def mark_done(self, event_id: str, when: datetime, digest: str = "") -> None:
        body = json.dumps({"eventId": event_id, "at": when.isoformat()}).encode()  # ASCII: any id
        with storage_errors(f"writing the done marker of event {event_id!a}"):
            self._container.get_blob_client(done_blob_name(event_id, digest)).upload_blob(
                body, overwrite=True, metadata={"handled_at": when.isoformat()}, content_settings=_JSON
            )

    def history(self, resource_id: str, now: datetime, window: timedelta) -> RemediationHistory:
        with storage_errors(f"reading the attempts on {resource_id}"):
            times, _ = self._read_attempts(self._container.get_blob_client(attempts_blob_name(resource_id)))
        in_window = [t for t in times if now - window <= t <= now]
        return RemediationHistory(attempts_in_window=len(in_window), last_attempt=max(in_window, default=None))

    def record_attempt(self, resource_id: str, when: datetime) -> None:
        self._add_attempt(resource_id, when, RETENTION, cap=None)

    def reserve(self, key: str, now: datetime, window: timedelta, cap: int) -> bool:
        return self._add_attempt(key, now, window, cap=cap)

    def _add_attempt(self, resource_id: str, when: datetime, keep: timedelta, *, cap: int | None) -> bool:
        """Append `when` to the key's list (pruned to `keep`) unless `cap` entries are already within it;
        read-modify-write under the blob's etag, so concurrent instances neither lose nor over-grant."""
        blob = self._container.get_blob_client(attempts_blob_name(resource_id))
        with storage_errors(f"recording an attempt on {resource_id}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                times, etag = self._read_attempts(blob)
                recent = [t for t in times if when - t < keep]
                if cap is not None and len(recent) >= cap:
                    return False
                kept = sorted([*recent, when])
                data = json.dumps([t.isoformat() for t in kept]).encode()
                try:
                    if etag is None:
                        blob.upload_blob(
                            data, overwrite=True, match_condition=MatchConditions.IfMissing, content_settings=_JSON
                        )
                    else:
                        blob.upload_blob(
                            data,
                            overwrite=True,
                            etag=etag,
                            match_condition=MatchConditions.IfNotModified,
                            content_settings=_JSON,
                        )
                    return True
                except (ResourceExistsError, ResourceModifiedError):
                    # Another instance wrote first (409 on create, 412 on update): re-read and re-apply. If the
                    # SDK retried a write whose reply was lost, the attempt counts twice: the safe direction.
                    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 (not crypto)
        raise TransientError(
            f"state store: gave up recording an attempt on {resource_id} after {CONFLICT_ATTEMPTS} lost races"
        )

    def lock(self, resource_id: str) -> AbstractContextManager[None]:
        return self._held(resource_id)

    @contextmanager
    def _held(self, resource_id: str) -> Iterator[None]:
        lease = self._acquire(resource_id)
        renewal = _Renewal(lease, self._lease_seconds / 3, resource_id)
        renewal.start()
        try:
            yield
        finally:
            renewal.stop()
            try:
                lease.release()
            except SdkError as exc:
                # The work is done; the lease then expires by itself and the next waiter takes it over.
                log.warning(
                    "state: could not release the lock on %s (%s); it expires within %d s",
                    resource_id,
                    exc,
                    self._lease_seconds,
                )

    def _acquire(self, resource_id: str) -> BlobLeaseClient:
        blob = self._container.get_blob_client(lock_blob_name(resource_id))
        deadline = time.monotonic() + self._lock_timeout
        delay = FIRST_BACKOFF
        while True:
            with storage_errors(f"locking {resource_id}"):
                lease = self._try_acquire(blob, resource_id)
            if lease is not None:
                return lease
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransientError(
                    f"state store: {resource_id} stayed locked by another holder for {self._lock_timeout:g} s "
                    f"(a crashed holder's lease expires after {self._lease_seconds} s)",
                    status=409,
                    code="LeaseAlreadyPresent",
                )
            time.sleep(min(remaining, random.uniform(delay / 2, delay)))  # noqa: S311 (not crypto)
            delay = min(delay * 2, MAX_BACKOFF)

    def _try_acquire(self, blob: BlobClient, resource_id: str) -> BlobLeaseClient | None:
        """The lease, or None while another holder has it; creates the lock blob on a resource's first lock."""
        for _ in range(2):
            lease = BlobLeaseClient(blob)
            try:
                lease.acquire(lease_duration=self._lease_seconds)
                return lease
            except ResourceNotFoundError as exc:
                if _code(exc) != "BlobNotFound":
                    raise
                with contextlib.suppress(ResourceExistsError):  # another instance created it first: fine
                    blob.upload_blob(normalize_id(resource_id).encode(), overwrite=False)
            except ResourceExistsError as exc:
                if _code(exc) == "LeaseAlreadyPresent":
                    return None
                raise
        return None

    def pending(self, resource_id: str) -> list[dict[str, Json]]:
        blob = self._container.get_blob_client(pending_blob_name(resource_id))
        with storage_errors(f"reading the pending steps of {resource_id}"):
            try:
                data = blob.download_blob().readall()
            except ResourceNotFoundError as exc:
                if _code(exc) != "BlobNotFound":
                    raise
                return []
        return pending_entries(data, blob.blob_name)

    def set_pending(self, resource_id: str, entries: list[dict[str, Json]]) -> None:
        # Written under the resource's lease (the pipeline holds it), so no etag condition is needed.
        blob = self._container.get_blob_client(pending_blob_name(resource_id))
        with storage_errors(f"writing the pending steps of {resource_id}"):
            if entries:
                blob.upload_blob(json.dumps(entries).encode(), overwrite=True, content_settings=_JSON)
            else:
                with contextlib.suppress(ResourceNotFoundError):
                    blob.delete_blob()

    def links(self, group: str) -> dict[str, dict[str, Json]]:
        out: dict[str, dict[str, Json]] = {}
        with storage_errors(f"reading the links of {group}"):
            for item in self._container.list_blobs(name_starts_with=link_blob_name(group)):
                try:
                    data = self._container.get_blob_client(item.name).download_blob().readall()
                except ResourceNotFoundError:
                    continue  # unlinked between the listing and the read
                entry = link_entry(data, item.name)
                if entry is not None:
                    out[entry[0]] = entry[1]
        return out

    def link(self, group: str, member: str, value: dict[str, Json]) -> None:
        blob = self._container.get_blob_client(link_blob_name(group, member))
        body = json.dumps({"member": member, "value": value}).encode()
        with storage_errors(f"linking {member} under {group}"):
            blob.upload_blob(body, overwrite=True, content_settings=_JSON)

    def unlink(self, group: str, member: str) -> None:
        blob = self._container.get_blob_client(link_blob_name(group, member))
        with storage_errors(f"unlinking {member} from {group}"), contextlib.suppress(ResourceNotFoundError):
            blob.delete_blob()

    def _read_attempts(self, blob: BlobClient) -> tuple[list[datetime], str | None]:
        """The recorded times and the blob's etag; ([], None) when there is no blob yet."""
        try:
            download = blob.download_blob()
            data = download.readall()
        except ResourceNotFoundError as exc:
            if _code(exc) != "BlobNotFound":
                raise
            return [], None
        try:
            times = [datetime.fromisoformat(t) for t in json.loads(data)]
        except (ValueError, TypeError) as exc:
            raise AzureError(
                f"state store: {blob.blob_name} is not a JSON list of ISO times; fix or delete it", code="InvalidState"
            ) from exc
        return times, str(download.properties.etag)


def from_settings(
    account_url: str | None,
    connection_string: str | None,
    container: str,
    credential: TokenCredential | None = None,
    *,
    lease_seconds: int = 60,
    lock_timeout: float = 120,
) -> BlobStateStore:
    """A BlobStateStore from app settings: `account_url` with an Entra credential in Azure (no shared keys;
    DefaultAzureCredential when none is given), or `connection_string` for Azurite. Creates the container."""
    client = container_client(account_url, connection_string, container, credential, purpose="blob state store")
    with storage_errors(f"creating the state container {container}"), contextlib.suppress(ResourceExistsError):
        client.create_container()
    return BlobStateStore(client, lease_seconds=lease_seconds, lock_timeout=lock_timeout)

"""Remediation state in Azure Blob Storage, shared by every scaled-out instance: one state blob per resource
(attempts, pending steps, done markers and its lock; warden/azure/state_doc.py, state_lock.py) read once per
evaluation and written once, and counters (the tenant-wide cap), all under etag conditions.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobClient, ContainerClient, ContentSettings

from warden.azure.clients import container_client
from warden.azure.errors import classified_errors
from warden.azure.state_doc import Changes, ResourceDoc
from warden.azure.state_lock import LOCK_SECONDS, Locks, new_owner
from warden.azure.state_names import (
    attempts_blob_name,
    done_blob_name,
    link_blob_name,
    marker_key,
    resource_blob_name,
)
from warden.errors import AzureError, ConfigurationError, TransientError
from warden.model import Json, RemediationHistory, normalize_id
from warden.state import EchoMemory, LockContendedError, link_entry, pending_entries

log = logging.getLogger(__name__)

LINK_MEMO_AGE = 3600.0  # seconds a link this instance wrote is not rewritten with the same value
MEMO_AGE = 60.0  # seconds a counter read or written here stands in for the planner's advisory count
CONFLICT_ATTEMPTS = 50  # lost etag races before record_attempt gives up (TransientError: redelivered)
_JSON = ContentSettings(content_type="application/json")


def _code(exc: HttpResponseError) -> str:
    """The storage error code ("BlobNotFound"...); the SDK sets it, at times as an enum."""
    code = getattr(exc, "error_code", None) or ""
    return str(code.value if isinstance(code, Enum) else code)


def storage_errors(what: str) -> AbstractContextManager[None]:
    """The shared classifier (warden/azure/errors.py), naming the state store in the message."""
    return classified_errors(f"state store: {what}")


@dataclass
class _Session:
    """One thread's open evaluation of a resource: its state as read or last written, what changed since, and
    its lock (held from the start by `lock`, from `claim` on in `optimistic`)."""

    doc: ResourceDoc
    changes: Changes
    owner: str
    held: bool


class BlobStateStore:
    """StateStore on one blob container, shared by all instances of the app.

    - The resource's state blob (resources/<sha>.json) is read once per evaluation, served from memory, and
      written once at its end with what changed. Its lock is a field of that blob: `lock` reads and claims it
      (one write on the etag read; waiters poll with backoff until `lock_timeout`, then TransientError);
      `optimistic` only reads, and `claim` takes it before the first action. The final write releases it; a
      crashed holder's lock is taken over `lock_seconds` after it was taken.
    - is_done/mark_done with the resource: a marker in its state blob; without: the existence of events/<sha>.
    - reserve (counters such as the tenant-wide cap): attempts/<sha>.json under If-Match / If-None-Match: *.
    """

    def __init__(
        self, container_client: ContainerClient, *, lock_seconds: float = LOCK_SECONDS, lock_timeout: float = 120
    ) -> None:
        if lock_seconds <= 0:
            raise ConfigurationError(f"lock_seconds={lock_seconds:g}: a lock must hold for some time")
        self._container = container_client
        self._locks = Locks(self._read_doc, self._put_named, lock_seconds, lock_timeout)
        self._local = threading.local()  # this thread's open evaluations: normalized id -> _Session
        self._memo_lock = threading.Lock()
        self._memo: dict[str, tuple[list[datetime], str | None, float]] = {}  # counter key -> times, etag, when
        self._echoes = EchoMemory()
        self._legacy: set[str] | None = None  # pending/<sha>.json blobs of an older version, once listed
        self._linked: dict[tuple[str, str], tuple[dict[str, Json], float]] = {}  # links this instance wrote

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    def echo_seen(self, event_id: str, digest: str) -> bool:
        return self._echoes.seen(event_id, digest)

    def _session(self, resource_id: str) -> _Session | None:
        sessions: dict[str, _Session] = getattr(self._local, "sessions", {})
        return sessions.get(normalize_id(resource_id))

    def is_done(self, event_id: str, digest: str = "", resource_id: str = "") -> bool:
        if resource_id and digest:
            return marker_key(event_id, digest) in self._doc(resource_id).done
        with storage_errors(f"reading the done marker of event {event_id!a}"):
            if not digest:  # any marker of the id, anywhere (tests, people: one listing per prefix, then each doc)
                if any(True for _ in self._container.list_blobs(name_starts_with=done_blob_name(event_id))):
                    return True
                prefix = done_blob_name(event_id).removeprefix("events/") + "."
                return any(
                    any(k.startswith(prefix) for k in self._read_doc(item.name).done)
                    for item in self._container.list_blobs(name_starts_with="resources/")
                )
            try:
                self._container.get_blob_client(done_blob_name(event_id, digest)).get_blob_properties()
            except ResourceNotFoundError as exc:
                if _code(exc) != "BlobNotFound":  # a missing container must not read as "not done"
                    raise
                return False
        return True

    def mark_done(self, event_id: str, when: datetime, digest: str = "", resource_id: str = "") -> None:
        if resource_id and digest:
            self._change(resource_id, Changes(done={marker_key(event_id, digest): when.isoformat()}))
            return
        body = json.dumps({"eventId": event_id, "at": when.isoformat()}).encode()  # ASCII: any id
        with storage_errors(f"writing the done marker of event {event_id!a}"):
            self._container.get_blob_client(done_blob_name(event_id, digest)).upload_blob(
                body, overwrite=True, metadata={"handled_at": when.isoformat()}, content_settings=_JSON
            )

    def history(self, resource_id: str, now: datetime, window: timedelta) -> RemediationHistory:
        if resource_id.startswith("/"):
            times = self._doc(resource_id).attempts
        else:
            with storage_errors(f"reading the attempts on {resource_id}"):
                times, _ = self._read_attempts(self._container.get_blob_client(attempts_blob_name(resource_id)))
        in_window = [t for t in times if now - window <= t <= now]
        return RemediationHistory(attempts_in_window=len(in_window), last_attempt=max(in_window, default=None))

    def recent(self, key: str, now: datetime, window: timedelta) -> int:
        """The counter as this instance last read or wrote it (within MEMO_AGE), else read: advisory only."""
        with self._memo_lock:
            memo = self._memo.get(key)
        if memo is None or time.monotonic() - memo[2] > MEMO_AGE:
            with storage_errors(f"reading the attempts on {key}"):
                times, etag = self._read_attempts(self._container.get_blob_client(attempts_blob_name(key)))
            self._remember(key, times, etag)
        else:
            times = memo[0]
        return sum(1 for t in times if now - window <= t <= now)

    def record_attempt(self, resource_id: str, when: datetime) -> None:
        self._change(resource_id, Changes(attempts=[when]))

    def reserve(self, key: str, now: datetime, window: timedelta, cap: int) -> bool:
        """Append `now` to the counter's list (pruned to `window`) unless `cap` entries are already within it;
        read-modify-write under the blob's etag, starting from this instance's last copy when it has one."""
        blob = self._container.get_blob_client(attempts_blob_name(key))
        with self._memo_lock:
            memo = self._memo.get(key)
        with storage_errors(f"recording an attempt on {key}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                times, etag = (memo[0], memo[1]) if memo is not None else self._read_attempts(blob)
                recent = [t for t in times if now - t < window]
                if cap is not None and len(recent) >= cap and memo is not None:
                    memo = None  # never refuse on a copy: read the list itself first
                    continue
                if len(recent) >= cap:
                    self._remember(key, times, etag)
                    return False
                kept = sorted([*recent, now])
                try:
                    self._remember(key, kept, self._put(blob, json.dumps([t.isoformat() for t in kept]).encode(), etag))
                    return True
                except (ResourceExistsError, ResourceModifiedError):
                    # Another instance wrote first (409 on create, 412 on update): re-read and re-apply. If the
                    # SDK retried a write whose reply was lost, the attempt counts twice: the safe direction.
                    memo = None
                    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 (not crypto)
        raise TransientError(f"state store: gave up recording an attempt on {key} after {CONFLICT_ATTEMPTS} lost races")

    def _remember(self, key: str, times: list[datetime], etag: str | None) -> None:
        with self._memo_lock:
            self._memo[key] = (times, etag, time.monotonic())

    def _put(self, blob: BlobClient, data: bytes, etag: str | None) -> str:
        """Write under the etag it was read with (If-None-Match: * when there was none); the new etag."""
        if etag is None:
            result = blob.upload_blob(
                data, overwrite=True, match_condition=MatchConditions.IfMissing, content_settings=_JSON
            )
        else:
            result = blob.upload_blob(
                data, overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified, content_settings=_JSON
            )
        return str(result.get("etag"))

    def _put_named(self, name: str, data: bytes, etag: str | None) -> str:
        return self._put(self._container.get_blob_client(name), data, etag)

    def lock(self, resource_id: str) -> AbstractContextManager[None]:
        return self._open(resource_id, wait=True)

    def optimistic(self, resource_id: str) -> AbstractContextManager[None]:
        return self._open(resource_id, wait=False)

    def claim(self, resource_id: str) -> None:
        """In `optimistic`: take the lock with one write on the etag the state was read with; LockContendedError when
        another holder has it or the blob changed since (the caller judges again under `lock`)."""
        session = self._session(resource_id)
        if session is None or session.held:
            return  # inside `lock` (held), or outside any evaluation (nothing to guard)
        name = resource_blob_name(resource_id)
        claimed = self._locks.claim(name, session.doc, session.owner)
        if claimed is None:
            raise LockContendedError(f"state store: {resource_id} was locked or changed by another instance since read")
        session.doc, session.held = claimed, True

    @contextmanager
    def _open(self, resource_id: str, *, wait: bool) -> Iterator[None]:
        """An evaluation of the resource: its state read once (and its lock claimed, with `wait`), written once at
        the end with what changed; the lock, if held, released by that write, also when the work raised."""
        key, name, owner = normalize_id(resource_id), resource_blob_name(resource_id), new_owner()
        sessions: dict[str, _Session] = self._local.__dict__.setdefault("sessions", {})
        if key in sessions:
            raise RuntimeError(f"state store: {resource_id} is already open in this thread")
        doc = self._locks.acquire(resource_id, name, owner) if wait else self._read_doc(name)
        session = sessions[key] = _Session(doc, Changes(), owner, held=wait)
        try:
            yield
        finally:
            sessions.pop(key, None)
            if session.held:
                session.changes.release = owner
            # A failed final write leaves a held lock to expire by itself (lock_seconds): storage is down anyway.
            written = self._write(resource_id, session.doc, session.changes)
            if session.held:
                self._locks.check_released(resource_id, written, owner)

    def _doc(self, resource_id: str) -> ResourceDoc:
        """The resource's state: this thread's copy inside an evaluation, else read."""
        session = self._session(resource_id)
        if session is not None:
            return session.doc.with_changes(session.changes, None) if session.changes else session.doc
        return self._read_doc(resource_blob_name(resource_id))

    def _change(self, resource_id: str, changes: Changes) -> None:
        """Inside the resource's lock: kept for the one write at its end (pending steps are written at once, so a
        crash cannot lose them). Outside it: written now."""
        session = self._session(resource_id)
        if session is None:
            self._write(resource_id, None, changes)
            return
        kept = session.changes
        kept.attempts += changes.attempts
        kept.done |= changes.done
        if changes.pending is not None:
            kept.pending = changes.pending
            session.doc = self._write(resource_id, session.doc, kept) or session.doc
            session.changes = Changes()

    def _write(self, resource_id: str, doc: ResourceDoc | None, changes: Changes) -> ResourceDoc | None:
        """Apply `changes` to the blob (starting from `doc`, re-read when another writer got there first)."""
        if not changes:
            return doc
        name = resource_blob_name(resource_id)
        blob = self._container.get_blob_client(name)
        now = _latest(changes)
        with storage_errors(f"writing the state of {resource_id}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                base = doc if doc is not None else self._read_doc(name)
                new = base.with_changes(changes, now)
                try:
                    new.etag = self._put(blob, new.dump(), base.etag)
                    return new
                except (ResourceExistsError, ResourceModifiedError):
                    doc = None  # another writer (outside any lock: a test, a person) got there first
                    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 (not crypto)
        raise TransientError(f"state store: gave up writing the state of {resource_id} after {CONFLICT_ATTEMPTS} races")

    def _read_doc(self, name: str) -> ResourceDoc:
        with storage_errors(f"reading the state blob {name}"):
            try:
                download = self._container.get_blob_client(name).download_blob()
                data = download.readall()
            except ResourceNotFoundError as exc:
                if _code(exc) != "BlobNotFound":
                    raise
                return ResourceDoc(pending=self._legacy_pending(name))
        return ResourceDoc.parse(data, str(download.properties.etag), name)

    def _legacy_pending(self, name: str) -> list[dict[str, Json]]:
        """Pending steps an older version left in pending/<sha>.json (listed once per process: usually none);
        carried into the resource's state blob at its next write."""
        if self._legacy is None:
            self._legacy = {i.name for i in self._container.list_blobs(name_starts_with="pending/")}
        legacy = "pending/" + name.removeprefix("resources/")
        if legacy not in self._legacy:
            return []
        try:
            return pending_entries(self._container.get_blob_client(legacy).download_blob().readall(), legacy)
        except ResourceNotFoundError:
            return []

    def pending(self, resource_id: str) -> list[dict[str, Json]]:
        return list(self._doc(resource_id).pending)

    def set_pending(self, resource_id: str, entries: list[dict[str, Json]]) -> None:
        self._change(resource_id, Changes(pending=list(entries)))

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
        key = (group.lower(), normalize_id(member))
        known = self._linked.get(key)
        if known is not None and known[0] == value and time.monotonic() - known[1] < LINK_MEMO_AGE:
            return  # written by this instance lately: every evaluation of a CMK account notes it again
        with storage_errors(f"linking {member} under {group}"):
            blob.upload_blob(body, overwrite=True, content_settings=_JSON)
        self._linked[key] = (dict(value), time.monotonic())

    def unlink(self, group: str, member: str) -> None:
        blob = self._container.get_blob_client(link_blob_name(group, member))
        self._linked.pop((group.lower(), normalize_id(member)), None)
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


def _latest(changes: Changes) -> datetime | None:
    """The newest time among the changes: what is pruned is judged against it (the store has no clock)."""
    times = [*changes.attempts, *(datetime.fromisoformat(v) for v in changes.done.values())]
    return max(times, default=None)


def from_settings(
    account_url: str | None,
    connection_string: str | None,
    container: str,
    credential: TokenCredential | None = None,
    *,
    lock_seconds: float = LOCK_SECONDS,
    lock_timeout: float = 120,
) -> BlobStateStore:
    """A BlobStateStore from app settings: `account_url` with an Entra credential in Azure (no shared keys;
    DefaultAzureCredential when none is given), or `connection_string` for Azurite. Creates the container."""
    client = container_client(account_url, connection_string, container, credential, purpose="blob state store")
    with storage_errors(f"creating the state container {container}"), contextlib.suppress(ResourceExistsError):
        client.create_container()
    return BlobStateStore(client, lock_seconds=lock_seconds, lock_timeout=lock_timeout)

"""Remediation state: which events are done, earlier attempts per resource, and per-resource locks.

The planner stays pure: the pipeline reads history from here and hands it over. The local-folder store
serializes across threads and processes on one machine with flock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from warden.errors import TransientError
from warden.model import Json, RemediationHistory, ResourceEvent, normalize_id

log = logging.getLogger(__name__)


class LockContendedError(TransientError):
    """`claim` lost: another holder has the resource's lock, or its state changed since it was read. The caller
    judges again under `lock`, which waits (left uncaught, Event Grid redelivers)."""


class StateStore(Protocol):
    def is_done(self, event_id: str, digest: str = "", resource_id: str = "") -> bool:
        """Whether this event (id and content digest, `event_digest`) was already handled to the end, so a
        redelivery is a no-op; without a digest, whether any event with this id was. With the resource the event
        is about, the marker is looked up with that resource's state (read once under its lock)."""
        ...

    def mark_done(self, event_id: str, when: datetime, digest: str = "", resource_id: str = "") -> None:
        """Record that the event was handled; called only after its audit trail is complete. With a resource,
        under its lock, the marker goes out with the lock's one write of that resource's state."""
        ...

    def echo_seen(self, event_id: str, digest: str) -> bool:
        """Whether this process already saw this self-caused event (and remember it): memory only, no round trip.
        A duplicate delivered to another instance is traced once more, which is harmless (docs/state.md)."""
        ...

    def recent(self, key: str, now: datetime, window: timedelta) -> int:
        """Actions counted under `key` within `window`: an advisory count (the planner's), which may lag other
        instances by up to a minute; `reserve` is the atomic decision."""
        ...

    def history(self, resource_id: str, now: datetime, window: timedelta) -> RemediationHistory:
        """Enforced attempts on the resource within `window` before `now`, and the last one."""
        ...

    def record_attempt(self, resource_id: str, when: datetime) -> None:
        """Count one enforced action on the resource (before it is applied)."""
        ...

    def reserve(self, key: str, now: datetime, window: timedelta, cap: int) -> bool:
        """Atomically count one action under `key` unless `cap` were already counted within `window`
        (the tenant-wide cap: a check and a record that concurrent instances cannot interleave)."""
        ...

    def lock(self, resource_id: str) -> AbstractContextManager[None]:
        """Hold the resource exclusively: two events for one resource give one remediation."""
        ...

    def optimistic(self, resource_id: str) -> AbstractContextManager[None]:
        """An evaluation that may change nothing: the resource's state is read (once) without taking its lock;
        `claim` takes it before the first action. A store whose lock costs no round trip may take it here."""
        ...

    def claim(self, resource_id: str) -> None:
        """Before the first action on the resource: hold its lock. Nothing to do inside `lock`; inside
        `optimistic`, take it on the state as read, or raise LockContendedError (another holder has it, or the state
        changed since it was read: judge again under `lock`)."""
        ...

    def pending(self, resource_id: str) -> list[dict[str, Json]]:
        """The steps of the resource's remediations that stopped part-way (warden/pending.py); [] when none."""
        ...

    def set_pending(self, resource_id: str, entries: list[dict[str, Json]]) -> None:
        """Replace the resource's pending steps ([] clears them); called under the resource's lock."""
        ...

    def links(self, group: str) -> dict[str, dict[str, Json]]:
        """The members linked under `group` and what each link says (an index: docs/state.md "Links")."""
        ...

    def link(self, group: str, member: str, value: dict[str, Json]) -> None:
        """Link `member` under `group` (replacing its earlier link there); one small write, no read."""
        ...

    def unlink(self, group: str, member: str) -> None:
        """Remove a member's link from `group`; nothing happens when there is none."""
        ...


class EchoMemory:
    """The self-caused events this process saw lately (the newest `size`), keyed on id and content digest."""

    def __init__(self, size: int = 65536) -> None:
        self._size = size
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, event_id: str, digest: str) -> bool:
        with self._lock:
            if (event_id, digest) in self._seen:
                return True
            self._seen[(event_id, digest)] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return False


def pending_entries(data: str | bytes, where: str) -> list[dict[str, Json]]:
    """The stored pending steps of a resource, however the store keeps them; [] (with a warning) when they are
    unreadable: the sweep re-detects whatever drift is left."""
    try:
        entries = json.loads(data)
    except ValueError as exc:
        log.warning("state: %s is not JSON (%s); the sweep re-detects what is left", where, exc)
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def link_entry(data: str | bytes, where: str) -> tuple[str, dict[str, Json]] | None:
    """One stored link (member and value), however the store keeps it; None (with a warning) when unreadable:
    an index entry lost only means the sweep finds that account instead of the event."""
    try:
        entry = json.loads(data)
        member, value = entry["member"], entry["value"]
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("state: %s is not a link (%s); ignored", where, exc)
        return None
    return (member, value) if isinstance(member, str) and isinstance(value, dict) else None


def event_digest(event: ResourceEvent) -> str:
    """sha256 (hex) of what an event says, besides its id. A done marker is keyed on the id *and* this, so an
    Event Grid redelivery (the same payload) is a duplicate, but another event reusing a real event's id (a
    forged echo of warden's own change, say) is not, and cannot make the real one look handled."""
    said = {
        "type": event.event_type,
        "schema": event.schema.value,
        "resourceId": event.resource_id,
        "operation": event.operation_name,
        "subscription": event.subscription_id,
        "tenant": event.tenant_id,
        "correlation": event.correlation_id,
        "status": event.status,
        "caller": [event.caller.object_id, event.caller.app_id],
        "time": event.event_time.isoformat() if event.event_time else None,
        "details": dict(event.details),
    }
    # ASCII JSON: any str hashes, a lone surrogate included (it is escaped, never encoded).
    canonical = json.dumps(said, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def text_bytes(text: str) -> bytes:
    """`text` as UTF-8 for hashing into a name; a lone surrogate (hostile input) is kept as its own bytes
    instead of raising UnicodeEncodeError."""
    return text.encode("utf-8", "surrogatepass")


def _key(text: str) -> str:
    return hashlib.sha256(text_bytes(text)).hexdigest()[:32]


class LocalStateStore:
    """StateStore in a folder: done-markers as files, attempts as JSON lists, flock-ed lock files."""

    def __init__(self, folder: str | Path) -> None:
        self._root = Path(folder)
        for sub in ("done", "attempts", "locks", "pending", "links"):
            (self._root / sub).mkdir(parents=True, exist_ok=True)
        self._echoes = EchoMemory()

    def echo_seen(self, event_id: str, digest: str) -> bool:
        return self._echoes.seen(event_id, digest)

    def recent(self, key: str, now: datetime, window: timedelta) -> int:
        return self.history(key, now, window).attempts_in_window

    def is_done(self, event_id: str, digest: str = "", resource_id: str = "") -> bool:
        if digest:
            return self._marker(event_id, digest).exists()
        key = _key(event_id)
        return (self._root / "done" / key).exists() or any((self._root / "done").glob(f"{key}.*"))

    def mark_done(self, event_id: str, when: datetime, digest: str = "", resource_id: str = "") -> None:
        # One file per event whatever the resource (no round trip to save). ASCII JSON: a lone surrogate is escaped.
        self._marker(event_id, digest).write_text(json.dumps({"eventId": event_id, "at": when.isoformat()}))

    def _marker(self, event_id: str, digest: str) -> Path:
        """done/<key of the id>.<content digest> (done/<key> alone without a digest)."""
        name = _key(event_id) + (f".{_key(digest)}" if digest else "")
        return self._root / "done" / name

    def history(self, resource_id: str, now: datetime, window: timedelta) -> RemediationHistory:
        end = now.timestamp()
        times = [t for t in self._attempts(resource_id) if end - window.total_seconds() <= t <= end]
        last = datetime.fromtimestamp(max(times), UTC) if times else None
        return RemediationHistory(attempts_in_window=len(times), last_attempt=last)

    def record_attempt(self, resource_id: str, when: datetime) -> None:
        # Attempts older than a week can no longer matter to any window a baseline allows.
        self._add_attempt(resource_id, when, timedelta(days=7), cap=None)

    def reserve(self, key: str, now: datetime, window: timedelta, cap: int) -> bool:
        return self._add_attempt(key, now, window, cap=cap)

    def _add_attempt(self, resource_id: str, when: datetime, keep: timedelta, *, cap: int | None) -> bool:
        path = self._attempts_path(resource_id)
        with _flock(self._root / "locks" / f"{path.name}.attempts"):
            at = when.timestamp()
            times = [t for t in self._attempts(resource_id) if at - t < keep.total_seconds()]
            if cap is not None and len(times) >= cap:
                return False
            times.append(at)
            tmp = path.with_suffix(".tmp")
            # Epoch seconds, compared as numbers: a tenant's counter holds every action of the hour, and is read
            # on each evaluation with a finding and rewritten on each action.
            tmp.write_text(json.dumps(times))
            tmp.replace(path)
            return True

    def lock(self, resource_id: str) -> AbstractContextManager[None]:
        return _flock(self._root / "locks" / _key(normalize_id(resource_id)))

    def optimistic(self, resource_id: str) -> AbstractContextManager[None]:
        return self.lock(resource_id)  # a flock costs no round trip: held from the start

    def claim(self, resource_id: str) -> None:
        """Held since `optimistic` or `lock`."""

    def pending(self, resource_id: str) -> list[dict[str, Json]]:
        path = self._pending_path(resource_id)
        if not path.exists():
            return []
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.warning("state: unreadable pending file %s (%s); the sweep re-detects what is left", path, exc)
            return []
        return pending_entries(data, str(path))

    def set_pending(self, resource_id: str, entries: list[dict[str, Json]]) -> None:
        path = self._pending_path(resource_id)
        if not entries:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries))
        tmp.replace(path)

    def links(self, group: str) -> dict[str, dict[str, Json]]:
        folder = self._root / "links" / _key(group.lower())
        out: dict[str, dict[str, Json]] = {}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            entry = link_entry(path.read_bytes(), str(path))
            if entry is not None:
                out[entry[0]] = entry[1]
        return out

    def link(self, group: str, member: str, value: dict[str, Json]) -> None:
        path = self._link_path(group, member)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"member": member, "value": value}))
        tmp.replace(path)

    def unlink(self, group: str, member: str) -> None:
        self._link_path(group, member).unlink(missing_ok=True)

    def _link_path(self, group: str, member: str) -> Path:
        return self._root / "links" / _key(group.lower()) / f"{_key(normalize_id(member))}.json"

    def _pending_path(self, resource_id: str) -> Path:
        return self._root / "pending" / f"{_key(normalize_id(resource_id))}.json"

    def _attempts_path(self, resource_id: str) -> Path:
        return self._root / "attempts" / f"{_key(normalize_id(resource_id))}.json"

    def _attempts(self, resource_id: str) -> list[float]:
        path = self._attempts_path(resource_id)
        if not path.exists():
            return []
        try:
            return [_instant(t) for t in json.loads(path.read_text())]
        except (ValueError, TypeError) as exc:
            # A damaged file must not stop every remediation (the tenant counter is shared by all): start
            # the count afresh, loudly.
            log.warning("state: unreadable attempts file %s (%s); counting from zero", path, exc)
            return []


def _instant(value: object) -> float:
    """A stored attempt as epoch seconds: as written now, or from the ISO text earlier versions wrote."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    raise TypeError(f"not an instant: {value!r}")


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    # A fresh descriptor per holder, so threads of one process exclude each other as processes do.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

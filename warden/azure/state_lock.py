"""Per-resource locks as a field of the resource's own state blob (resources/<sha>.json): taken by one write
conditional on the etag just read, released by the write that ends the work, taken over once it expired
(docs/state.md "Locks").
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

from warden.azure.errors import classified_errors
from warden.azure.state_doc import Holder, ResourceDoc
from warden.errors import TransientError

log = logging.getLogger(__name__)

#: How long a lock holds without its holder: longer than any function invocation (host.json functionTimeout,
#: 10 minutes, after which the host ends the invocation) plus a margin for clock skew between instances, so a
#: live holder never outlives its lock; a crashed holder's lock is taken over this long after it was taken.
LOCK_SECONDS = 900
FIRST_BACKOFF, MAX_BACKOFF = 0.05, 1.0  # seconds between tries for a lock another holder has

#: Reads a state blob by name (a ResourceDoc with etag None when there is none).
Read = Callable[[str], ResourceDoc]
#: Writes a state blob under the etag it was read with (If-None-Match: * for None); the new etag. Raises the
#: SDK's ResourceModifiedError (412) or ResourceExistsError (409 on create) when another writer got there first.
Put = Callable[[str, bytes, str | None], str]


def new_owner() -> str:
    """A token for one holding of a lock: only that holding's final write releases it."""
    return uuid.uuid4().hex


def _now() -> datetime:
    # The wall clock, never the runtime's (a test or replay clock): lock times are compared across instances.
    return datetime.now(UTC)


class Locks:
    """Takes a resource's lock in its state blob, waiting for another holder up to `timeout` seconds."""

    def __init__(self, read: Read, put: Put, seconds: float, timeout: float) -> None:
        self._read = read
        self._put = put
        self.seconds = seconds
        self._timeout = timeout

    def claim(self, name: str, doc: ResourceDoc, owner: str) -> ResourceDoc | None:
        """One write of `doc` with the lock taken, conditional on the etag `doc` was read with; None when another
        holder has the lock, or the blob changed since it was read (another instance claimed or wrote)."""
        now = _now()
        if doc.held_by_other(owner, now):
            return None
        if doc.lock is not None and doc.lock.owner != owner:
            log.warning("state: taking over the expired lock of %s (its holder stopped)", name)
        mine = doc.with_lock(Holder(owner, now + timedelta(seconds=self.seconds)))
        with classified_errors(f"state store: locking {name}"):
            try:
                mine.etag = self._put(name, mine.dump(), doc.etag)
            except (ResourceModifiedError, ResourceExistsError):
                # Another writer got there first, unless the SDK retried our own write whose answer was lost.
                current = self._read(name)
                return current if current.lock is not None and current.lock.owner == owner else None
        return mine

    def acquire(self, resource_id: str, name: str, owner: str) -> ResourceDoc:
        """Read the state and claim the lock on it, again after a jittered, doubling backoff while another holder
        has it; TransientError after `timeout` (Event Grid redelivers)."""
        deadline = time.monotonic() + self._timeout
        delay = FIRST_BACKOFF
        while True:
            held = self.claim(name, self._read(name), owner)
            if held is not None:
                return held
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransientError(
                    f"state store: {resource_id} stayed locked by another holder for {self._timeout:g} s "
                    f"(a crashed holder's lock is taken over {self.seconds:g} s after it was taken)",
                    status=409,
                    code="LockHeld",
                )
            time.sleep(min(remaining, random.uniform(delay / 2, delay)))  # noqa: S311 (not crypto)
            delay = min(delay * 2, MAX_BACKOFF)

    def check_released(self, resource_id: str, written: ResourceDoc | None, owner: str) -> None:
        """After the final write: a lock left in the blob under another owner was taken over from us (we held it
        past its expiry); the exclusion was gone from then on."""
        if written is not None and written.lock is not None and written.lock.owner != owner:
            log.error("state: lost the lock on %s (it expired and another holder took it)", resource_id)

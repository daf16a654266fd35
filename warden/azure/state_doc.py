"""One resource's state as one blob (resources/<sha>.json): its attempts, its pending steps, the done markers of
the events about it and its lock, read once per evaluation and written once, with what changed, under an etag
condition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from warden.errors import AzureError
from warden.model import Json

RETENTION = timedelta(days=7)  # attempts older than this can no longer matter to any attempt window
#: Event Grid retries an event for at most 24 hours: a done marker older than two days can no longer be asked for.
DONE_RETENTION = timedelta(days=2)
#: Markers kept per resource at most (the newest): a redelivery of an older one is evaluated again (idempotent).
MAX_DONE = 500


@dataclass(frozen=True)
class Holder:
    """Who holds the resource's lock (a token per holding) and until when (wall clock, UTC)."""

    owner: str
    until: datetime


@dataclass
class Changes:
    """What an evaluation changed in a resource's state, applied to the newest copy when written."""

    attempts: list[datetime] = field(default_factory=list)
    pending: list[dict[str, Json]] | None = None  # None: unchanged
    done: dict[str, str] = field(default_factory=dict)  # marker key -> handled at (ISO)
    release: str = ""  # the holder whose lock this write ends ("": the lock is left as it is)

    def __bool__(self) -> bool:
        return bool(self.attempts or self.done or self.release) or self.pending is not None


@dataclass
class ResourceDoc:
    """The stored state of one resource and the etag it was read with (None: there is no blob yet)."""

    attempts: list[datetime] = field(default_factory=list)
    pending: list[dict[str, Json]] = field(default_factory=list)
    done: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    lock: Holder | None = None

    @classmethod
    def parse(cls, data: bytes, etag: str | None, where: str) -> ResourceDoc:
        try:
            raw = json.loads(data)
            attempts = [datetime.fromisoformat(t) for t in raw.get("attempts", [])]
            pending = [e for e in raw.get("pending", []) if isinstance(e, dict)]
            done = {str(k): str(v) for k, v in dict(raw.get("done", {})).items()}
            held = raw.get("lock")
            lock = Holder(str(held["owner"]), datetime.fromisoformat(held["until"])) if held else None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            what = f"state store: {where} is not a resource state; fix or delete it"
            raise AzureError(what, code="InvalidState") from exc
        return cls(attempts, pending, done, etag, lock)

    def held_by_other(self, owner: str, now: datetime) -> bool:
        """Whether someone else holds the lock now (an expired lock is nobody's: its holder crashed)."""
        return self.lock is not None and self.lock.owner != owner and self.lock.until > now

    def with_lock(self, holder: Holder) -> ResourceDoc:
        return replace(self, lock=holder)

    def with_changes(self, changes: Changes, now: datetime | None) -> ResourceDoc:
        """A copy with `changes` applied and, given `now`, what no longer matters pruned (old attempts, old or
        surplus markers). The lock is cleared only by its own holder's release."""
        attempts = sorted(t for t in [*self.attempts, *changes.attempts] if now is None or now - t < RETENTION)
        done = {k: v for k, v in {**self.done, **changes.done}.items() if now is None or _fresh(v, now)}
        if len(done) > MAX_DONE:
            done = dict(sorted(done.items(), key=lambda kv: kv[1])[-MAX_DONE:])
        pending = self.pending if changes.pending is None else changes.pending
        released = changes.release and self.lock is not None and self.lock.owner == changes.release
        return ResourceDoc(attempts, list(pending), done, self.etag, None if released else self.lock)

    def dump(self) -> bytes:
        body: dict[str, Json] = {
            "attempts": [t.isoformat() for t in self.attempts],
            "pending": self.pending,
            "done": self.done,
        }
        if self.lock is not None:
            body["lock"] = {"owner": self.lock.owner, "until": self.lock.until.isoformat()}
        return json.dumps(body).encode()  # ASCII JSON: any marker key or step text


def _fresh(handled_at: str, now: datetime) -> bool:
    try:
        return now - datetime.fromisoformat(handled_at) < DONE_RETENTION
    except (ValueError, TypeError):
        return False

"""The compliance posture from the audit log (docs/report.md): the latest record per resource and control in a
window of days, counted by status per control, per subscription and per UTC day (the trend). build_posture is pure;
read_posture reads the window through the AuditLog port, for `warden report` and GET /api/report alike.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from warden.audit import AuditLog, format_time, parse_time
from warden.ids import ascii_lower, normalize_id, subscription_of
from warden.model import Json, Outcome, RecordKind


class Status(enum.StrEnum):
    """Where a resource stands for one control; this order is the display order."""

    COMPLIANT = "compliant"
    REMEDIATED = "remediated"
    WOULD_REMEDIATE = "would-remediate"
    EXEMPT = "exempt"
    NEEDS_HUMAN = "needs-human"
    FAILED = "failed"


#: The status of each stored outcome; None: not counted (the resource is gone or the control off: the key is
#: dropped). Outcomes missing here (rejected, ignored) belong to events, never to posture.
STATUS_OF: Mapping[str, Status | None] = {
    Outcome.COMPLIANT: Status.COMPLIANT,
    Outcome.REMEDIATED: Status.REMEDIATED,
    Outcome.WOULD_REMEDIATE: Status.WOULD_REMEDIATE,
    Outcome.EXEMPTED: Status.EXEMPT,
    Outcome.NEEDS_HUMAN: Status.NEEDS_HUMAN,  # no automatic fix: a person must act
    Outcome.BLOCKED: Status.NEEDS_HUMAN,  # a limit stopped the fix: a person decides whether it runs
    Outcome.NOT_VERIFIED: Status.NEEDS_HUMAN,  # applied, but the re-read still shows drift: a person looks
    Outcome.FAILED: Status.FAILED,
    Outcome.PARTIAL: Status.FAILED,
    Outcome.SKIPPED: None,
    Outcome.RESOURCE_GONE: None,
}
#: The window of `warden report` and GET /api/report when none is given, in days.
DEFAULT_DAYS = 7
#: An intent whose result never came (the process died, or it is still running at `now`).
NO_RESULT = "no result recorded"
# The planner's exempt reason: "exempt until <when> (owner <owner>): <reason>" (warden/planner.py).
_EXEMPT = re.compile(r"exempt until (?P<until>.+?) \(owner ")
_STAMP_LENGTH = len("2024-05-01T10:00:00.000000Z")

_Key = tuple[str, str]  # (normalized resource id, lower-case control id)
_Latest = tuple[str, int, Status | None, Mapping[str, Json]]  # (time, position, status, entry)


@dataclass(frozen=True)
class Item:
    """One resource and control, as its latest record in the window leaves it."""

    resource_id: str
    control_id: str
    subscription_id: str
    status: Status
    outcome: str  # as stored; "" for an intent with no result
    time: str
    reason: str
    expires: str | None  # an exemption's expiry, as the planner wrote it
    seq: int | None


@dataclass(frozen=True)
class DayCounts:
    """The counts by status of the latest record per key as of the end of one UTC day."""

    day: date
    counts: Mapping[Status, int]


@dataclass(frozen=True)
class Posture:
    """The posture over [since, generated]: items, their counts, and the trend (one DayCounts per UTC day)."""

    generated: datetime
    since: datetime
    days: int
    items: tuple[Item, ...]
    totals: Mapping[Status, int]
    by_control: Mapping[str, Mapping[Status, int]]
    by_subscription: Mapping[str, Mapping[Status, int]]
    trend: tuple[DayCounts, ...]
    entries_read: int
    unreadable: int = 0  # entries skipped as unreadable (`warden verify` says where)


def zero_counts() -> dict[Status, int]:
    return dict.fromkeys(Status, 0)


def exempt_until(reason: str) -> str | None:
    """The expiry in a planner's exempt reason, as written there (an ISO time, or a date and "(end of day UTC)")."""
    match = _EXEMPT.match(reason)
    return match["until"] if match else None


def _stamp(value: Json) -> str | None:
    """The time as format_time writes it (compares as text); None when it is no time."""
    if isinstance(value, str) and len(value) == _STAMP_LENGTH and value.endswith("Z") and value[10:11] == "T":
        return value
    try:
        return format_time(parse_time(str(value))) if isinstance(value, str) else None
    except ValueError:
        return None


class _Days:
    """The latest record per key, and per resource the latest resource-level drop, bucketed by UTC day."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[_Key, _Latest]] = {}
        self.drops: dict[str, dict[str, tuple[str, int]]] = {}

    def drop(self, resource: str, stamp: str, position: int) -> None:
        bucket = self.drops.setdefault(stamp[:10], {})
        if bucket.get(resource, ("", -1)) < (stamp, position):
            bucket[resource] = (stamp, position)


class _Running:
    """The posture as of the end of each day applied so far: the latest per key and the counts they make."""

    def __init__(self) -> None:
        self.latest: dict[_Key, _Latest] = {}
        self.dropped: dict[str, tuple[str, int]] = {}
        self.keys_of: dict[str, set[_Key]] = {}
        self.counted: dict[_Key, Status] = {}
        self.counts = zero_counts()

    def apply(self, keys: Mapping[_Key, _Latest], drops: Mapping[str, tuple[str, int]]) -> None:
        """Apply one day's latest records and drops (days in order: a later day's record is always newer)."""
        latest, keys_of, dropped, counted, counts = self.latest, self.keys_of, self.dropped, self.counted, self.counts
        dirty: list[_Key] = list(keys)
        for key in dirty:
            if key not in latest:
                keys_of.setdefault(key[0], set()).add(key)
        latest.update(keys)
        for resource, mark in drops.items():
            dropped[resource] = max(mark, dropped.get(resource, ("", -1)))
            dirty.extend(keys_of.get(resource, ()))
        for key in dirty:
            stamp, position, status, _ = latest[key]
            gone = dropped.get(key[0])
            if gone is not None and gone > (stamp, position):
                status = None
            before = counted.get(key)
            if before is status:
                continue
            if before is not None:
                counts[before] -= 1
                del counted[key]
            if status is not None:
                counted[key] = status
                counts[status] += 1


def _item(latest: _Latest, status: Status, subscription: str) -> Item:
    stamp, _, _, entry = latest
    resource_id, outcome = str(entry.get("resourceId") or ""), str(entry.get("outcome") or "")
    reason, error = str(entry.get("reason") or ""), str(entry.get("error") or "")
    if not outcome:
        reason = f"{NO_RESULT} ({reason})" if reason else NO_RESULT
    elif error:
        reason = f"{reason}; error: {error}" if reason else f"error: {error}"
    seq = entry.get("seq")
    return Item(
        resource_id=resource_id,
        control_id=str(entry.get("controlId") or ""),
        subscription_id=subscription,
        status=status,
        outcome=outcome,
        time=stamp,
        reason=reason,
        expires=exempt_until(reason) if status is Status.EXEMPT else None,
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
    )


def _read(entries: Iterable[Mapping[str, Json]], since: datetime, now: datetime) -> tuple[_Days, int, int]:
    """One pass: (the day buckets, entries read, unreadable entries). Kept lean: it runs once per entry."""
    first, last = format_time(since), format_time(now)
    days, read, unreadable = _Days(), 0, 0
    buckets = days.keys
    normal: dict[str, str] = {}  # resource id -> its normal form (ids repeat across many entries)
    lowered: dict[str, str] = {}  # control id -> lower case
    for position, entry in enumerate(entries):
        read += 1
        if type(entry) is not dict and getattr(entry, "problem", None):  # an Entry read from a broken line
            unreadable += 1
            continue
        control, outcome, resource = entry.get("controlId"), entry.get("outcome") or "", entry.get("resourceId")
        if not isinstance(resource, str) or not resource or not isinstance(outcome, str):
            continue
        if outcome in STATUS_OF:
            status = STATUS_OF[outcome]
        elif not outcome and entry.get("kind") == RecordKind.INTENT:
            status = Status.FAILED
        else:
            continue  # an event's outcome (rejected, ignored), or no outcome: not posture
        # A resource-level record that says the resource is gone (or not judged at all) drops all its keys.
        resource_drop = not control and status is None and entry.get("kind") == RecordKind.EVALUATION
        if not (resource_drop or (control and isinstance(control, str))):
            continue
        stamp = _stamp(entry.get("time"))
        if stamp is None:
            unreadable += 1
            continue
        if not first <= stamp <= last:
            continue
        norm = normal.get(resource) or normal.setdefault(resource, normalize_id(resource))
        if resource_drop:
            days.drop(norm, stamp, position)
        else:
            name = lowered.get(str(control)) or lowered.setdefault(str(control), ascii_lower(str(control)))
            key, bucket = (norm, name), buckets.get(stamp[:10])
            if bucket is None:
                bucket = buckets[stamp[:10]] = {}
            old = bucket.get(key)
            if old is None or stamp >= old[0]:  # a later position wins a tie: entries come in order
                bucket[key] = (stamp, position, status, entry)
    return days, read, unreadable


def build_posture(
    entries: Iterable[Mapping[str, Json]], *, now: datetime, days: int, since: datetime | None = None
) -> Posture:
    """The posture of the entries in [now - days, now], or [since, now] when `since` is given (`--since 24h`; `days`
    is then the UTC days it spans), entries outside read and left out: the latest record per (resource id, control
    id), ids compared case-insensitively. `now` (and `since`) must be timezone-aware."""
    if now.tzinfo is None or now.utcoffset() is None or (since is not None and since.utcoffset() is None):
        raise ValueError("build_posture() needs a timezone-aware `now` and `since`")
    now = now.astimezone(UTC)
    if since is not None:
        since = since.astimezone(UTC)
        if since >= now:
            raise ValueError(f"the window must start before now, got {format_time(since)}")
        days = math.ceil((now - since) / timedelta(days=1))
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    since = since or now - timedelta(days=days)
    buckets, read, unreadable = _read(entries, since, now)
    running, trend = _Running(), []
    day = since.date()
    while day <= now.date():
        text = day.isoformat()
        running.apply(buckets.keys.get(text, {}), buckets.drops.get(text, {}))
        trend.append(DayCounts(day, dict(running.counts)))
        day += timedelta(days=1)
    items: list[Item] = []
    by_control: dict[str, dict[Status, int]] = {}
    by_subscription: dict[str, dict[Status, int]] = {}
    subscriptions: dict[str, str] = {}  # normal resource id -> its subscription (normal ids are lower case)
    for key in sorted(running.counted):
        status, (resource, control) = running.counted[key], key
        sub = subscriptions.get(resource)
        if sub is None:
            sub = subscriptions[resource] = subscription_of(resource)
        items.append(_item(running.latest[key], status, sub))
        for group, name in ((by_control, control), (by_subscription, sub)):
            if name not in group:
                group[name] = zero_counts()
            group[name][status] += 1
    return Posture(
        generated=now,
        since=since,
        days=days,
        items=tuple(items),
        totals=dict(running.counts),
        by_control=dict(sorted(by_control.items())),
        by_subscription=dict(sorted(by_subscription.items())),
        trend=tuple(trend),
        entries_read=read,
        unreadable=unreadable,
    )


def read_posture(audit: AuditLog, *, now: datetime, days: int, since: datetime | None = None) -> Posture:
    """The posture of the last `days` days of `audit` (from `since` when given): only the day files/blobs that can
    hold them are read."""
    start = since or now - timedelta(days=days)
    return build_posture(audit.entries(since=start), now=now, days=days, since=since)


def needs_human(p: Posture) -> tuple[Item, ...]:
    """The items a person must look at (needs-human and failed), newest first."""
    wanted = (Status.NEEDS_HUMAN, Status.FAILED)
    return tuple(sorted((i for i in p.items if i.status in wanted), key=lambda i: (i.time, i.seq or 0), reverse=True))


def exemptions(p: Posture) -> tuple[Item, ...]:
    """The exempt items, the soonest expiry first (as written: ISO times and dates sort together)."""
    return tuple(sorted((i for i in p.items if i.status is Status.EXEMPT), key=lambda i: (i.expires or "", i.time)))

"""The audit blobs' layout: their names and chain order, listing (all, or from a day on), tails, the
rollover markers that close a blob (what a valid one is, for writers and for verify), and the one blob a new
log starts in.

The writer is warden/azure/audit_blob.py; the layout is described in docs/audit.md ("Azure Blob Storage").
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobPrefix, ContainerClient

from warden.audit import tail_entry
from warden.model import Json

log = logging.getLogger(__name__)

PREFIX = "audit/"
TAIL_BYTES = 16 * 1024
_NAME = re.compile(r"audit/(\d{4})/(\d{2})/(\d{2})(?:-([1-9]\d*))?\.jsonl")

#: (chain order key, name, size) of an audit blob
Listed = tuple[tuple[date, int], str, int]


def blob_name(day: date, part: int = 0) -> str:
    """audit/YYYY/MM/DD.jsonl, or DD-<part>.jsonl for the blobs that continue a full one."""
    return f"audit/{day:%Y/%m/%d}{f'-{part}' if part else ''}.jsonl"


def blob_key(name: str) -> tuple[date, int] | None:
    """The chain order of a blob name, None for other blobs (names do not sort as text: DD-1 < DD)."""
    match = _NAME.fullmatch(name)
    try:
        return None if match is None else (date(*map(int, match.group(1, 2, 3))), int(match[4] or 0))
    except ValueError:
        return None


def utc_day(value: datetime) -> date:
    """The UTC day of a time (naive means UTC)."""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).date()


def error_code(exc: HttpResponseError) -> str:
    """The storage error code ("AppendPositionConditionNotMet"...); the SDK sets it, at times as an enum."""
    code = getattr(exc, "error_code", None) or ""
    return str(code.value if isinstance(code, Enum) else code)


def rollover_target(entry: Mapping[str, Json]) -> str:
    """The blob a rollover marker names as the next one (`change.blob.after`), "" if it names none."""
    change = entry.get("change")
    blob = change.get("blob") if isinstance(change, dict) else None
    after = blob.get("after") if isinstance(blob, dict) else None
    return after if isinstance(after, str) else ""


class Rollover:
    """verify's checks of a rollover marker read at `where` ("<blob> line N"): it must name an audit blob that
    sorts after its own, and the next entry must be line 1 of that blob (none may follow it in its own)."""

    def __init__(self, entry: Mapping[str, Json], where: str, at: str) -> None:
        self.named, self.at = rollover_target(entry), at
        self.blob = where.partition(" line ")[0] if " line " in where else None  # None: not read from a blob

    def problems(self) -> list[str]:
        named, here = blob_key(self.named), blob_key(self.blob or "")
        if named is None or (here is not None and named <= here):
            return [f"{self.at}: rollover: names {self.named!r}, not an audit blob after its own"]
        return []

    def next_entry(self, where: str) -> list[str]:
        if self.blob is None or where == f"{self.named} line 1":
            return []
        if where.partition(" line ")[0] == self.blob:
            return [f"{self.at}: rollover: entries follow it in its own blob ({where})"]
        return [f"{self.at}: rollover: the next entry ({where}) is not line 1 of {self.named!r}"]


def marker_next(entry: Mapping[str, Json], blob: str) -> str | None:
    """The blob a rollover marker at the end of `blob` sends writers to: only one sorting after `blob`. Any
    other marker (forged, say, naming an older blob) is ignored with a WARNING, and the chain goes on here:
    following it would send every writer to a position that never matches, and stop all audit writes."""
    target = rollover_target(entry)
    after, here = blob_key(target), blob_key(blob)
    if after is not None and here is not None and after > here:
        return target
    log.warning(
        "audit: ignoring the rollover marker (seq %s) at the end of %s: it names %r, not a later audit blob; "
        "the chain goes on in %s (run `python -m warden verify`)",
        entry.get("seq"),
        blob,
        target,
        blob,
    )
    return None


def list_audit_blobs(container: ContainerClient, prefix: str = PREFIX) -> list[Listed]:
    """The audit blobs under `prefix` as (chain order key, name, size), in chain order."""
    found = []
    for props in container.list_blobs(name_starts_with=prefix):
        key = blob_key(props.name)
        if key is None:
            log.warning("audit: ignoring blob %s (not an audit blob name)", props.name)
        else:
            found.append((key, props.name, props.size))
    return sorted(found)


def _folders(container: ContainerClient, prefix: str) -> list[str]:
    """The virtual folders directly under `prefix` (audit/YYYY/ or audit/YYYY/MM/), sorted."""
    items = container.walk_blobs(name_starts_with=prefix, delimiter="/")
    return sorted(item.name for item in items if isinstance(item, BlobPrefix))


def blobs_since(container: ContainerClient, day: date) -> list[Listed]:
    """The blobs of `day` and later, plus the last blob before them, listing only the month folders from
    `day`'s month on (and, if that month has no earlier blob, the newest earlier month holding one).

    The blob before is needed: it stays open into `day` until a writer closes it, so it holds `day`'s
    rollover marker and any batch of `day` written by a writer that raced the closer."""
    start, month = (day, 0), f"{PREFIX}{day:%Y/%m}/"
    year = month[: len(PREFIX) + 5]  # audit/YYYY/: fixed width, so folders compare as text
    years = _folders(container, PREFIX)
    months = [m for y in years if y >= year for m in _folders(container, y)]
    listed = [b for m in months if m >= month for b in list_audit_blobs(container, m)]
    before = [b for b in listed if b[0] < start]
    if not before:  # the newest earlier month that holds an audit blob (older ones are never listed)
        older = (m for y in reversed(years) if y < year for m in reversed(_folders(container, y)))
        for folder in itertools.chain(reversed([m for m in months if m < month]), older):
            before = list_audit_blobs(container, folder)
            if before:
                break
    return before[-1:] + [b for b in listed if b[0] >= start]


def read_tail(container: ContainerClient, name: str, size: int) -> tuple[dict[str, Json] | None, bool]:
    """The last complete entry among the first `size` bytes of a blob (None if none), and whether those bytes
    end a line (an empty blob does; foreign bytes or a cut write may not)."""
    if size == 0:
        return None, True
    start = max(0, size - TAIL_BYTES)
    tail = bytes(container.download_blob(name, offset=start, length=size - start).readall())
    last = tail_entry(tail)
    if last is None and start > 0:  # one entry longer than the tail
        last = tail_entry(container.download_blob(name, offset=0, length=size).readall())
    return last, tail.endswith(b"\n")


#: Names the blob a new log starts in; outside PREFIX, so listings never see it. Written once, never changed.
START_BLOB = "audit.start"


def chain_start(container: ContainerClient, wanted: str) -> str:
    """The blob a new (empty) log starts in, the same for every writer: the first to create START_BLOB names
    `wanted`, and the others take the name it holds. Without it, writers whose first batches fall on different
    days would each start a chain at seq 1 in their own day's blob (docs/audit.md, "Azure Blob Storage")."""
    marker = container.get_blob_client(START_BLOB)
    try:
        marker.upload_blob(wanted.encode("ascii"), overwrite=False)  # If-None-Match: *, so one writer wins
        return wanted
    except ResourceExistsError:
        named = bytes(marker.download_blob().readall()).decode("ascii", "replace").strip()
    if blob_key(named) is None:  # garbled or forged: it must not stop every write, and verify shows a fork
        log.warning("audit: %s names %r, not an audit blob; the log starts in %s", START_BLOB, named[:100], wanted)
        return wanted
    return named

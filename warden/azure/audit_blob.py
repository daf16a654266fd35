"""The audit log in Azure Blob Storage: append blobs audit/YYYY/MM/DD.jsonl (DD-1.jsonl… past the block
limit), one append_block per batch, one hash chain across instances through append-position conditions.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as SdkError
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobPrefix, ContainerClient

from warden.audit import GENESIS_HASH, batch_day, chain, entry_head, parse_lines, tail_entry
from warden.azure.clients import container_client
from warden.errors import AuditWriteError, AzureError
from warden.model import AuditRecord, Json, RecordKind

log = logging.getLogger(__name__)

PREFIX = "audit/"
BLOCK_LIMIT = 50_000  # the service refuses appends to an append blob past this many blocks
ROLLOVER_BLOCKS = 49_000  # close a blob well before the limit: racing writers still need room for a marker
MAX_APPEND_BYTES = 4 * 1024 * 1024  # append_block's size limit on older service versions (newer: 100 MiB)
TAIL_BYTES = 16 * 1024
CONFLICT_ATTEMPTS = 20
ROLLOVER_KIND = RecordKind.ROLLOVER
_NAME = re.compile(r"audit/(\d{4})/(\d{2})/(\d{2})(?:-([1-9]\d*))?\.jsonl")
# Lost races: another writer appended first, or the blob was closed, filled or not created yet.
_RACE_CODES = frozenset({"AppendPositionConditionNotMet", "BlockCountExceedsLimit", "BlobNotFound"})


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


def _utc_day(value: datetime) -> date:
    """The UTC day of a time (naive means UTC)."""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).date()


def _code(exc: HttpResponseError) -> str:
    """The storage error code ("AppendPositionConditionNotMet"...); the SDK sets it, at times as an enum."""
    code = getattr(exc, "error_code", None) or ""
    return str(code.value if isinstance(code, Enum) else code)


@dataclass(frozen=True)
class _Head:
    """The newest blob (where appends go) and the chain head (in an older blob if the newest is empty)."""

    blob: str | None
    size: int = 0
    blocks: int = 0
    seq: int = 0
    hash: str = GENESIS_HASH
    next: str | None = None  # the newest blob ends with a rollover marker: the log continues in this blob


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


def _marker_next(entry: Mapping[str, Json], blob: str) -> str | None:
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


class BlobAuditLog:
    """AuditLog on append blobs. Writers race through `appendpos_condition` (412 → re-read the head, re-chain,
    retry); a blob is closed by appending a `rollover` marker entry naming the next blob, so every writer
    agrees where the chain continues using appends only (which an immutability policy still allows).
    """

    def __init__(self, container_client: ContainerClient, *, rollover_blocks: int = ROLLOVER_BLOCKS) -> None:
        self._container = container_client
        self._rollover_blocks = rollover_blocks
        self._lock = threading.Lock()  # one writer per instance; instances race through append positions
        self._head: _Head | None = None  # known after our own append; dropped on any lost race
        self._seen_seq = 0  # the log never legitimately ends below the highest seq this instance saw

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    def is_immutable(self) -> bool | None:
        """Whether the container has a time-based retention policy or legal hold (None: cannot tell).
        Without one, whoever can write can delete the newest blob, and the hash chain alone cannot show it."""
        try:
            props = self._container.get_container_properties()
        except SdkError as exc:
            log.warning("audit: cannot read the audit container's properties: %s", exc)
            return None
        return bool(props.has_immutability_policy or props.has_legal_hold)

    def _blobs(self, prefix: str = PREFIX) -> list[tuple[tuple[date, int], str, int]]:
        """The audit blobs under `prefix` as (chain order key, name, size), in chain order."""
        found = []
        for props in self._container.list_blobs(name_starts_with=prefix):
            key = blob_key(props.name)
            if key is None:
                log.warning("audit: ignoring blob %s (not an audit blob name)", props.name)
            else:
                found.append((key, props.name, props.size))
        return sorted(found)

    def _folders(self, prefix: str) -> list[str]:
        """The virtual folders directly under `prefix` (audit/YYYY/ or audit/YYYY/MM/), sorted."""
        items = self._container.walk_blobs(name_starts_with=prefix, delimiter="/")
        return sorted(item.name for item in items if isinstance(item, BlobPrefix))

    def _blobs_since(self, day: date) -> list[tuple[tuple[date, int], str, int]]:
        """The blobs of `day` and later, plus the last blob before them, listing only the month folders from
        `day`'s month on (and, if that month has no earlier blob, the newest earlier month holding one).

        The blob before is needed: it stays open into `day` until a writer closes it, so it holds `day`'s
        rollover marker and any batch of `day` written by a writer that raced the closer."""
        start, month = (day, 0), f"{PREFIX}{day:%Y/%m}/"
        year = month[: len(PREFIX) + 5]  # audit/YYYY/: fixed width, so folders compare as text
        years = self._folders(PREFIX)
        months = [m for y in years if y >= year for m in self._folders(y)]
        listed = [b for m in months if m >= month for b in self._blobs(m)]
        before = [b for b in listed if b[0] < start]
        if not before:  # the newest earlier month that holds an audit blob (older ones are never listed)
            older = (m for y in reversed(years) if y < year for m in reversed(self._folders(y)))
            for folder in itertools.chain(reversed([m for m in months if m < month]), older):
                before = self._blobs(folder)
                if before:
                    break
        return before[-1:] + [b for b in listed if b[0] >= start]

    def _tail(self, name: str, size: int) -> dict[str, Json] | None:
        if size == 0:
            return None
        start = max(0, size - TAIL_BYTES)
        last = tail_entry(self._container.download_blob(name, offset=start, length=size - start).readall())
        if last is None and start > 0:  # one entry longer than the tail
            last = tail_entry(self._container.download_blob(name, offset=0, length=size).readall())
        return last

    def _read_head(self) -> _Head:
        blobs = self._blobs()
        if not blobs:
            head = _Head(None)
        else:
            newest = blobs[-1][1]
            props = self._container.get_blob_client(newest).get_blob_properties()
            head = _Head(newest, props.size, props.append_blob_committed_block_count or 0)
            for _, name, size in reversed(blobs):
                last = self._tail(name, props.size if name == newest else size)
                if last is not None:
                    marker = name == newest and last.get("kind") == ROLLOVER_KIND
                    head = _Head(
                        newest,
                        head.size,
                        head.blocks,
                        *entry_head(last),
                        _marker_next(last, name) if marker else None,
                    )
                    break
        if head.seq < self._seen_seq:
            # Chaining on would hide the loss (a removed blob or tail); an admin must look first.
            raise AuditWriteError(
                f"audit log in container {self.container_name} ends at seq {head.seq} but seq "
                f"{self._seen_seq} was written: entries were removed; run `python -m warden verify`"
            )
        return head

    def _plan(self, head: _Head, day: date) -> tuple[str, str | None]:
        """The blob to append to, and the blob a rollover marker must name when this one is to be closed."""
        if head.blob is None:
            return blob_name(day), None
        if head.next is not None:
            return head.next, None
        cur_day, part = blob_key(head.blob) or (day, 0)
        if head.blocks >= BLOCK_LIMIT:  # full: no marker fits, and the service itself refuses appends
            return blob_name(cur_day, part + 1), None
        if day > cur_day:
            return head.blob, blob_name(day)
        if head.blocks >= self._rollover_blocks:
            return head.blob, blob_name(cur_day, part + 1)
        return head.blob, None

    def _landed(self, name: str, pos: int, data: bytes) -> bool:
        """After a 412: whether this very block was committed by an earlier try of the pipeline's retry.

        A read that keeps failing is not taken as "not ours": chaining the batch again could write it twice,
        so the append fails instead (AuditWriteError) and the caller decides."""
        for attempt in range(3):
            try:
                return bytes(self._container.download_blob(name, offset=pos, length=len(data)).readall()) == data
            except HttpResponseError as exc:
                if exc.status_code == 416:  # nothing at that position: the block is not there
                    return False
                if attempt == 2:
                    raise AuditWriteError(f"cannot tell whether an append to {name} landed: {exc}") from exc
                time.sleep(0.2 * (attempt + 1))
        return False

    def append(self, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        with self._lock:
            try:
                self._append(records, batch_day(records))
            except AuditWriteError:
                self._head = None
                raise
            except Exception as exc:  # any failure at all means "not audited": the caller must change nothing
                self._head = None
                raise AuditWriteError(
                    f"cannot append to the audit log in container {self.container_name}: {exc}"
                ) from exc

    def _append(self, records: Sequence[AuditRecord], day: date) -> None:
        for attempt in range(CONFLICT_ATTEMPTS):
            head = self._head or self._read_head()
            target, close_to = self._plan(head, day)
            batch: Sequence[AuditRecord] = records
            if close_to is not None:
                batch = [
                    AuditRecord(
                        time=max(r.time for r in records),
                        kind=ROLLOVER_KIND,
                        reason=f"this blob is closed; the audit log continues in {close_to}",
                        change={"blob": {"before": target, "after": close_to}},
                    )
                ]
            pos = head.size if target == head.blob else 0
            if target != head.blob:
                # IfMissing: creating over an existing append blob would empty it; if another writer
                # created it first, that is fine.
                with contextlib.suppress(ResourceExistsError):
                    self._container.get_blob_client(target).create_append_blob(
                        match_condition=MatchConditions.IfMissing
                    )
            data, seq, last = chain(batch, head.seq, head.hash)
            if len(data) > MAX_APPEND_BYTES:
                raise AuditWriteError(f"audit batch of {len(data)} bytes exceeds one append block; split it")
            try:
                result = self._container.get_blob_client(target).append_block(data, appendpos_condition=pos)
                count = result.get("blob_committed_block_count")
                blocks = count if isinstance(count, int) else head.blocks + 1
            except HttpResponseError as exc:
                code = _code(exc)
                if code not in _RACE_CODES:
                    raise
                if not (code == "AppendPositionConditionNotMet" and self._landed(target, pos, data)):
                    log.info("audit: append to %s lost a race (%s); re-reading the chain head", target, code)
                    self._head = None
                    # Exponential backoff with full jitter spreads racing writers apart.
                    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 (not crypto)
                    continue
                blocks = head.blocks + 1 if target == head.blob else 1
            self._head = _Head(target, pos + len(data), blocks, seq, last, close_to)
            self._seen_seq = seq
            if close_to is None:
                return
        raise AuditWriteError(f"gave up appending to the audit log after {CONFLICT_ATTEMPTS} lost races")

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        """Every entry, blob by blob in chain order, each blob read up to its size when listed.

        With `since`, only the blobs from its UTC day on and the one just before (see _blobs_since): older
        month folders are not listed and older blobs not downloaded."""
        try:
            blobs = self._blobs() if since is None else self._blobs_since(_utc_day(since))
            for _, name, size in blobs:
                if size:
                    data = self._container.download_blob(name, offset=0, length=size).readall()
                    yield from parse_lines(data, name)
        except SdkError as exc:
            status, code = (exc.status_code, _code(exc)) if isinstance(exc, HttpResponseError) else (None, "")
            raise AzureError(
                f"cannot read the audit log in container {self.container_name}: {exc}", status=status, code=code
            ) from exc


def from_settings(
    account_url: str | None,
    connection_string: str | None,
    container: str,
    credential: TokenCredential | None = None,
    *,
    create_container: bool = False,
) -> BlobAuditLog:
    """A BlobAuditLog from app settings: `account_url` with an Entra credential in Azure (no shared keys;
    DefaultAzureCredential when none is given), or `connection_string` for Azurite. Exactly one of the two."""
    # Lost append races are retried by BlobAuditLog itself; transient failures by the client's retry policy.
    client = container_client(account_url, connection_string, container, credential, purpose="blob audit log")
    if create_container:
        with contextlib.suppress(ResourceExistsError):
            client.create_container()
    return BlobAuditLog(client)

"""The audit log in Azure Blob Storage: append blobs audit/YYYY/MM/DD.jsonl (DD-1.jsonl… past the block
limit), one hash chain across instances through append-position conditions.

Writers in one instance commit as a group: whoever holds the writer lock appends every batch queued so far
in one block, so the threads of a host never race each other and a loser's records go out with newer ones.
Instances race through `appendpos_condition`; a lost race re-reads the head (one ranged read) and retries,
with no attempt cap but a time budget. Names, listing and rollover checks: warden/azure/audit_blob_read.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as SdkError
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import ContainerClient

from warden.audit import GENESIS_HASH, batch_day, chain, entry_head, fit_record, parse_lines, tail_entry
from warden.audit_held import HeldBack, HoldsBack
from warden.azure.audit_blob_read import (
    PREFIX,
    TAIL_BYTES,
    Rollover,
    blob_key,
    blob_name,
    blobs_since,
    chain_start,
    error_code,
    list_audit_blobs,
    marker_next,
    read_tail,
    rollover_target,
    utc_day,
)
from warden.azure.clients import container_client
from warden.errors import AuditWriteError, AzureError
from warden.model import AuditRecord, Json, RecordKind

__all__ = ["PREFIX", "BlobAuditLog", "Rollover", "blob_key", "blob_name", "from_settings", "rollover_target"]

log = logging.getLogger(__name__)

BLOCK_LIMIT = 50_000  # the service refuses appends to an append blob past this many blocks
ROLLOVER_BLOCKS = 49_000  # close a blob well before the limit: racing writers still need room for a marker
MAX_APPEND_BYTES = 4 * 1024 * 1024  # append_block's size limit on older service versions (newer: 100 MiB)
APPEND_BUDGET_S = 60.0  # how long lost races may go on before append gives up (the caller then changes nothing)
ROLLOVER_KIND = RecordKind.ROLLOVER
# Lost races: another writer appended first, or the blob was closed, filled or not created yet.
_RACE_CODES = frozenset({"AppendPositionConditionNotMet", "BlockCountExceedsLimit", "BlobNotFound"})


@dataclass(frozen=True)
class _Head:
    """The newest blob (where appends go) and the chain head (in an older blob if the newest is empty)."""

    blob: str | None
    size: int = 0
    blocks: int = 0
    seq: int = 0
    hash: str = GENESIS_HASH
    next: str | None = None  # the newest blob ends with a rollover marker: the log continues in this blob
    ragged: bool = False  # the newest blob does not end a line (foreign bytes): the next block starts one


class _Batch:
    """One append() call: its records, how many of them are in the log, and the error that ended it."""

    __slots__ = ("error", "records", "written")

    def __init__(self, records: Sequence[AuditRecord]) -> None:
        self.records = list(records)
        self.written = 0
        self.error: AuditWriteError | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or self.written == len(self.records)


@dataclass
class AppendStats:
    """Counters for benchmarks and tests: blocks appended, batches in them, races lost."""

    blocks: int = 0
    batches: int = 0
    lost_races: int = 0


class BlobAuditLog(HoldsBack):
    """AuditLog on append blobs. Writers race through `appendpos_condition` (412 → re-read the head, re-chain,
    retry); a blob is closed by appending a `rollover` marker entry naming the next blob, so every writer
    agrees where the chain continues using appends only (which an immutability policy still allows).
    """

    def __init__(
        self,
        container_client: ContainerClient,
        *,
        rollover_blocks: int = ROLLOVER_BLOCKS,
        budget_s: float = APPEND_BUDGET_S,
    ) -> None:
        self._container = container_client
        self._rollover_blocks = rollover_blocks
        self._budget_s = budget_s
        self._lock = threading.Lock()  # the writer: whoever holds it appends every batch queued
        self._queue_lock = threading.Lock()  # guards _queued only (held briefly, never while writing)
        self._queued: list[_Batch] = []
        self._head: _Head | None = None  # known after our own append or a re-read; dropped on any failure
        self._seen_seq = 0  # the log never legitimately ends below the highest seq this instance saw
        self.stats = AppendStats()
        self.held = HeldBack(self.append)

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

    def _read_head(self) -> _Head:
        blobs = list_audit_blobs(self._container)
        if not blobs:
            head = _Head(None)
        else:
            newest = blobs[-1][1]
            props = self._container.get_blob_client(newest).get_blob_properties()
            head = _Head(newest, props.size, props.append_blob_committed_block_count or 0)
            for _, name, size in reversed(blobs):
                last, clean = read_tail(self._container, name, props.size if name == newest else size)
                if name == newest:
                    head = dataclasses.replace(head, ragged=not clean)
                if last is not None:
                    marker = name == newest and last.get("kind") == ROLLOVER_KIND
                    next_blob = marker_next(last, name) if marker else None
                    head = dataclasses.replace(head, seq=entry_head(last)[0], hash=entry_head(last)[1], next=next_blob)
                    break
        return self._checked(head)

    def _checked(self, head: _Head) -> _Head:
        if head.seq < self._seen_seq:
            # Chaining on would hide the loss (a removed blob or tail); an admin must look first.
            raise AuditWriteError(
                f"audit log in container {self.container_name} ends at seq {head.seq} but seq "
                f"{self._seen_seq} was written: entries were removed; run `python -m warden verify`"
            )
        return head

    def _reread(self, head: _Head, data: bytes) -> _Head | None:
        """After losing a race on head.blob with `data` at head.size: None if `data` is there after all (an
        earlier try of the SDK's retry committed it), else the new head. One ranged read from that position
        answers both: the bytes there, the new size and block count, and the entries appended since (a second
        read if more than a tail was appended)."""
        assert head.blob is not None
        try:
            stream = self._container.download_blob(head.blob, offset=head.size, length=max(len(data), TAIL_BYTES))
            tail = bytes(stream.readall())
        except HttpResponseError:  # e.g. 416: the blob is no longer than we thought
            return None if self._landed(head.blob, head.size, data) else self._read_head()
        if tail[: len(data)] == data:
            return None
        size = int(str(stream.properties.content_range or "").rpartition("/")[2] or 0)
        blocks = stream.properties.append_blob_committed_block_count
        if size <= head.size or not isinstance(blocks, int):
            return self._read_head()
        if size - head.size > len(tail):  # more than a tail appended since: read the blob's last bytes
            start = size - TAIL_BYTES
            tail = bytes(self._container.download_blob(head.blob, offset=start, length=TAIL_BYTES).readall())
        last = tail_entry(tail)
        if last is None and size - head.size > TAIL_BYTES:
            return self._read_head()  # one entry longer than the tail
        seq, hash_ = (head.seq, head.hash) if last is None else entry_head(last)  # none: only foreign bytes
        marker = last is not None and last.get("kind") == ROLLOVER_KIND
        next_blob = marker_next(last, head.blob) if last is not None and marker else None
        return self._checked(_Head(head.blob, size, blocks, seq, hash_, next_blob, not tail.endswith(b"\n")))

    def _plan(self, head: _Head, day: date) -> tuple[str, str | None]:
        """The blob to append to, and the blob a rollover marker must name when this one is to be closed."""
        if head.blob is None:
            return chain_start(self._container, blob_name(day)), None
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
        held = self.held.take()  # held-back records go out first, in the same block
        batch = _Batch([*held, *records])
        with self._queue_lock:
            self._queued.append(batch)
        with self._lock:  # a writer before us may have appended our batch with its own: then we are done
            if not batch.done:
                self._write_queued(batch)
        if batch.error is not None:  # one exception per caller: the writer's own may be raised in other threads
            self.held.put_back(held[batch.written :])  # those in blocks that landed stay written
            raise AuditWriteError(str(batch.error)) from (batch.error.__cause__ or batch.error)
        self.observed(records)

    def _write_queued(self, mine: _Batch) -> None:
        """Append queued batches, oldest first, until `mine` is in the log; on failure fail the batches tried."""
        deadline, races = time.monotonic() + self._budget_s, 0
        pending: list[_Batch] = []
        try:
            while not mine.done:
                with self._queue_lock:  # batches queued while we lost a race go out in the same block
                    pending = list(self._queued)
                if self._append_once(pending):
                    continue
                races += 1
                self.stats.lost_races += 1
                if time.monotonic() > deadline:
                    raise AuditWriteError(
                        f"gave up appending to the audit log after {races} lost races in {self._budget_s:g} s"
                    )
                # Full jitter from 5 ms, doubling, capped at 200 ms: spreads the losers out (bench 3b: fewer lost races
                # per batch than a 50 ms cap) while no sleep is long enough to hand the position to fresh writers.
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(races, 6))))  # noqa: S311 (not crypto)
        except Exception as exc:  # any failure at all means "not audited": the callers must change nothing
            self._head = None
            error = (
                exc
                if isinstance(exc, AuditWriteError)
                else AuditWriteError(f"cannot append to the audit log in container {self.container_name}: {exc}")
            )
            if error is not exc:
                error.__cause__ = exc
            for batch in [*pending, mine]:
                if not batch.done:  # one split over blocks keeps the blocks that landed (docs/audit.md)
                    batch.error = error
            with self._queue_lock:
                self._queued = [b for b in self._queued if not b.done]

    def _block(self, records: Sequence[AuditRecord], head: _Head, prefix: bytes) -> tuple[bytes, int, int, str]:
        """The next block: `prefix` and as many whole chained lines as fit one append block (at least one),
        with how many records it holds and the chain head after it."""
        lines, size, seq, hash_ = [prefix], len(prefix), head.seq, head.hash
        for record in records:
            line, next_seq, next_hash = chain([record], seq, hash_)
            if size + len(line) > MAX_APPEND_BYTES:
                if len(lines) > 1:
                    break
                line, next_seq, next_hash = chain([fit_record(record, len(line), MAX_APPEND_BYTES)], seq, hash_)
                if size + len(line) > MAX_APPEND_BYTES:
                    raise AuditWriteError(f"an audit record of {len(line)} bytes does not fit one append block")
            lines.append(line)
            size, seq, hash_ = size + len(line), next_seq, next_hash
        return b"".join(lines), len(lines) - 1, seq, hash_

    def _append_once(self, pending: list[_Batch]) -> bool:
        """One append_block of the pending records (or of a rollover marker first); False if the race was lost."""
        head = self._head or self._read_head()
        records = [r for b in pending for r in b.records[b.written :]]
        target, close_to = self._plan(head, batch_day(records))
        if close_to is not None:
            records = [
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
                self._container.get_blob_client(target).create_append_blob(match_condition=MatchConditions.IfMissing)
        # After foreign bytes that do not end a line, start a fresh one: the first record stays intact.
        data, count, seq, last = self._block(records, head, b"\n" if target == head.blob and head.ragged else b"")
        try:
            result = self._container.get_blob_client(target).append_block(data, appendpos_condition=pos)
            blocks = result.get("blob_committed_block_count")
        except HttpResponseError as exc:
            code = error_code(exc)
            if code not in _RACE_CODES:
                raise
            position = code == "AppendPositionConditionNotMet"
            after = self._reread(head, data) if position and target == head.blob else None
            if after is None and not (position and (target == head.blob or self._landed(target, pos, data))):
                after = self._read_head()
            if after is not None:
                log.info("audit: append to %s lost a race (%s); re-read the chain head", target, code)
                self._head = after
                return False
            blocks = None  # it had landed: an earlier try of the SDK's retry committed it
        if not isinstance(blocks, int):
            blocks = head.blocks + 1 if target == head.blob else 1
        self._head = _Head(target, pos + len(data), blocks, seq, last, close_to)
        self._seen_seq = seq
        if close_to is None:
            self.stats.blocks += 1
            for batch in pending:  # the records went out oldest batch first: mark them off in that order
                taken = min(count, len(batch.records) - batch.written)
                batch.written, count = batch.written + taken, count - taken
                self.stats.batches += batch.done and taken > 0
            with self._queue_lock:
                self._queued = [b for b in self._queued if not b.done]
        return True

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        """Every entry, blob by blob in chain order, each blob read up to its size when listed.

        With `since`, only the blobs from its UTC day on and the one just before (see blobs_since): older
        month folders are not listed and older blobs not downloaded."""
        self.held.flush()  # a reader sees what this instance held back too
        try:
            blobs = list_audit_blobs(self._container) if since is None else blobs_since(self._container, utc_day(since))
            for _, name, size in blobs:
                if size:
                    data = self._container.download_blob(name, offset=0, length=size).readall()
                    yield from parse_lines(data, name)
        except SdkError as exc:
            status, code = (exc.status_code, error_code(exc)) if isinstance(exc, HttpResponseError) else (None, "")
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

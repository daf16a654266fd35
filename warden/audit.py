"""The audit log (DESIGN §5): record ↔ JSON, the sha256 hash chain, the AuditLog port and the local-folder sink.
Filtering and chain verification are in warden/audit_review.py; the append-blob sink in warden/azure/audit_blob.py;
held-back records and observers in warden/audit_held.py.
"""

from __future__ import annotations

import enum
import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from warden.audit_held import HeldBack, HoldsBack
from warden.errors import AuditWriteError
from warden.group_commit import GroupCommit
from warden.model import AuditRecord, Json
from warden.redact import clean, scrub

log = logging.getLogger(__name__)

#: 2 added `steps` (the remediation steps of a record, with their status) and the `partial` outcome.
FORMAT_VERSION = 2
GENESIS_HASH = "0" * 64
CUT_TEXT = 4096  # a record too big for one write keeps this many characters of each text field
_SURROGATE = re.compile("[\ud800-\udfff]")  # UTF-16 halves: a lone one cannot be encoded as UTF-8


class AuditLog(Protocol):
    """Where audit records go: append-only, hash-chained JSON lines."""

    def append(self, records: Sequence[AuditRecord]) -> None:
        """Append all records or none; AuditWriteError (chained) on any failure, so callers change nothing."""

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        """Every stored entry in chain order, as written (with seq, prev_hash, hash). With `since`, only the day
        files/blobs that can hold entries at or after it: whole UTC days (a blob sink also its blob just before),
        so earlier entries come too; filter_entries(since=) cuts them. verify needs all: call it without `since`."""


@runtime_checkable
class HoldingAuditLog(AuditLog, Protocol):
    """A sink that can hold records back and write them batched (both of warden's sinks; a test's wrapper may
    not: then the caller appends)."""

    def hold(self, records: Sequence[AuditRecord]) -> None:
        """Write the records later, batched with others (see HeldBack); never raises for the write."""

    def flush(self) -> None:
        """Write what is held now (at shutdown, or before a reader in another process needs it)."""


class Entry(dict[str, Json]):
    """A stored entry exactly as written, plus where it was read from (not part of its content or hash);
    `problem` is set (and the dict left empty) for a line that is not a JSON object (truncated or corrupt)."""

    __slots__ = ("problem", "where")

    def __init__(self, content: Mapping[str, Json], where: str, problem: str = "") -> None:
        super().__init__(content)
        self.where = where
        self.problem = problem


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a `Z`; a naive datetime is taken to be UTC already."""
    return _utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """The inverse of format_time (any ISO-8601 accepted; naive means UTC)."""
    return _utc(datetime.fromisoformat(value))


def _valid_text(value: Json) -> Json:
    """`value` with its text valid Unicode: surrogate pairs joined, a lone one (a malformed payload) as `\\udXXX`."""
    if isinstance(value, str) and _SURROGATE.search(value):
        joined = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", joined)
    if isinstance(value, dict):
        return {str(_valid_text(k)): _valid_text(v) for k, v in value.items()}
    return [_valid_text(v) for v in value] if isinstance(value, list) else value


def record_to_json(record: AuditRecord) -> dict[str, Json]:
    """The stored form of a record (before the chain fields): every key always present, in a fixed order,
    camelCase as in Azure's own logs (the chain fields seq, prev_hash and hash keep the sink's names)."""
    caller = record.caller
    stored: dict[str, Json] = {
        "v": FORMAT_VERSION,
        "time": format_time(record.time),
        "kind": _name(record.kind),
        "eventId": clean(record.event_id, "eventId"),
        "correlationId": clean(record.correlation_id, "correlationId"),
        "caller": None if caller is None else {"objectId": caller.object_id, "appId": caller.app_id},
        "resourceId": clean(record.resource_id, "resourceId"),
        "controlId": clean(record.control_id, "controlId"),
        "mode": _name(record.mode),
        "decision": _name(record.decision),
        "outcome": _name(record.outcome),
        "observed": clean(dict(record.observed), "observed"),
        "expected": clean(dict(record.expected), "expected"),
        "change": clean(dict(record.change), "change"),
        "steps": [clean(dict(step), "steps") for step in record.steps],
        "reason": scrub(record.reason),
        "error": scrub(record.error),
        "durationMs": None if record.duration_ms is None else round(float(record.duration_ms), 3),
        "trigger": _name(record.trigger),
        "appVersion": clean(record.app_version, "appVersion"),
    }
    return {key: _valid_text(value) for key, value in stored.items()}


def _name(value: enum.Enum | str | None) -> str:
    """An enum field as stored: its value, "" when unset (a plain string passes through, scrubbed)."""
    if value is None:
        return ""
    return str(value.value) if isinstance(value, enum.Enum) else scrub(value)


def entry_hash(entry: Mapping[str, Json]) -> str:
    """sha256 (hex) of the canonical JSON of the entry without its `hash` key."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # A written entry is valid Unicode (_valid_text); a forged line read back may hold a lone surrogate ("\ud800"
    # in JSON): hash it anyway, so verify reports it as altered instead of failing on it.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def chain(records: Sequence[AuditRecord], head_seq: int, head_hash: str) -> tuple[bytes, int, str]:
    """Link records after the chain head (seq, hash): the JSON lines to append and the new head."""
    lines = []
    for record in records:
        head_seq += 1
        entry: dict[str, Json] = {"seq": head_seq, **record_to_json(record), "prev_hash": head_hash}
        head_hash = entry["hash"] = entry_hash(entry)
        lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n")
    return "".join(lines).encode("utf-8"), head_seq, head_hash


def fit_record(record: AuditRecord, line_bytes: int, limit: int) -> AuditRecord:
    """A record whose line alone exceeds `limit` bytes (a blob's append block), cut so that it fits: its objects
    replaced by a note of their size and its text fields cut, so the record is still in the chain rather than lost."""
    note = f"[cut: the record's {line_bytes} bytes exceed one append block of {limit}]"
    log.warning("audit: a %s record of %d bytes exceeds one append block; stored cut", record.kind, line_bytes)
    cut: dict[str, Json] = {"cut": note}

    def text(value: str) -> str:
        return value if len(value) <= CUT_TEXT else value[:CUT_TEXT] + "…"

    return replace(
        record,
        event_id=text(record.event_id),
        correlation_id=text(record.correlation_id),
        resource_id=text(record.resource_id),
        control_id=text(record.control_id),
        observed=cut if record.observed else {},
        expected=cut if record.expected else {},
        change=cut if record.change else {},
        steps=(cut,) if record.steps else (),
        reason=f"{text(record.reason)} {note}".strip(),
        error=text(record.error),
    )


def batch_day(records: Sequence[AuditRecord]) -> date:
    """The UTC day a batch is filed under: the latest record time (a batch is never split across files)."""
    return max(_utc(r.time) for r in records).date()


def parse_lines(data: bytes, source: str) -> Iterator[Entry]:
    """The entries of a JSON-lines file or blob; unreadable lines become Entry objects with a `problem`."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"{source} line {number}"
        try:
            value = json.loads(raw)
        except ValueError:
            yield Entry({}, where, "unreadable line (truncated or not JSON)")
            continue
        yield Entry(value, where) if isinstance(value, dict) else Entry({}, where, "not a JSON object")


def _is_head(value: object) -> bool:
    return isinstance(value, dict) and type(value.get("seq")) is int and isinstance(value.get("hash"), str)


def tail_entry(tail: bytes) -> dict[str, Json] | None:
    """The last complete entry (with an int seq and a str hash) in the tail of a file or blob, if any."""
    for raw in reversed(tail.split(b"\n")):
        try:
            value = json.loads(raw)
        except ValueError:
            continue  # a truncated last line, or the cut first line of a tail chunk
        if _is_head(value):
            return dict(value)
    return None


def entry_head(entry: Mapping[str, Json]) -> tuple[int, str]:
    """(seq, hash) of an entry tail_entry returned, which checked both types."""
    seq, hash_ = entry.get("seq"), entry.get("hash")
    if type(seq) is not int or not isinstance(hash_, str):
        raise ValueError(f"not a chained entry: seq {seq!r}, hash {hash_!r}")
    return seq, hash_


_DAY_FILE = re.compile(r"audit-(\d{4}-\d{2}-\d{2})\.jsonl")


class HeadMark(tuple[int, str]):
    """A local head mark (seq, hash) whose file is empty or unreadable: (0, "") with `problem` saying so."""

    problem = ""


class LocalAuditLog(HoldsBack):
    """The audit log in a folder: one JSON-lines file per UTC day (audit-YYYY-MM-DD.jsonl), fsynced appends under
    an exclusive flock on `audit.lock` (a process's threads commit as a group); `audit.head` holds the chain head
    as a high-water mark: a removed newest file or tail is refused on append and reported by verify."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._lock_path = self.folder / "audit.lock"
        self._head_path = self.folder / "audit.head"
        self.held = HeldBack(self.append)
        self._group: GroupCommit[AuditRecord] = GroupCommit(self._write)

    def _day_files(self) -> list[Path]:
        names = self.folder.iterdir() if self.folder.is_dir() else ()
        return sorted(p for p in names if _DAY_FILE.fullmatch(p.name))

    def _chain_head(self, files: list[Path]) -> tuple[int, str]:
        for path in reversed(files):
            with path.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - 65536))
                last = tail_entry(f.read())
                if last is None and size > 65536:  # an entry longer than the tail: read it all
                    f.seek(0)
                    last = tail_entry(f.read())
            if last is not None:
                return entry_head(last)
        return 0, GENESIS_HASH

    def head_mark(self) -> tuple[int, str] | None:
        """The (seq, hash) recorded after the last successful append, or None if nothing was written yet.
        An empty or unreadable mark file is a HeadMark with `problem` set: append refuses, verify reports it."""
        try:
            mark = json.loads(self._head_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            mark = exc
        if _is_head(mark):
            return mark["seq"], mark["hash"]
        bad, path = HeadMark((0, "")), self._head_path
        bad.problem = f"head mark {path} is empty or unreadable ({mark}): run `python -m warden verify`; if the "
        bad.problem += f"chain is intact, delete {path} to let appends resume (the next append writes a new one)"
        return bad

    def append(self, records: Sequence[AuditRecord]) -> None:
        if records:
            self._group.submit(records)  # with what other threads append meanwhile: one lock, one fsync
            self.observed(records)

    def _write(self, records: Sequence[AuditRecord]) -> None:
        held = self.held.take()  # held-back records go out first, in the same write
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._lock_path.open("a+b") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file is closed
                self._append_locked([*held, *records])
        except Exception as exc:  # any failure at all means "not audited": the caller must change nothing
            self.held.put_back(held)
            if isinstance(exc, AuditWriteError):
                raise
            raise AuditWriteError(f"cannot write the audit log in {self.folder}: {exc}") from exc

    def _append_locked(self, records: Sequence[AuditRecord]) -> None:
        files = self._day_files()
        seq, prev = self._chain_head(files)
        mark = self.head_mark()
        if isinstance(mark, HeadMark):
            raise AuditWriteError(f"audit log in {self.folder} not written: {mark.problem}")
        if mark is not None and (mark[0] > seq or (mark[0] == seq and mark[1] != prev)):
            # Never chain onto a shortened or rewritten log: that would hide the loss. An admin must look.
            raise AuditWriteError(
                f"audit log in {self.folder} ends at seq {seq} but seq {mark[0]} was written: entries were "
                "removed or altered; run `python -m warden verify`"
            )
        day = batch_day(records)
        if files:  # never write into a past day's file, so files in name order are in chain order
            day = max(day, date.fromisoformat(files[-1].name[len("audit-") : -len(".jsonl")]))
        data, seq, prev = chain(records, seq, prev)
        target = self.folder / f"audit-{day.isoformat()}.jsonl"
        created = not target.exists()
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if created:  # make the new file's directory entry durable before anything is written to it
                dir_fd = os.open(self.folder, os.O_RDONLY)
                os.fsync(dir_fd)
                os.close(dir_fd)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # end a line cut by a crash: it stays one unreadable line for verify
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)  # all-or-nothing: drop the part of this batch that did get written
                raise
        finally:
            os.close(fd)
        try:
            # A new file renamed over the mark, without an fsync of its own: the batch's fsync is the one per
            # append. A crash leaves the old mark (it lags: allowed) or the new one (docs/audit.md).
            temp = self._head_path.with_name("audit.head.tmp")
            with temp.open("wb", buffering=0) as f:
                f.write(json.dumps({"seq": seq, "hash": prev}).encode())
            os.replace(temp, self._head_path)
        except OSError as exc:
            # The records are durable; a stale mark only lags (never blocks) and is rewritten next time.
            log.warning("audit: records written, head mark in %s not updated: %s", self.folder, exc)

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        """A snapshot taken under a shared lock: entries appended while iterating are not included.

        With `since`, files of days before its UTC day are not opened: a batch is filed under its latest
        record's day or a later one, so an older file holds no entry at or after `since`."""
        self.held.flush()  # a reader sees what this process held back too
        first = "" if since is None else f"audit-{_utc(since).date().isoformat()}.jsonl"  # names sort as days
        # A reader never creates the lock file (the folder may be a read-only copy); with none, no writer ran.
        with self._lock_path.open("rb") if self._lock_path.exists() else open(os.devnull, "rb") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_SH)  # appends are whole batches under LOCK_EX
            sizes = [(p, p.stat().st_size) for p in self._day_files() if p.name >= first]
        for path, size in sizes:
            with path.open("rb") as f:
                yield from parse_lines(f.read(size), path.name)

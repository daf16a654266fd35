"""Reading the audit log back: filtering entries for review, and verifying that nothing was removed or altered."""

from __future__ import annotations

import bisect
import fnmatch
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from warden.audit import GENESIS_HASH, HeadMark, entry_hash, format_time
from warden.model import Json

log = logging.getLogger(__name__)


def _match(value: str, pattern: str, *, substring: bool) -> bool:
    value, pattern = value.lower(), pattern.lower()
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(value, pattern)
    return pattern in value if substring else value == pattern


def filter_entries(
    entries: Iterable[dict[str, Json]],
    *,
    since: datetime | None = None,
    resource: str | None = None,
    control: str | None = None,
    outcome: str | None = None,
) -> Iterator[dict[str, Json]]:
    """Entries matching every given filter. `resource`: case-insensitive substring or glob of the resource
    id; `control`: exact id or glob; `outcome`: exact; `since`: entries at or after (naive means UTC).
    Unreadable lines are skipped here (verify reports them)."""
    since_text = None if since is None else format_time(since)  # fixed-width UTC: compares as text
    for entry in entries:
        if getattr(entry, "problem", ""):
            log.warning("audit: skipping %s: %s", getattr(entry, "where", "?"), getattr(entry, "problem", ""))
        elif (
            (since_text is None or str(entry.get("time", "")) >= since_text)
            and (resource is None or _match(str(entry.get("resourceId", "")), resource, substring=True))
            and (control is None or _match(str(entry.get("controlId", "")), control, substring=False))
            and (outcome is None or entry.get("outcome") == outcome)
        ):
            yield entry


@dataclass(frozen=True)
class VerifyReport:
    """The result of verify: `ok` when every entry is intact and linked; `problems` locate each break."""

    ok: bool
    entries: int
    problems: tuple[str, ...]
    head: tuple[int, str] | None = None  # (seq, hash) of the last entry: note it to detect a later truncation


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"


def _head_problems(head: tuple[int, str] | None, seq: int, hash_: str) -> list[str]:
    """A recorded head (seq, hash) the log (ending at seq, hash_) does not match: its tail was removed."""
    if isinstance(head, HeadMark):
        return [head.problem]
    if head is None or head[0] < seq or (head[0] == seq and head[1] == hash_):
        return []
    what = f"{_span(seq + 1, head[0])} missing" if head[0] > seq else "its hash differs"
    return [f"removed: the log ends at seq {seq}, the recorded head is {head[0]} ({what})"]


def _gap_problems(gaps: list[tuple[int, int, str, str]], seen: set[int]) -> list[str]:
    """The skipped seq ranges (first, last, what, between) that no entry elsewhere fills (a reorder refills)."""
    ordered, problems = sorted(seen), []
    for first, last, what, between in gaps:
        # The first and last seq of the gap no entry elsewhere fills (no list over the gap: seq 10**9 is forgeable)
        inside = ordered[bisect.bisect_left(ordered, first) : bisect.bisect_right(ordered, last)]
        if len(inside) < last - first + 1:
            low = next((n for n in range(first, first + len(inside) + 1) if n not in seen), first)
            high = next((n for n in range(last, last - len(inside) - 1, -1) if n not in seen), last)
            problems.append(f"{what}: {_span(low, high)} missing {between}")
    return problems


def verify(entries: Iterable[dict[str, Json]], *, head: tuple[int, str] | None = None) -> VerifyReport:
    """Check the hash chain: every entry's hash, seq continuity and prev_hash links, in the order given.

    `head` is an expected (seq, hash) of the last entry (LocalAuditLog.head_mark() or a noted value): with it
    a removed tail is reported too, which a hash chain alone cannot reveal. So are rollover markers that do not
    lead to the blob they name (see warden.azure.audit_blob_read.Rollover)."""
    problems: list[str] = []
    seen: set[int] = set()
    gaps: list[tuple[int, int, str, str]] = []  # seq ranges skipped, settled at the end (a reorder refills them)
    prev_seq, prev_hash, prev_where, prev_altered = 0, GENESIS_HASH, "the start", False
    count = unreadable = 0  # unreadable: lines in a row whose seq is unknown (the next entry says what is missing)
    marker = None  # the rollover marker just read
    for count, entry in enumerate(entries, start=1):
        where = getattr(entry, "where", f"entry #{count}")
        problems.extend(marker.next_entry(where) if marker else ())  # it must open the blob the marker names
        marker = None
        if getattr(entry, "problem", ""):
            problems.append(f"{where}: {getattr(entry, 'problem', '')}")
            unreadable += 1  # foreign bytes or a garbled entry: the next entry's seq tells which
            continue
        seq, stored, link = entry.get("seq"), entry.get("hash"), entry.get("prev_hash")
        if not isinstance(seq, int) or not isinstance(stored, str) or not isinstance(link, str):
            problems.append(f"{where}: altered: seq, hash or prev_hash missing or of the wrong type")
            unreadable += 1
            continue
        at = f"{where} (seq {seq})"
        if entry.get("kind") == "rollover":  # written by the blob sink, which defines what makes one valid
            from warden.azure.audit_blob_read import Rollover

            problems.extend((marker := Rollover(entry, where, at)).problems())
        altered = entry_hash(entry) != stored
        if altered:
            problems.append(f"{at}: altered: content does not match its hash")
        if seq in seen:
            problems.append(f"{at}: inserted: seq {seq} occurs more than once")
        elif seq < prev_seq:
            problems.append(f"{at}: reordered: seq {seq} comes after seq {prev_seq} ({prev_where})")
        elif seq > prev_seq + 1 and unreadable:
            # The entries there are lost in the unreadable line(s) just before: name them, not only the lines.
            lines = f"{unreadable} unreadable line{'s' if unreadable > 1 else ''}"
            gaps.append((prev_seq + 1, seq - 1, "unreadable", f"between {prev_where} and {where} ({lines})"))
        elif seq > prev_seq + 1:
            crossed = prev_seq > 0 and prev_where.partition(" line ")[0] != where.partition(" line ")[0]
            hint = " (a removed day file?)" if crossed else ""
            gaps.append((prev_seq + 1, seq - 1, "removed", f"between {prev_where} and {where}{hint}"))
        elif link != prev_hash and not prev_altered and seq == prev_seq + 1:
            problems.append(f"{at}: inserted or altered: prev_hash does not match the hash of {prev_where}")
        seen.add(seq)
        prev_seq, prev_hash, prev_where, prev_altered, unreadable = seq, stored, at, altered, 0
    problems.extend(_gap_problems(gaps, seen))
    problems.extend(_head_problems(head, prev_seq, prev_hash))
    last_head = (prev_seq, prev_hash) if count else None
    return VerifyReport(ok=not problems, entries=count, problems=tuple(problems), head=last_head)

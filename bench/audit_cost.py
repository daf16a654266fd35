"""Section 3: what the audit log costs: bytes per record, append latency, chain hashing, verify throughput.

Bytes come from the log the event run produced (real records). Append latency is measured on a fresh
`LocalAuditLog` with one remediation result record per append, as the pipeline appends them (flock, head
read, sha256 chain, write, fsync of the file and of the head mark). `chain()` alone is timed too, to
separate the CPU part from the disk. Verify is timed over the event run's log and over a larger log.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.probes import summary_ms
from bench.world import HUMAN_OID
from emulator.builders import account_id
from warden import __version__
from warden.audit import GENESIS_HASH, LocalAuditLog, chain
from warden.audit_review import verify
from warden.model import AuditRecord, Caller, Decision, Mode, Outcome, RecordKind, Trigger


def sample_record(i: int, start: datetime) -> AuditRecord:
    """A remediation result record shaped as the pipeline writes it for network.public-access."""
    return AuditRecord(
        time=start + timedelta(milliseconds=i),
        kind=RecordKind.RESULT,
        event_id=f"bench-event-{i:06d}",
        correlation_id=f"corr-bench-event-{i:06d}",
        caller=Caller(object_id=HUMAN_OID, app_id="app-human"),
        resource_id=account_id(f"bench-{i % 200:04d}"),
        control_id="network.public-access",
        mode=Mode.ENFORCE,
        decision=Decision.ENFORCE,
        outcome=Outcome.REMEDIATED,
        observed={"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}},
        expected={"publicNetworkAccess": "Disabled"},
        change={"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}},
        duration_ms=8.5,
        trigger=Trigger.EVENT,
        app_version=__version__,
    )


def _bytes_per_record(folder: Path) -> dict[str, Any]:
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    files = sorted(folder.glob("audit-*.jsonl"))
    for path in files:
        for line in path.read_bytes().splitlines():
            if line.strip():
                kind = line.split(b'"kind":"', 1)[-1].split(b'"', 1)[0].decode()
                sizes[kind] += len(line) + 1
                counts[kind] += 1
    total = sum(sizes.values())
    return {
        "records": sum(counts.values()),
        "bytes": total,
        "bytes_per_record": round(total / max(1, sum(counts.values())), 1),
        "bytes_per_record_by_kind": {k: round(sizes[k] / counts[k], 1) for k in sorted(counts)},
    }


def _verify_rate(log: LocalAuditLog) -> dict[str, Any]:
    started = time.perf_counter()
    entries = list(log.entries())
    read = time.perf_counter() - started
    started = time.perf_counter()
    report = verify(entries, head=log.head_mark())
    checked = time.perf_counter() - started
    return {
        "entries": report.entries,
        "ok": report.ok,
        "read_s": round(read, 4),
        "verify_s": round(checked, 4),
        "entries_per_s": round(report.entries / (read + checked)) if report.entries else 0,
        "verify_only_entries_per_s": round(report.entries / checked) if report.entries else 0,
    }


def measure_audit(event_log: Path, folder: Path, appends: int, big: int) -> dict[str, Any]:
    """Bytes/record of `event_log`; `appends` single-record appends; verify over `event_log` and `big` entries."""
    start = datetime.now(UTC)
    records = [sample_record(i, start) for i in range(max(appends, big))]
    log = LocalAuditLog(folder / "appends")
    latencies = []
    for record in records[:appends]:
        t0 = time.perf_counter()
        log.append([record])
        latencies.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    chain(records[:appends], 0, GENESIS_HASH)
    chain_s = time.perf_counter() - t0
    big_log = LocalAuditLog(folder / "big")
    t0 = time.perf_counter()
    big_log.append(records[:big])  # one batch: one fsync, so this measures serialization and hashing
    batch_s = time.perf_counter() - t0
    return {
        "event_run_log": _bytes_per_record(event_log),
        "append": {
            "appends": appends,
            "latency_ms": summary_ms(latencies),
            "appends_per_s": round(appends / sum(latencies), 1),
            "chain_only_us_per_record": round(chain_s / appends * 1e6, 1),
            "batch_append_us_per_record": round(batch_s / big * 1e6, 1),
            "batch_size": big,
        },
        "verify_event_run_log": _verify_rate(LocalAuditLog(event_log)),
        "verify_large_log": _verify_rate(big_log),
    }

"""Section 3b: the blob audit log under contention, on Azurite (the production shape: BlobAuditLog on append
blobs, every writer in a tight loop on one chain).

Three shapes: one writer alone (the uncontended rate, for scale), 16 instances with one thread each (every
writer races every other through append positions: group commit cannot help) and 4 instances with 4 threads
each (the threads of an instance commit as a group).
Each writer appends `batches` batches of 2 records, back to back. Figures: batches written and lost (an
append that raised: must be 0), records/s (wall clock, all writers together, from the first append to the
last, head reads, lost races, back-off sleeps and Azurite's own work included, on a shared loopback), lost
races per batch, blocks appended (a block holds one or more batches) and whether the chain verifies.
Azurite is started here (emulator/azurite.py: node_modules/.bin/azurite-blob, in memory) and stopped at the end.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from bench.audit_cost import sample_record
from emulator.azurite import AzuriteError, azurite
from warden.audit_review import verify
from warden.azure.audit_blob import BlobAuditLog

SHAPES = ((1, 1), (16, 1), (4, 4))  # (instances, threads per instance)


def _shape(conn: str, instances: int, threads: int, batches: int) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex[:12]}"
    ContainerClient.from_connection_string(conn, name).create_container()
    logs = [BlobAuditLog(ContainerClient.from_connection_string(conn, name)) for _ in range(instances)]
    start_time = datetime.now(UTC)
    logs[0].append([sample_record(0, start_time)])  # the chain's start, before the race
    writers = instances * threads
    lost: list[str] = []
    barrier = threading.Barrier(writers + 1)

    def worker(w: int) -> None:
        log = logs[w % instances]
        barrier.wait()
        for i in range(batches):
            n = 1 + 2 * (w * batches + i)
            try:
                log.append([sample_record(n, start_time), sample_record(n + 1, start_time)])
            except Exception as exc:  # a lost batch is the figure, not a crash
                lost.append(str(exc))

    pool = [threading.Thread(target=worker, args=(w,)) for w in range(writers)]
    for thread in pool:
        thread.start()
    barrier.wait()
    t0 = time.perf_counter()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - t0
    entries = list(logs[0].entries())
    report = verify(entries)
    total = writers * batches
    races = sum(log.stats.lost_races for log in logs)
    blocks = sum(log.stats.blocks for log in logs) - 1
    return {
        "shape": f"{instances} instance(s) x {threads} thread(s)",
        "writers": writers,
        "batches": total,
        "batches_written": sum(log.stats.batches for log in logs) - 1,
        "batches_lost": len(lost),
        "records_in_log": len(entries) - 1,
        "records_per_s": round(2 * (total - len(lost)) / wall, 1),
        "wall_s": round(wall, 2),
        "lost_races_per_batch": round(races / total, 2),
        "blocks": blocks,
        "batches_per_block": round(total / blocks, 2) if blocks else 0.0,
        "verify_ok": report.ok,
        "first_error": lost[0] if lost else "",
    }


def measure_contention(batches: int) -> dict[str, Any]:
    """Each shape with `batches` batches of 2 records per writer, on a fresh Azurite container."""
    with tempfile.TemporaryDirectory(prefix="warden-bench-azurite-") as work:
        try:
            with azurite(Path(work)) as conn:
                return {"batches_per_writer": batches, "shapes": [_shape(conn, i, t, batches) for i, t in SHAPES]}
        except AzuriteError as exc:
            raise SystemExit(f"bench: {exc}") from exc


def render(result: dict[str, Any]) -> Iterator[str]:
    yield (
        f"3b. Blob audit log under contention (Azurite, tight loop, {result['batches_per_writer']} batches of 2 "
        "records per writer; wall clock includes head reads, lost races, back-off and Azurite)"
    )
    alone = result["shapes"][0]["records_per_s"] or 1.0
    for s in result["shapes"]:
        yield (
            f"   {s['shape']:<28} {s['batches_written']}/{s['batches']} batches written, {s['batches_lost']} lost; "
            f"{s['records_per_s']:.0f} records/s ({s['records_per_s'] / alone:.2f}x one writer); "
            f"{s['lost_races_per_batch']:.2f} lost races per batch; "
            f"{s['batches_per_block']:.2f} batches per block; chain ok={s['verify_ok']}"
        )
        if s["first_error"]:
            yield f"      !!! {s['first_error']}"

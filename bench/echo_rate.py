"""Self-caused echoes per second: N events carrying warden's own object id through `functions_host.on_event`, one
after the other, timed twice: (a) warden's part only, the Functions worker's binding decode (`to_functions_event`,
which the host runs before the function) done beforehand, untimed; (b) that decode included, per event.

Two sink pairs: the local audit log and state folder, and the blob audit sink and blob state store on Azurite
(started here). Each clock stops after the final flush of the echo trace (docs/audit.md "Self-caused echoes"),
so every echo is in a written audit record when it stops.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from bench.storage_trips import flush
from bench.world import CLOSED, WARDEN_OID, baseline_text, make_runtime, write_event
from emulator import Emulator
from emulator.azurite import AzuriteError, azurite
from emulator.builders import account, account_id
from warden.azure import functions_host
from warden.azure.audit_blob import BlobAuditLog
from warden.azure.state_blob import BlobStateStore
from warden.azure.worker_events import to_functions_event
from warden.runtime import Runtime

ACCOUNTS = 50  # echoes spread over this many accounts, as a tenant's own changes would be


#: Echoes built at a time for (a): the worker's objects for all N at once would be a live set no Functions host
#: holds, and the garbage collector's full passes over it would be timed as warden's.
CHUNK = 500


def _echoes(prefix: str, start: int, stop: int) -> list[dict[str, Any]]:
    return [
        write_event(account_id(f"echo-{i % ACCOUNTS:03d}"), event_id=f"{prefix}{i}", oid=WARDEN_OID)
        for i in range(start, stop)
    ]


def _traced(rt: Runtime, prefix: str) -> tuple[int, int]:
    """(trace records written for this run, echoes they account for): a record counts its echoes."""
    entries = [e for e in rt.audit.entries() if str(e.get("eventId", "")).startswith(prefix)]
    counted = 0
    for entry in entries:
        observed = entry.get("observed")
        echoes = observed.get("echoes") if isinstance(observed, dict) else None
        counted += echoes.get("count", 1) if isinstance(echoes, dict) else 1  # a record of its own counts one
    return len(entries), counted


def _warden_only(rt: Runtime, n: int) -> dict[str, Any]:
    """(a): the worker's objects built CHUNK at a time, untimed; the clock covers on_event and the final flush."""
    seconds = cpu = 0.0
    for start in range(0, n, CHUNK):
        events = [to_functions_event(event) for event in _echoes("echo-a-", start, min(n, start + CHUNK))]
        t0, c0 = time.perf_counter(), time.thread_time()
        for event in events:
            functions_host.on_event(event, rt)
        seconds, cpu = seconds + time.perf_counter() - t0, cpu + time.thread_time() - c0
    t0, c0 = time.perf_counter(), time.thread_time()
    flush(rt.audit)
    seconds, cpu = seconds + time.perf_counter() - t0, cpu + time.thread_time() - c0
    records, counted = _traced(rt, "echo-a-")
    return {"seconds": seconds, "cpu": cpu, "records": records, "counted": counted}


def _with_decode(rt: Runtime, n: int) -> dict[str, Any]:
    """(b): each raw event decoded by the worker's binding, then on_event, both timed (the raw events are built
    CHUNK at a time, untimed); then the final flush."""
    seconds = decode = 0.0
    for start in range(0, n, CHUNK):
        raw = _echoes("echo-b-", start, min(n, start + CHUNK))
        t0 = time.perf_counter()
        for item in raw:
            d0 = time.perf_counter()
            event = to_functions_event(item)
            decode += time.perf_counter() - d0
            functions_host.on_event(event, rt)
        seconds += time.perf_counter() - t0
    t0 = time.perf_counter()
    flush(rt.audit)
    seconds += time.perf_counter() - t0
    records, counted = _traced(rt, "echo-b-")
    return {"seconds": seconds, "decode": decode, "records": records, "counted": counted}


def _rate(rt: Runtime, n: int) -> dict[str, Any]:
    warden, full = _warden_only(rt, n), _with_decode(rt, n)
    return {
        "events": n,
        # (b): the worker's decode included, as the Functions host delivers an event.
        "seconds": round(full["seconds"], 3),
        "events_per_s": round(n / full["seconds"]),
        "with_worker_decode_events_per_s": round(n / full["seconds"]),
        "binding_decode_us_per_event": round(full["decode"] / n * 1e6, 1),
        # (a): warden's own code only (on_event + the final flush), the worker's decode done beforehand.
        "warden_seconds": round(warden["seconds"], 3),
        "on_event_us_per_event": round(warden["seconds"] / n * 1e6, 1),
        "function_only_events_per_s": round(n / warden["seconds"]),
        "warden_events_per_s": round(n / warden["seconds"]),
        # (a) again, on this thread's CPU time (time.thread_time): what the echoes cost, whatever else the
        # machine runs meanwhile (a shared machine's load stretches the wall-clock figures above).
        "warden_cpu_us_per_event": round(warden["cpu"] / n * 1e6, 1),
        "warden_cpu_events_per_s": round(n / warden["cpu"]) if warden["cpu"] else None,
        # Every echo of both runs accounted for by the trace; `trace_entries` is how many records that took.
        "trace_records": min(warden["counted"], full["counted"]),
        "trace_entries": warden["records"],
        "trace_entries_with_decode": full["records"],
    }


def measure_echo_rate(n: int = 20000) -> dict[str, Any]:
    """Echo throughput with the local sinks and with the blob sinks (Azurite), each (a) and (b)."""
    logging.getLogger("warden").setLevel(logging.WARNING)  # as in production: INFO is not collected per event
    resources = [account(f"echo-{i:03d}", **CLOSED) for i in range(ACCOUNTS)]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="warden-bench-echo-") as work, Emulator({"resources": resources}) as emu:
        out["local"] = _rate(make_runtime(emu, Path(work) / "local", baseline_text()), n)
        try:
            with azurite(Path(work)) as conn:
                state, audit = f"state-{uuid.uuid4().hex[:12]}", f"audit-{uuid.uuid4().hex[:12]}"
                for name in (state, audit):
                    ContainerClient.from_connection_string(conn, name).create_container()
                rt = make_runtime(emu, Path(work) / "blob", baseline_text())
                rt = dataclasses.replace(
                    rt,
                    state=BlobStateStore(ContainerClient.from_connection_string(conn, state)),
                    audit=BlobAuditLog(ContainerClient.from_connection_string(conn, audit)),
                )
                out["blob"] = _rate(rt, n)
        except AzuriteError as exc:
            raise SystemExit(f"bench: {exc}") from exc
        out["arm_requests"] = len(emu.requests)
    return out


def render(result: dict[str, Any]) -> Iterator[str]:
    yield (
        "8. Self-caused echoes (warden's own object id), sequential, through functions_host.on_event; "
        "(a) warden's code: on_event + the final trace flush, the worker's decode done beforehand; "
        "(b) with the Functions worker's binding decode (to_functions_event, the host's code) per event"
    )
    for sinks, label in (("local", "local audit log + state folder"), ("blob", "blob audit + blob state (Azurite)")):
        r = result[sinks]
        yield (
            f"   {label:<36} (a) {r['warden_events_per_s']:>7,} events/s ({r['on_event_us_per_event']:.1f} µs per "
            f"echo; CPU {r['warden_cpu_us_per_event']:.1f} µs = {r['warden_cpu_events_per_s']:,}/s)   "
            f"(b) {r['with_worker_decode_events_per_s']:>6,} events/s (decode "
            f"{r['binding_decode_us_per_event']:.0f} µs per echo); {r['events']:,} echoes each, all "
            f"{r['trace_records']:,} in the trace, as {r['trace_entries']:,} records"
        )
    yield f"   ARM requests: {result['arm_requests']} (must be 0)"


if __name__ == "__main__":
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    for line in render(measure_echo_rate(count)):
        print(line)

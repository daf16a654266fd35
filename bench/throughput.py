"""Section 2 (and the memory part of 4): sequential event throughput and latency, and a sweep of the tenant.

Events: N write events over a tenant of M accounts (30% drifted), event i names account i mod M, every
fourth one in the CloudEvents schema, all delivered one after the other through `functions_host.on_event`.
An account is remediated on its first event and compliant afterwards, so the mix is reported with the
figures. Latency is per `on_event` call, decode included. `HttpProbe` splits it into time inside HTTP
calls (client side) and time in the emulator's handler, the rest being warden's pipeline plus the SDK.
"""

from __future__ import annotations

import gc
import math
import resource
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from bench.probes import runtime_probe, summary_ms
from bench.scale import GRAPH_PAGE_MAX, request_kind
from bench.world import REPO, baseline_text, is_drifted, tenant, world, write_event
from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account_id
from warden.model import Trigger
from warden.sweep import sweep

TRACE_FRAMES = 6  # enough frames to get from json/dict internals back to the code that asked for them

#: Requests a drifted account costs: read, PATCH (answered 200 Succeeded: not polled), verifying read.
PER_DRIFT = 3


def events_for(n: int, m: int) -> list[dict[str, Any]]:
    """The benchmark's event stream: round-robin over the tenant, one in four in the CloudEvents schema."""
    return [
        write_event(
            account_id(f"bench-{i % m:04d}"),
            event_id=f"bench-event-{i:06d}",
            schema="cloud" if i % 4 == 3 else "eventgrid",
        )
        for i in range(n)
    ]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_events(n: int, m: int, folder: Path) -> dict[str, Any]:
    """Deliver the stream sequentially; latency percentiles, throughput, requests and the time split."""
    events = events_for(n, m)
    latencies: list[float] = []
    by_cost: dict[int, list[float]] = {}
    rss_before = peak_rss_mb()
    with world(tenant(m), folder) as w, runtime_probe(w.runtime) as probe:
        started = time.perf_counter()
        for event in events:
            calls0 = probe.calls["http"]
            t0 = time.perf_counter()
            w.deliver(event)
            latencies.append(time.perf_counter() - t0)
            by_cost.setdefault(probe.calls["http"] - calls0, []).append(latencies[-1])
        wall = time.perf_counter() - started
        requests = w.requests()
        outcomes = Counter(str(e.get("outcome")) for e in w.runtime.audit.entries() if e.get("kind") != "intent")
    total, sec = sum(latencies), probe.seconds
    first_drifts = sum(1 for i in range(min(n, m)) if is_drifted(i))  # later events find them compliant
    return {
        "events": n,
        "accounts": m,
        "drifted_accounts": sum(1 for i in range(m) if is_drifted(i)),
        "wall_s": round(wall, 3),
        "events_per_s": round(n / total, 1),
        "latency_ms": summary_ms(latencies),
        "first_event_ms": round(latencies[0] * 1000, 3),
        "latency_ms_by_requests": {str(k): summary_ms(v) for k, v in sorted(by_cost.items())},
        "requests": len(requests),
        "requests_sent_by_sdk": probe.calls["http"],
        "requests_per_event": round(len(requests) / n, 3),
        # A first-seen drift: read, PATCH, verifying read (PER_DRIFT).
        "ideal_requests": PER_DRIFT * first_drifts + (n - first_drifts),
        "ideal_patches": first_drifts,
        "requests_by_method": dict(Counter(r.method for r in requests)),
        "outcomes": dict(outcomes),
        "time_split_ms_per_event": _split(total, probe.seconds, n),
        "audit_appends": probe.calls["audit"],
        "http_round_trip_ms_per_request": round(sec["http"] / max(1, probe.calls["http"]) * 1000, 3),
        "audit_append_ms_per_call": round(sec["audit"] / max(1, probe.calls["audit"]) * 1000, 3),
        "peak_rss_mb_before": rss_before,
        "peak_rss_mb_after": peak_rss_mb(),
        "audit_dir": str(folder / "audit"),
    }


def _split(total: float, seconds: dict[str, float], n: int) -> dict[str, float]:
    """Mean ms per event: HTTP round trips (emulator handler inside them), audit appends, state store, rest."""
    rest = total - seconds["http"] - seconds["audit"] - seconds["state"]
    parts = {
        "total": total,
        "http_round_trip": seconds["http"],
        "of_which_emulator_handler": seconds["emulator"],
        "audit_append": seconds["audit"],
        "state_store": seconds["state"],
        "rest_pipeline_sdk_locks_decode": rest,
    }
    return {k: round(v / n * 1000, 3) for k, v in parts.items()}


def _owner(frames: tracemalloc.Traceback) -> str:
    """Who allocated: the innermost frame outside the standard library names a repository folder or package."""
    owners = [_owner_of(f.filename) for f in reversed(frames)]  # most recent call first
    return next((o for o in owners if o != "stdlib"), "stdlib")


def _owner_of(filename: str) -> str:
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if path.is_relative_to(REPO) and not path.is_relative_to(REPO / ".venv"):
        return path.relative_to(REPO).parts[0].removesuffix(".py")
    return "stdlib"


def run_traced(n: int, m: int, folder: Path) -> dict[str, Any]:
    """The same stream again on a fresh tenant, under tracemalloc (slower, so it is not the timed run).

    The emulator runs in this process, so its allocations (its request log above all) are counted too;
    what is still allocated after the run is attributed to the innermost non-stdlib frame that allocated it."""
    events = events_for(n, m)
    with world(tenant(m), folder) as w:
        w.deliver(events[0])  # connections, clients and lazy imports are set up before tracing starts
        gc.collect()
        tracemalloc.start(TRACE_FRAMES)
        try:
            start, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for event in events[1:]:
                w.deliver(event)
            _, peak = tracemalloc.get_traced_memory()
            gc.collect()  # cyclic garbage (SDK responses) is not retained memory
            current, _ = tracemalloc.get_traced_memory()
            snapshot = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    retained: Counter[str] = Counter()
    for stat in snapshot.statistics("traceback"):
        retained[_owner(stat.traceback)] += stat.size
    kib, mib = 1024, 1024 * 1024
    return {
        "events": n,
        "traced_peak_mib": round((peak - start) / mib, 2),
        "retained_after_run_mib": round((current - start) / mib, 2),
        "retained_per_event_kib": round((current - start) / max(1, n - 1) / kib, 2),
        "retained_kib_by_owner": {k: round(v / kib, 1) for k, v in retained.most_common(6)},
    }


def sweep_ideal(drifted: int) -> dict[str, int]:
    """What a sweep should send, by kind (bench/scale.request_kind): the Resource Graph pages of its candidates
    (the query pushes each control's drift condition down, so candidates are the drifted accounts; at least one
    page), then per drifted account the re-read, the PATCH and the verifying read. Compliant accounts cost
    nothing; a list page, a poll or any other request is not in the ideal."""
    ideal = {"graph POST": max(1, math.ceil(drifted / GRAPH_PAGE_MAX))}
    if drifted:
        ideal |= {"account GET": 2 * drifted, "account PATCH": drifted}
    return ideal


def run_sweep(m: int, folder: Path) -> dict[str, Any]:
    """One sweep over a fresh tenant of M accounts (per-run cap raised above M so nothing is blocked)."""
    with world(tenant(m), folder, baseline=baseline_text(max_actions=m + 1)) as w, runtime_probe(w.runtime) as probe:
        started = time.perf_counter()
        report = sweep(w.runtime, trigger=Trigger.BENCH_SWEEP)
        seconds = time.perf_counter() - started
        requests = w.requests()
    drifted = sum(1 for i in range(m) if is_drifted(i))
    kinds = Counter(request_kind(r.method, r.path) for r in requests)
    ideal = sweep_ideal(drifted)
    return {
        "subscription": SUB,
        "accounts": m,
        "accounts_found": report.accounts,
        "source": report.source,
        "drifted_accounts": drifted,
        "seconds": round(seconds, 3),
        "accounts_per_s": round(m / seconds, 1),
        "requests": len(requests),
        "requests_per_account": round(len(requests) / m, 3),
        "requests_by_method": dict(Counter(r.method for r in requests)),
        "requests_by_kind": dict(sorted(kinds.items())),
        "pages": kinds["graph POST"] + kinds["list GET"],
        "ideal_requests": sum(ideal.values()),
        "ideal_by_kind": ideal,
        "outcomes": report.outcomes,
        "errors": len(report.errors),
        "time_split_s": {k: round(v, 3) for k, v in probe.seconds.items()},
    }

"""Time-to-compliant of one drifted-account event when ARM runs the PATCH as a long-running operation, against
the requests that protocol makes necessary, with injected latency on every request.

`python -m bench.lro [--latency-ms 50 0] [--runs 5] [--mode async sync] [--json]`. Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.world import OPEN, baseline_text, make_runtime, write_event
from emulator import Emulator, RecordedRequest
from emulator.builders import account, account_id
from warden.azure import functions_host
from warden.azure.worker_events import to_functions_event

#: warden's own setting for the bench (bench/world.make_runtime): polling_interval=0, so the SDK waits between
#: polls only as long as ARM's hint says (the emulator sends retry-after-ms: 10 with a running operation).
POLLING_INTERVAL_S = 0.0
#: Enough firings of the latency fault for every request of a run.
FOREVER = 10**9


def _label(r: RecordedRequest) -> str:
    return f"{r.method} {'(operation monitor)' if r.kind == 'operation-status' else r.path}"


def necessary(requests: Sequence[RecordedRequest], target: str) -> list[str]:
    """What the protocol needs, from what was sent: the read, the PATCH, each poll of its operation up to the
    terminal status, and one read of the resource after it (async: the poller's final GET, which warden uses as
    its verifying read; sync: a 200 showing Succeeded is not polled, and warden's own GET verifies)."""
    target = target.lower()
    polls = [r for r in requests if r.kind == "operation-status"]
    return [f"GET {target}", f"PATCH {target}", *(_label(p) for p in polls), f"GET {target}"]


def _deliver_timed(emu: Emulator, rt: Any, event: dict[str, Any]) -> tuple[float, list[RecordedRequest]]:
    decoded = to_functions_event(event)  # decoded by the worker before the function runs: not timed
    emu.clear_requests()
    started = time.perf_counter()
    functions_host.on_event(decoded, rt)
    took = time.perf_counter() - started
    return took, list(emu.requests)


def measure(latency_ms: float, runs: int, folder: Path, mode: str = "async") -> dict[str, Any]:
    """`runs` drifted accounts, one event each, after a warm-up event (TLS handshake, first imports)."""
    names = [f"lro-{i}" for i in range(runs)]
    resources = [account("warm", publicNetworkAccess="Disabled"), *(account(n, **OPEN) for n in names)]
    times: list[float] = []
    sequences: list[list[str]] = []
    first: list[RecordedRequest] = []
    needed: list[list[str]] = []
    outcomes: list[list[str]] = []
    with Emulator({"resources": resources}) as emu:
        emu.set_lro_mode(mode, 0.0)  # the operation is due at once: the first poll finds it finished
        # One control (network.public-access), no cooldown: each drifted account costs exactly one PATCH.
        rt = make_runtime(emu, folder, baseline_text())
        if latency_ms:
            emu.add_fault("*", ".*", "latency", count=FOREVER, delay=latency_ms / 1000)
        _deliver_timed(emu, rt, write_event(account_id("warm"), event_id="warm-up"))
        for i, name in enumerate(names):
            target = account_id(name)
            before = len(list(rt.audit.entries()))
            took, requests = _deliver_timed(emu, rt, write_event(target, event_id=f"lro-{i}"))
            times.append(took)
            first = first or requests
            # Each run has its own account: compare the sequences with the account's id left out.
            sequences.append([_label(r).replace(r.path, "<account>") for r in requests])
            needed.append(necessary(requests, target))
            outcomes.append([str(e.get("outcome")) for e in list(rt.audit.entries())[before:] if e.get("outcome")])
    median = statistics.median(times)
    n_needed = len(needed[0])
    ideal = n_needed * latency_ms / 1000
    return {
        "mode": mode,
        "latency_ms": latency_ms,
        "polling_interval_s": POLLING_INTERVAL_S,
        "runs": runs,
        "time_to_compliant_ms": {
            "median": round(median * 1000, 1),
            "min": round(min(times) * 1000, 1),
            "max": round(max(times) * 1000, 1),
        },
        "requests": [_label(r) for r in first],
        "requests_made": len(sequences[0]),
        "necessary": needed[0],
        "necessary_requests": n_needed,
        "same_sequence_every_run": all(s == sequences[0] for s in sequences),
        "outcomes": outcomes[0],
        "ratio": round(median / ideal, 3) if ideal else None,
    }


def report(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        f"{'mode':6} {'latency':>8} {'time-to-compliant (median)':>27} {'requests':>9} {'necessary':>10} {'ratio':>6}"
    ]
    for r in results:
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else "n/a"
        lines.append(
            f"{r['mode']:6} {r['latency_ms']:>6.0f}ms {r['time_to_compliant_ms']['median']:>25.1f}ms "
            f"{r['requests_made']:>9} {r['necessary_requests']:>10} {ratio:>6}"
        )
    for r in results:
        lines.append(f"\n{r['mode']} at {r['latency_ms']:.0f} ms, outcomes {r['outcomes']}:")
        lines += [f"   {label}" for label in r["requests"]]
        extra = len(r["requests"]) - r["necessary_requests"]
        lines.append(f"   necessary: {r['necessary_requests']} (above it: {extra})")
    lines.append(
        f"\npolling_interval={POLLING_INTERVAL_S} (no sleep of warden's own between polls; the SDK still honours "
        "the emulator's retry-after-ms: 10 on a running operation). Ratio = median time / (necessary x latency)."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.lro", description=__doc__.splitlines()[0])
    p.add_argument("--latency-ms", type=float, nargs="+", default=[50.0, 0.0])
    p.add_argument("--runs", type=int, default=5, help="drifted events per figure (the median is reported)")
    p.add_argument("--mode", nargs="+", default=["async"], choices=["async", "sync"])
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="warden-bench-lro-") as tmp:
        for mode in args.mode:
            for latency in args.latency_ms:
                results.append(measure(latency, args.runs, Path(tmp) / f"{mode}-{latency:g}", mode))
    print(json.dumps(results, indent=2) if args.json else report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

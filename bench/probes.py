"""Timers around the costly steps of an event, so a run can tell pipeline time from emulator round trips.

A `Probe` wraps callables for the duration of a `with` block, in this process only: the transport that
azure-core's `RequestsTransport` sends through (`requests.adapters.HTTPAdapter.send`: one call per HTTP
request, TLS and socket included), the emulator's request handler (`emulator.kernel.world.World.serve`:
routing and state, no socket), and the Runtime's audit log and state store. Nothing is changed on disk; a wrapper adds
about a microsecond per call.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import requests.adapters

from emulator.kernel.world import World
from warden.runtime import Runtime


class Probe:
    """Sums the calls and seconds of wrapped callables into named buckets while the `with` block runs."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: dict[str, float] = {}
        self._targets: list[tuple[Any, str, str]] = []
        self._saved: list[tuple[Any, str, Any, bool]] = []

    def add(self, owner: Any, name: str, bucket: str) -> Probe:
        """Time `owner.name` (a class, module or instance attribute) into `bucket`; call before entering."""
        self._targets.append((owner, name, bucket))
        return self

    def _wrap(self, owner: Any, name: str, bucket: str) -> None:
        original = getattr(owner, name)
        own = name in getattr(owner, "__dict__", {})
        self.seconds.setdefault(bucket, 0.0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[bucket] += time.perf_counter() - start
                self.calls[bucket] += 1

        # A class attribute is saved as found in the class dict, so a function stays a function.
        self._saved.append((owner, name, owner.__dict__[name] if own else None, own))
        setattr(owner, name, timed)

    def __enter__(self) -> Probe:
        for owner, name, bucket in self._targets:
            self._wrap(owner, name, bucket)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for owner, name, original, own in reversed(self._saved):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)  # an instance attribute shadowed the class's method: drop the shadow
        self._saved.clear()


def http_probe() -> Probe:
    """SDK-side HTTP round trips (`http`) and the emulator's handler (`emulator`)."""
    return Probe().add(requests.adapters.HTTPAdapter, "send", "http").add(World, "serve", "emulator")


def runtime_probe(rt: Runtime) -> Probe:
    """`http_probe` plus the Runtime's audit appends (`audit`, fsync included) and state-store calls (`state`)."""
    probe = http_probe().add(rt.audit, "append", "audit")
    for name in ("is_done", "mark_done", "history", "record_attempt"):
        probe.add(rt.state, name, "state")
    return probe


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100) of `values`; 0.0 for an empty sequence."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of durations given in seconds, in milliseconds (3 decimals)."""
    if not seconds:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    return {
        "n": len(seconds),
        "p50": round(percentile(seconds, 50) * 1000, 3),
        "p95": round(percentile(seconds, 95) * 1000, 3),
        "p99": round(percentile(seconds, 99) * 1000, 3),
        "max": round(max(seconds) * 1000, 3),
        "mean": round(statistics.fmean(seconds) * 1000, 3),
    }

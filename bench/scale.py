"""Tenant scale: warden's sweep against the list-every-page scanner (bench/scanner.py) over one emulated tenant
of N Azure OpenAI accounts in 50 subscriptions, 10% drifted, at 0 and 20 ms injected latency per request.

Every case runs in a fresh child process (bench/scale_child.py) against a fresh emulator in another process
(`python -m emulator --latency-ms --requests-out`), so wall time, peak RSS and the request log are the case's.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.startup import REPO, process_wall
from emulator.builders import account

SUBSCRIPTIONS = 50
DRIFT_EVERY = 10  # one account in ten is drifted
LIST_PAGE = 100  # the emulator's list page size (emulator/arm/options.py, the scenario does not change it)
#: Rows per Resource Graph page at most (`$top` 1..1000: tests/fixtures/reference/resourcegraph/2024-04-01/
#: resourcegraph.json); warden asks for the most, so the fewest pages.
GRAPH_PAGE_MAX = 1000
CASE_TIMEOUT_S = 900
_NS = uuid.UUID("5d0c1b0e-4b43-4c1e-9a51-77a1e0c0b11e")
#: Open to the internet (network.public-access drift); every other setting compliant.
OPEN: dict[str, Any] = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
CLOSED: dict[str, Any] = {"publicNetworkAccess": "Disabled"}
COMPLIANT: dict[str, Any] = {"disableLocalAuth": True, "restrictOutboundNetworkAccess": True}


def subscriptions(n: int) -> list[str]:
    """Up to 50 fixed subscription ids (fewer for a tenant smaller than 50, so none is empty)."""
    return [str(uuid.uuid5(_NS, f"sub-{i}")) for i in range(min(SUBSCRIPTIONS, n))]


def is_drifted(index: int) -> bool:
    return index % DRIFT_EVERY == 3


def scenario(n: int) -> dict[str, Any]:
    """N accounts, round-robin over the subscriptions, every tenth open; ARM rate limits out of the way."""
    subs, resources = subscriptions(n), []
    for i in range(n):
        sub, name = subs[i % len(subs)], f"aoai-{i:05d}"
        acct = account(name, **(OPEN if is_drifted(i) else CLOSED), **COMPLIANT)
        acct["id"] = (
            f"/subscriptions/{sub}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/{name}"
        )
        resources.append(acct)
    limits = {"reads": 10**9, "writes": 10**9}
    return {"resources": resources, "options": {"rateLimits": limits}}


def drifted_count(n: int) -> int:
    return sum(1 for i in range(n) if is_drifted(i))


def list_pages(n: int) -> int:
    """Pages a full listing of every subscription takes: each subscription holds ceil or floor of n/subs."""
    subs = len(subscriptions(n))
    sizes = [n // subs + (1 if i < n % subs else 0) for i in range(subs)]
    return sum(max(1, math.ceil(size / LIST_PAGE)) for size in sizes)


def request_kind(method: str, path: str) -> str:
    """Method + route: what the request checks count."""
    p = path.lower().rstrip("/")
    parts = p.split("/")
    if method == "POST" and p.endswith("/providers/microsoft.resourcegraph/resources"):
        return "graph POST"
    if "/operationstatuses/" in p or "/operationresults/" in p:
        return f"poll {method}"
    if p.endswith("/providers/microsoft.cognitiveservices/accounts"):
        return f"list {method}"
    if len(parts) == 9 and parts[6] == "microsoft.cognitiveservices" and parts[7] == "accounts":
        return f"account {method}"
    if p.endswith("/regeneratekey"):
        return f"regenerateKey {method}"
    return f"other {method}"


@contextmanager
def emulator_process(state: Path, latency_ms: float, requests_out: Path) -> Iterator[tuple[str, str]]:
    """`python -m emulator` serving `state` with `latency_ms` on every request; yields (endpoint, ca path);
    on exit it is stopped with SIGTERM, which writes its request log to `requests_out`."""
    cmd = [sys.executable, "-m", "emulator", "--state", str(state), "--requests-out", str(requests_out)]
    cmd += ["--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: dict[str, str] = {}
        assert proc.stdout is not None
        while "ca" not in lines:
            line = proc.stdout.readline()
            if not line:
                err = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"emulator did not start: {err.strip()[-500:]}")
            key, _, value = line.partition(": ")
            lines[key] = value.strip()
        yield lines["endpoint"], lines["ca"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_case(case: str, n: int, latency_ms: float, folder: Path) -> dict[str, Any]:
    """One case against a fresh emulator: the child's wall time, its own figures, the requests by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    state, subs_file, log = folder / "tenant.json", folder / "subscriptions.json", folder / "requests.jsonl"
    state.write_text(json.dumps(scenario(n)))
    subs_file.write_text(json.dumps(subscriptions(n)))
    with emulator_process(state, latency_ms, log) as (endpoint, ca):
        cmd = [sys.executable, "-m", "bench.scale_child", case, "--endpoint", endpoint, "--ca", ca]
        cmd += ["--subscriptions", str(subs_file), "--accounts", str(n), "--folder", str(folder / "warden")]
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=CASE_TIMEOUT_S, check=False)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{case} at {n} accounts failed: {done.stderr.strip()[-800:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    kinds: Counter[str] = Counter()
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            kinds[request_kind(entry["method"], entry["path"])] += 1
    return {
        "case": case,
        "accounts_in_tenant": n,
        "latency_ms": latency_ms,
        "wall_s": round(wall, 3),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()},
        "requests": sum(kinds.values()),
        "requests_by_kind": dict(sorted(kinds.items())),
    }


def plan(sizes: Sequence[int], latencies: Sequence[float], big: int | None) -> list[tuple[int, float]]:
    """(size, latency) pairs: every size at every latency, and the big size at 0 ms only."""
    pairs = [(n, lat) for n in sizes for lat in latencies]
    return [*pairs, (big, 0.0)] if big else pairs


def measure_scale(sizes: Sequence[int], latencies: Sequence[float], big: int | None, runs: int = 5) -> dict[str, Any]:
    """Every case at every planned (size, latency); `python -c pass` measured alongside, to subtract."""
    started = time.perf_counter()
    python_pass = process_wall("pass", runs)
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="warden-scale-") as tmp:
        for n, latency in plan(sizes, latencies, big):
            for case in ("warden-dry-run", "warden-enforce", "scanner-detect", "scanner-enforce"):
                row = run_case(case, n, latency, Path(tmp) / f"{case}-{n}-{latency:g}")
                row["net_s"] = round(max(row["wall_s"] - python_pass, 1e-3), 3)
                row["accounts_per_s"] = round(n / row["net_s"], 1)
                cases.append(row)
    return {
        "subscriptions": SUBSCRIPTIONS,
        "drifted_share": 1 / DRIFT_EVERY,
        "python_pass_s": round(python_pass, 3),
        "cases": cases,
        "ratios": speedups(cases),
        "growth": growth(cases),
        "seconds": round(time.perf_counter() - started, 1),
    }


def find(cases: Sequence[dict[str, Any]], case: str, n: int, latency: float) -> dict[str, Any] | None:
    return next(
        (c for c in cases if c["case"] == case and c["accounts_in_tenant"] == n and c["latency_ms"] == latency), None
    )


def speedups(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scanner time ÷ warden time, for detection (dry-run) and enforcement, at each size and latency."""
    rows = []
    for n, latency in sorted({(c["accounts_in_tenant"], c["latency_ms"]) for c in cases}):
        row: dict[str, Any] = {"accounts": n, "latency_ms": latency}
        for name, scanner, warden in (
            ("detect", "scanner-detect", "warden-dry-run"),
            ("enforce", "scanner-enforce", "warden-enforce"),
        ):
            s, w = find(cases, scanner, n, latency), find(cases, warden, n, latency)
            row[name] = round(s["net_s"] / w["net_s"], 2) if s and w else None
        rows.append(row)
    return rows


def growth(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """warden's sweep at 0 ms by size: ms and peak RSS KiB per account, and the ratio to the previous size."""
    rows: list[dict[str, Any]] = []
    for case in ("warden-dry-run", "warden-enforce"):
        prev: dict[str, Any] | None = None
        for c in sorted(
            (c for c in cases if c["case"] == case and c["latency_ms"] == 0), key=lambda c: c["accounts_in_tenant"]
        ):
            n = c["accounts_in_tenant"]
            row = {
                "case": case,
                "accounts": n,
                "net_s": c["net_s"],
                "ms_per_account": round(c["net_s"] * 1000 / n, 4),
                "peak_rss_mb": c["peak_rss_mb"],
                "time_per_account_vs_previous": None,
                "marginal_rss_kib_per_account": None,
            }
            if prev is not None:
                row["time_per_account_vs_previous"] = round(row["ms_per_account"] / prev["ms_per_account"], 3)
                extra = (c["peak_rss_mb"] - prev["peak_rss_mb"]) * 1024
                row["marginal_rss_kib_per_account"] = round(extra / (n - prev["accounts"]), 3)
            rows.append(row)
            prev = row
    return rows


def _check(name: str, expected: Any, measured: Any, ok: bool | None = None) -> dict[str, Any]:
    return {"name": name, "expected": expected, "measured": measured, "ok": expected == measured if ok is None else ok}


def checks(scale: dict[str, Any]) -> list[dict[str, Any]]:
    """Deterministic counts per case. warden's enforce sweep: exactly one Resource Graph page per 1,000 candidates
    (the drifted accounts: the query carries each control's drift condition) + GET, PATCH and verifying GET per
    drifted account, by kind, so one extra page, list call, GET or poll fails it; the scanner: every list page."""
    out = []
    for c in scale["cases"]:
        n, lat = c["accounts_in_tenant"], c["latency_ms"]
        drifted, kinds = drifted_count(n), c["requests_by_kind"]
        at = f"{c['case']} {n} @ {lat:g} ms"
        if c["case"] == "warden-enforce":
            # Every kind the sweep sent must be here with its exact count: an extra page, list call, GET or any
            # other request makes the two differ.
            ideal = {
                "account GET": 2 * drifted,
                "account PATCH": drifted,
                "graph POST": max(1, math.ceil(drifted / GRAPH_PAGE_MAX)),
            }
            out.append(_check(f"scale: {at}: requests by kind (pages + 3 x drifted)", ideal, kinds))
            out.append(_check(f"scale: {at}: remediated", drifted, c["outcomes"].get("remediated", 0)))
        elif c["case"] == "warden-dry-run":
            out.append(_check(f"scale: {at}: PATCHes", 0, kinds.get("account PATCH", 0)))
            out.append(_check(f"scale: {at}: would-remediate", drifted, c["outcomes"].get("would-remediate", 0)))
        else:
            pages = list_pages(n)
            out.append(_check(f"scale: {at}: list pages", pages, kinds.get("list GET", 0)))
            out.append(_check(f"scale: {at}: drifted found", drifted, c["drifted"]))
            patches = drifted if c["case"] == "scanner-enforce" else 0
            out.append(_check(f"scale: {at}: PATCHes", patches, kinds.get("account PATCH", 0)))
    return out

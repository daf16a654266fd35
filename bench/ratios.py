"""Section 5 and the exit status: the ratios that matter, and the count checks that make the run fail.

Each ratio is `{"name", "value", "shown"}`: a number for --json and the text the report prints. A check
compares a deterministic count (requests, PATCHes, an audit chain that verifies) with its ideal.
"""

from __future__ import annotations

from typing import Any


def _row(name: str, value: float | None, shown: str) -> dict[str, Any]:
    return {"name": name, "value": None if value is None else round(value, 4), "shown": shown}


def _of(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def ratios(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Ratios over the sections present in `result` (calls, events and sweep always are)."""
    calls, ev, sw = result["calls"]["ratios"], result["events"], result["sweep"]
    split = ev["time_split_ms_per_event"]
    total = split["total"]
    per_drift = calls["requests_per_drifted_event"]
    ev_ratio, sw_ratio = _of(ev["requests"], ev["ideal_requests"]), _of(sw["requests"], sw["ideal_requests"])
    ms_per_account = _of(1000, sw["accounts_per_s"])
    rows = [
        _row(
            f"requests per drifted event (ideal {calls['requests_per_drifted_event_ideal']})",
            per_drift,
            f"{per_drift:.2f}",
        ),
        _row(
            "PATCHes per duplicate pair (ideal 1)",
            calls["patches_per_duplicate_pair"],
            str(calls["patches_per_duplicate_pair"]),
        ),
        _row(
            "event run: requests / expected (3 per first-seen drift, else 1)",
            ev_ratio,
            f"{ev['requests']} / {ev['ideal_requests']} = {ev_ratio:.3f}",
        ),
        _row(
            "sweep: requests / expected (graph pages + 3 per drift)",
            sw_ratio,
            f"{sw['requests']} / {sw['ideal_requests']} = {sw_ratio:.3f}",
        ),
        _row(
            "sweep ms per account / event ms per event",
            _of(ms_per_account, total),
            f"{ms_per_account:.2f} / {total:.2f} ms = {_of(ms_per_account, total):.2f}",
        ),
    ]
    shares = (
        ("per event: HTTP round trips (emulator) / total", split["http_round_trip"], total),
        (
            "per event: emulator handler / HTTP round trips",
            split["of_which_emulator_handler"],
            split["http_round_trip"],
        ),
        ("per event: audit appends / total", split["audit_append"], total),
        ("per event: warden outside HTTP (audit+state+pipeline) / total", total - split["http_round_trip"], total),
    )
    rows += [_row(name, _of(part, whole), f"{_of(part, whole):.1%}") for name, part, whole in shares]
    by = ev["latency_ms_by_requests"]
    if "1" in by and "3" in by:
        p50_1, p50_3 = by["1"]["p50"], by["3"]["p50"]
        shown = f"{p50_3:.2f} / {p50_1:.2f} ms = {_of(p50_3, p50_1):.2f}x"
        rows.append(_row("drifted vs compliant event latency (p50)", _of(p50_3, p50_1), shown))
    if "audit" in result:
        per_event = _of(result["audit"]["event_run_log"]["bytes"], ev["events"])
        rows.append(_row("audit bytes per event (event run)", per_event, f"{per_event:.0f}"))
    if "startup" in result:
        ms = {r["what"]: r["median_ms"] for r in result["startup"]["rows"]}
        kept = ms["import azure.identity + azure.storage.blob (after function_app)"]
        app = ms["import function_app"]
        shown = f"{kept:.0f} ms deferred vs {app:.0f} ms imported ({_of(kept, app):.0%} more if eager)"
        rows.append(_row("cold start kept out of `import function_app` (identity + blob)", kept, shown))
    return rows


def _check(name: str, expected: Any, measured: Any) -> dict[str, Any]:
    return {"name": name, "expected": expected, "measured": measured, "ok": expected == measured}


def checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every deterministic count against its ideal; a failed check makes bench/run.py exit 1."""
    out = [
        _check(f"calls: {c['name']}", c["expected"], c["measured"] if c["paths_ok"] else "request to another path")
        for c in result["calls"]["cases"]
    ]
    out.append(_check("PATCHes per duplicate pair", 1, result["calls"]["ratios"]["patches_per_duplicate_pair"]))
    ev, sw = result["events"], result["sweep"]
    out.append(_check("event run: requests", ev["ideal_requests"], ev["requests"]))
    out.append(_check("event run: PATCHes", ev["ideal_patches"], ev["requests_by_method"].get("PATCH", 0)))
    out.append(
        _check(
            "sweep: requests by kind (graph pages + GET, PATCH, GET per drift)",
            sw["ideal_by_kind"],
            sw["requests_by_kind"],
        )
    )
    out.append(_check("sweep: PATCHes", sw["drifted_accounts"], sw["requests_by_method"].get("PATCH", 0)))
    if "audit" in result:
        verified = result["audit"]["verify_event_run_log"]["ok"]
        out.append(_check("audit chain of the event run verifies", True, verified))
    for shape in result.get("audit_contention", {}).get("shapes", []):
        out.append(_check(f"blob audit, {shape['shape']}: batches lost", 0, shape["batches_lost"]))
        out.append(_check(f"blob audit, {shape['shape']}: chain verifies", True, shape["verify_ok"]))
    out += _event_path_checks(result)
    if "scale" in result:
        from bench.scale import checks as scale_checks

        out += scale_checks(result["scale"])
    return out


#: ARM requests per Storage-trips class (default sync mode): drifted GET + PATCH + verifying GET, compliant GET.
ARM_PER_CLASS = {"drifted": 3, "compliant": 1, "echo": 0}


def _event_path_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The deterministic counts of the event-path sections: ARM requests per class, echoes that call ARM or lose
    their trace record, the async LRO's requests against what the protocol needs."""
    out = []
    for cls, figures in result.get("storage_trips", {}).get("classes", {}).items():
        out.append(_check(f"storage trips, {cls}: ARM requests", ARM_PER_CLASS[cls.split()[0]], len(figures["arm"])))
    if "echo_rate" in result:
        echo = result["echo_rate"]
        out.append(_check("echo rate: ARM requests", 0, echo["arm_requests"]))
        for sinks in ("local", "blob"):
            out.append(
                _check(f"echo rate, {sinks} sinks: trace records", echo[sinks]["events"], echo[sinks]["trace_records"])
            )
    if "lro" in result:
        lro = result["lro"]
        out.append(_check("LRO async: requests / necessary", lro["necessary_requests"], lro["requests_made"]))
        out.append(_check("LRO async: necessary requests (GET, PATCH, poll, final GET)", 4, lro["necessary_requests"]))
        out.append(_check("LRO async: same sequence every run", True, lro["same_sequence_every_run"]))
        out.append(_check("LRO async: outcomes", ["remediated"], lro["outcomes"]))
    return out

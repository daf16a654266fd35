"""The human-readable report: one block per section, the ratios, the count checks (mismatches are loud), and
last the one table of goal | target | measured | ok (bench/goals.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bench import goals

RULE = "=" * 100


def _lat(s: Mapping[str, float]) -> str:
    return f"p50 {s['p50']:.2f}  p95 {s['p95']:.2f}  p99 {s['p99']:.2f}  max {s['max']:.2f}  mean {s['mean']:.2f} ms"


def _methods(seq: list[str]) -> str:
    return " + ".join(seq) if seq else "(none)"


def _calls(calls: Mapping[str, Any]) -> Iterator[str]:
    yield "1. Azure calls per event (emulator request log; deterministic, a difference fails the run)"
    yield f"   {'event class':<42} {'expected':<18} {'measured':<18} {'':<4} audit records"
    for case in calls["cases"]:
        flag = "ok" if case["ok"] else "FAIL"
        audit = ", ".join(case["audit"]) or "-"
        note = f"  ({case['note']})" if case["note"] else ""
        yield (
            f"   {case['name']:<42} {_methods(case['expected']):<18} {_methods(case['measured']):<18} "
            f"{flag:<4} {audit}{note}"
        )
        if not case["paths_ok"]:
            yield "      !!! a request went to another path than the event's account"


def _events(ev: Mapping[str, Any]) -> Iterator[str]:
    yield (
        f"2. Throughput and latency: {ev['events']} events, sequential, over {ev['accounts']} accounts "
        f"({ev['drifted_accounts']} drifted)"
    )
    yield f"   events/s            {ev['events_per_s']:.1f}   (wall {ev['wall_s']:.2f} s)"
    yield f"   latency, all        {_lat(ev['latency_ms'])}"
    for cost, stats in ev["latency_ms_by_requests"].items():
        label = {"1": "compliant (1 req)", "3": "drifted (3 req)"}.get(cost, f"{cost} requests")
        yield f"   {label:<19} {_lat(stats)}  n={stats['n']}"
    yield f"   first event         {ev['first_event_ms']:.2f} ms (TLS handshake, client construction)"
    methods = ", ".join(f"{k} {v}" for k, v in sorted(ev["requests_by_method"].items()))
    yield f"   requests            {ev['requests']} ({methods}); {ev['requests_per_event']:.3f} per event"
    yield f"   outcomes            {', '.join(f'{k} {v}' for k, v in sorted(ev['outcomes'].items()))}"
    split = ev["time_split_ms_per_event"]
    yield "   time per event (mean ms):"
    labels = {
        "total": "total",
        "http_round_trip": "HTTP round trips (SDK transport, TLS)",
        "of_which_emulator_handler": "  of which emulator handler",
        "audit_append": "audit appends (flock + fsync)",
        "state_store": "state store (done marker, history)",
        "rest_pipeline_sdk_locks_decode": "rest: pipeline, SDK, locks, decode",
    }
    for key, label in labels.items():
        share = split[key] / split["total"] * 100 if split["total"] else 0.0
        yield f"     {label:<40} {split[key]:7.3f}  {share:5.1f}%"
    yield (
        f"   per HTTP request {ev['http_round_trip_ms_per_request']:.3f} ms round trip; per audit append "
        f"{ev['audit_append_ms_per_call']:.3f} ms ({ev['audit_appends']} appends)"
    )


def _sweep(sw: Mapping[str, Any]) -> Iterator[str]:
    yield (
        f"   sweep of {sw['accounts']} accounts ({sw['drifted_accounts']} drifted), one run, via {sw['source']}: "
        f"{sw['accounts_found']} candidate(s) found"
    )
    yield f"     accounts/s        {sw['accounts_per_s']:.1f}   ({sw['seconds']:.2f} s)"
    kinds = ", ".join(f"{k} {v}" for k, v in sw["requests_by_kind"].items())
    ideal = ", ".join(f"{k} {v}" for k, v in sw["ideal_by_kind"].items())
    yield (
        f"     requests          {sw['requests']} ({kinds}); {sw['requests_per_account']:.3f} per account; "
        f"ideal {sw['ideal_requests']} ({ideal})"
    )
    yield f"     outcomes          {', '.join(f'{k} {v}' for k, v in sorted(sw['outcomes'].items()))}"
    split = ", ".join(f"{k} {v:.3f}" for k, v in sw["time_split_s"].items())
    yield f"     time in (s)       {split}"


def _audit(au: Mapping[str, Any]) -> Iterator[str]:
    log, app = au["event_run_log"], au["append"]
    yield "3. Audit log cost (LocalAuditLog)"
    kinds = ", ".join(f"{k} {v:.0f}" for k, v in log["bytes_per_record_by_kind"].items())
    yield (
        f"   bytes per record    {log['bytes_per_record']:.0f} avg over the event run's {log['records']} records "
        f"({kinds})"
    )
    yield f"   append, 1 record    {_lat(app['latency_ms'])}  ({app['appends']} appends, {app['appends_per_s']}/s)"
    yield (
        f"   CPU part            chain() {app['chain_only_us_per_record']:.0f} µs/record; one batch of "
        f"{app['batch_size']} records {app['batch_append_us_per_record']:.0f} µs/record (one fsync)"
    )
    for key, label in (("verify_event_run_log", "event run's log"), ("verify_large_log", "large log")):
        v = au[key]
        yield (
            f"   verify, {label:<15} {v['entries']} entries, ok={v['ok']}: {v['entries_per_s']:,} entries/s "
            f"read+verify, {v['verify_only_entries_per_s']:,}/s verify only"
        )


def _memory(result: Mapping[str, Any]) -> Iterator[str]:
    ev, tr, final_rss = result["events"], result["traced"], result["final_peak_rss_mb"]
    before_audit, big = result["peak_rss_mb_before_audit"], result["audit"]["append"]["batch_size"]
    yield "4. Memory and cold start"
    yield (
        f"   peak RSS            {ev['peak_rss_mb_before']:.1f} MiB before the event run, "
        f"{ev['peak_rss_mb_after']:.1f} MiB after it (whole process: the emulator runs in it too)"
    )
    owners = ", ".join(f"{k} {v:.0f}" for k, v in tr["retained_kib_by_owner"].items())
    yield (
        f"   peak RSS, end       {final_rss:.1f} MiB; {before_audit:.1f} MiB before section 3, which holds "
        f"{big:,} records and their parsed entries in lists"
    )
    yield (
        f"   tracemalloc         peak {tr['traced_peak_mib']:.2f} MiB above the start over {tr['events']} events; "
        f"retained {tr['retained_after_run_mib']:.2f} MiB ({tr['retained_per_event_kib']:.2f} KiB/event)"
    )
    yield f"   retained by owner   {owners} KiB (emulator = its request log)"


def _startup(st: Mapping[str, Any]) -> Iterator[str]:
    proc = st["process"]
    yield (
        f'   whole process (median of {proc["runs"]}): python -c "import function_app" '
        f"{proc['import_function_app_ms']:.0f} ms vs python -c pass {proc['python_pass_ms']:.0f} ms: "
        f"{proc['difference_ms']:.0f} ms more"
    )
    yield f"   cold start (fresh interpreters, median of {st['rows'][0]['runs']} runs, Python {st['python']}):"
    for row in st["rows"]:
        yield f"     {row['what']:<64} {row['median_ms']:7.1f} ms   ({row['modules_loaded']} modules loaded)"
    yield f"     `import function_app` loads {', '.join(st['function_app_loads'])}"
    yield f"     and defers {', '.join(st['function_app_defers'])} (imported only where used)"


def _lro(lro: Mapping[str, Any]) -> Iterator[str]:
    t = lro["time_to_compliant_ms"]
    yield (
        f"9. Time-to-compliant, one drifted-account event, ARM answering the PATCH 202 ({lro['mode']}), "
        f"{lro['latency_ms']:.0f} ms injected on every request"
    )
    yield (
        f"   median {t['median']:.1f} ms (min {t['min']:.1f}, max {t['max']:.1f}; {lro['runs']} events) vs "
        f"{lro['necessary_requests']} necessary x {lro['latency_ms']:.0f} ms = ratio {lro['ratio']:.3f}"
    )
    yield f"   requests: {lro['requests_made']} made, {lro['necessary_requests']} necessary; outcomes {lro['outcomes']}"
    for label in lro["requests"]:
        yield f"      {label}"


def _ratios(rows: list[dict[str, Any]]) -> Iterator[str]:
    yield "5. Ratios"
    for row in rows:
        yield f"   {row['name']:<66} {row['shown']}"


def _checks(checks: list[dict[str, Any]]) -> Iterator[str]:
    failed = [c for c in checks if not c["ok"]]
    yield f"Count checks: {len(checks) - len(failed)}/{len(checks)} as expected"
    for c in failed:
        yield f"   !!! MISMATCH: {c['name']}: expected {c['expected']}, measured {c['measured']}"


def render(result: Mapping[str, Any]) -> str:
    """The whole report as text; sections missing from `result` (skipped) are left out."""
    lines = [RULE, f"warden benchmark  ({result['config']})", RULE]
    if "calls" in result:
        lines += [*_calls(result["calls"]), ""]
    if "events" in result:
        lines += [*_events(result["events"]), *_sweep(result["sweep"]), ""]
    if "audit" in result:
        lines += [*_audit(result["audit"]), ""]
    if "audit_contention" in result:
        from bench.audit_contention import render as contention

        lines += [*contention(result["audit_contention"]), ""]
    if "traced" in result:
        lines += list(_memory(result))
    if "startup" in result:
        lines += list(_startup(result["startup"]))
    if "scale" in result:
        from bench.scale_report import render as scale

        lines += ["", *scale(result["scale"])]
    if "storage_trips" in result:
        from bench.storage_trips import render as trips

        lines += ["", *trips(result["storage_trips"])]
    if "echo_rate" in result:
        from bench.echo_rate import render as echoes

        lines += ["", *echoes(result["echo_rate"])]
    if "lro" in result:
        lines += ["", *_lro(result["lro"])]
    lines += ["", *_ratios(result["ratios"]), "", *_checks(result["checks"]), RULE]
    lines += ["Goals of issue 11", *goals.render(result["goals"])]
    if "quick=True" in result["config"]:
        lines.append(
            "(quick run: figures marked (quick run) or (at 1,000 accounts) come from the small sizes; "
            "run `make bench` for the issue's)"
        )
    lines.append(RULE)
    return "\n".join(lines)

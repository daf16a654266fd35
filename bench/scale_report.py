"""Section 6 of the report: the tenant-scale cases (bench/scale.py), the scanner ÷ warden ratios and growth."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_SHORT = {
    "graph POST": "graph",
    "list GET": "list",
    "account GET": "GET",
    "account PATCH": "PATCH",
    "poll GET": "poll",
}


def _kinds(kinds: Mapping[str, int]) -> str:
    return " ".join(f"{_SHORT.get(k, k)} {v}" for k, v in kinds.items()) or "-"


def render(scale: Mapping[str, Any]) -> Iterator[str]:
    yield (
        f"6. Tenant scale: {scale['subscriptions']} subscriptions, {scale['drifted_share']:.0%} drifted (public "
        "access open), emulator in its own process, every case a fresh child process"
    )
    yield (
        f"   wall = the child's whole process minus `python -c pass` ({scale['python_pass_s'] * 1000:.0f} ms); "
        "work = inside the child after its imports"
    )
    yield (
        f"   {'accounts':>8} {'lat':>5}  {'case':<16} {'wall s':>8} {'work s':>8} {'acct/s':>9} {'RSS MB':>7}  "
        "requests by kind"
    )
    for c in scale["cases"]:
        note = f"  !! {c['errors']} error(s): {c['first_error'][:80]}" if c.get("errors") else ""
        yield (
            f"   {c['accounts_in_tenant']:>8,} {c['latency_ms']:>3g}ms  {c['case']:<16} {c['net_s']:>8.2f} "
            f"{c['work_s']:>8.2f} {c['accounts_per_s']:>9,.0f} {c['peak_rss_mb']:>7.1f}  "
            f"{c['requests']:,} = {_kinds(c['requests_by_kind'])}{note}"
        )
    yield "   scanner time / warden time (higher is better for warden):"
    for r in scale["ratios"]:
        detect = "-" if r["detect"] is None else f"{r['detect']:.2f}x"
        enforce = "-" if r["enforce"] is None else f"{r['enforce']:.2f}x"
        yield f"     {r['accounts']:>8,} at {r['latency_ms']:g} ms: detection {detect:>8}   enforcement {enforce:>8}"
    if scale["growth"]:
        yield "   growth at 0 ms (warden): ms per account, peak RSS, time per account vs the previous size:"
    for g in scale["growth"]:
        step = "" if g["time_per_account_vs_previous"] is None else f"  x{g['time_per_account_vs_previous']:.2f}"
        marginal = g["marginal_rss_kib_per_account"]
        extra = "" if marginal is None else f", +{marginal:.2f} KiB RSS per added account"
        yield (
            f"     {g['case']:<16} {g['accounts']:>8,}: {g['ms_per_account']:.3f} ms/account, "
            f"{g['peak_rss_mb']:.0f} MB{step}{extra}"
        )
    yield f"   (section took {scale['seconds']} s)"

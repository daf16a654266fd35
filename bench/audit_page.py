"""The admin's pages on a large log (docs/review.md): 100,000 records over 30 days written through LocalAuditLog, then
the audit page (since 24h, 7d, 30d) and the report (7 days) built in-process as the routes build them, with the
entries each read; and the same 24h page reading the whole log, to show what the bounded read saves. With `--blob`,
the same log in BlobAuditLog's append blobs on Azurite (the deployed shape: every read is a download over HTTP,
started here and stopped at the end). Prints only.

    .venv/bin/python -m bench.audit_page [--records 100000] [--days 30] [--runs 3] [--dir FOLDER] [--blob]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emulator.builders import account_id
from warden.audit import AuditLog, LocalAuditLog
from warden.audit_page import PageQuery, render_audit_page
from warden.azure.admin_routes import build_audit_page
from warden.cli_log import since_time
from warden.model import AuditRecord, Decision, Json, Mode, Outcome, RecordKind, Trigger
from warden.posture import read_posture
from warden.report_html import render_report

#: The period's last instant: the pages are built "now" = END, so the figures do not depend on the clock.
END = datetime(2026, 12, 1, tzinfo=UTC)
SUBS = (
    "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c",
    "0b7e3d9a-1c5f-4e2b-8a6d-4f9c1e7b3a50",
    "3c9e1f7a-5b2d-4e8c-9a1f-6d3b7e2c4a10",
)
CONTROLS = ("network.public-access", "network.outbound", "identity.local-auth", "logging.diagnostics", "encryption.cmk")


def _records(rng: random.Random, at: datetime, n: int) -> list[AuditRecord]:
    """Records shaped like the pipeline's: mostly compliant evaluations, some dry-run findings, remediations
    (intent + result with change and steps), needs-human, exemptions and failures."""
    out: list[AuditRecord] = []
    while len(out) < n:
        i = rng.randrange(600)
        base: dict[str, Any] = {
            "time": at + timedelta(milliseconds=len(out)),
            "event_id": f"bench-{at:%Y%m%d%H}-{len(out)}",
            "resource_id": account_id(f"aoai-{i:03d}", sub=SUBS[i % 3]),
            "control_id": CONTROLS[rng.randrange(len(CONTROLS))],
            "mode": Mode.ENFORCE,
            "trigger": Trigger.BENCH_SWEEP,
        }
        change: dict[str, Json] = {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}}
        roll = rng.random()
        if roll < 0.80:
            out.append(AuditRecord(kind=RecordKind.EVALUATION, outcome=Outcome.COMPLIANT, **base))
        elif roll < 0.88:
            out.append(
                AuditRecord(
                    kind=RecordKind.DECISION,
                    decision=Decision.DRY_RUN,
                    outcome=Outcome.WOULD_REMEDIATE,
                    change=change,
                    **base,
                )
            )
        elif roll < 0.93:
            steps = ({"step": "account.patch", "target": base["resource_id"], "change": change, "status": "applied"},)
            out.append(AuditRecord(kind=RecordKind.INTENT, decision=Decision.ENFORCE, change=change, **base))
            out.append(
                AuditRecord(
                    kind=RecordKind.RESULT,
                    decision=Decision.ENFORCE,
                    outcome=Outcome.REMEDIATED,
                    change=change,
                    steps=steps,
                    **base,
                )
            )
        elif roll < 0.96:
            reason = "no automatic remediation for this drift: a human must fix it"
            out.append(
                AuditRecord(
                    kind=RecordKind.DECISION,
                    decision=Decision.NO_REMEDIATOR,
                    outcome=Outcome.NEEDS_HUMAN,
                    reason=reason,
                    **base,
                )
            )
        elif roll < 0.98:
            out.append(
                AuditRecord(
                    kind=RecordKind.DECISION,
                    decision=Decision.EXEMPT,
                    outcome=Outcome.EXEMPTED,
                    reason="exempt until 2027-01-01",
                    **base,
                )
            )
        else:
            out.append(
                AuditRecord(
                    kind=RecordKind.RESULT,
                    decision=Decision.ENFORCE,
                    outcome=Outcome.FAILED,
                    error="ARM answered 409",
                    **base,
                )
            )
    return out


def generate(audit: AuditLog, records: int, days: int, seed: int = 11) -> int:
    """`records` records spread evenly over `days` days ending at END, one append per simulated hour."""
    rng = random.Random(seed)
    hours = days * 24
    start = END - timedelta(hours=hours)
    written = 0
    for h in range(hours):
        want = records * (h + 1) // hours - written
        batch = _records(rng, start + timedelta(hours=h), want)[:want]
        audit.append(batch)
        written += len(batch)
    return written


class ReadAll:
    """The same log with `since` ignored: what every request would cost without the bounded read."""

    def __init__(self, inner: AuditLog) -> None:
        self._inner = inner

    def append(self, records: Sequence[AuditRecord]) -> None:
        self._inner.append(records)

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        return self._inner.entries()


def _best_ms(runs: int, build: Callable[[], tuple[str, int]]) -> tuple[float, float, int, int]:
    """(best ms, median ms, entries read, HTML bytes) over `runs` builds."""
    times, read, size = [], 0, 0
    for _ in range(runs):
        started = time.perf_counter()
        html, read = build()
        times.append((time.perf_counter() - started) * 1000)
        size = len(html.encode())
    return min(times), statistics.median(times), read, size


def measure(audit: AuditLog, runs: int) -> list[tuple[str, float, float, int, int]]:
    def page(log: AuditLog, since: str) -> Callable[[], tuple[str, int]]:
        def build() -> tuple[str, int]:
            view = build_audit_page(log, END, PageQuery(since=since), since_time(since, END))
            return render_audit_page(view), view.entries_read

        return build

    def report(days: int) -> Callable[[], tuple[str, int]]:
        def build() -> tuple[str, int]:
            posture = read_posture(audit, now=END, days=days)
            return render_report(posture), posture.entries_read

        return build

    cases = [(f"audit page since={s}", page(audit, s)) for s in ("24h", "7d", "30d")]
    cases += [("report days=7", report(7)), ("audit page since=24h, whole log read", page(ReadAll(audit), "24h"))]
    return [(name, *_best_ms(runs, build)) for name, build in cases]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/audit_page.py", description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--runs", type=int, default=3, help="builds per figure (best and median printed)")
    p.add_argument("--dir", type=Path, help="keep the generated log here (default: a temporary folder)")
    p.add_argument("--blob", action="store_true", help="the log in append blobs on Azurite instead of a folder")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warden-bench-page-") as tmp, contextlib.ExitStack() as stack:
        if args.blob:
            from emulator.azurite import azurite
            from warden.azure.audit_blob import from_settings

            conn = stack.enter_context(azurite(Path(tmp)))
            audit: AuditLog = from_settings(None, conn, "bench-audit-page", create_container=True)
            where = "BlobAuditLog on Azurite"
        else:
            folder = args.dir or Path(tmp) / "audit"
            audit, where = LocalAuditLog(folder), f"LocalAuditLog in {folder}"
        started = time.perf_counter()
        written = generate(audit, args.records, args.days)
        print(f"generated {written:,} records over {args.days} days in {time.perf_counter() - started:.1f} s ({where})")
        results = measure(audit, args.runs)
    print(f"{'case':<40} {'best ms':>9} {'median ms':>10} {'entries read':>13} {'HTML KB':>8}")
    for name, best, median, read, size in results:
        print(f"{name:<40} {best:>9.0f} {median:>10.0f} {read:>13,} {size / 1024:>8.0f}")
    bounded, unbounded = results[0], results[-1]
    print(
        f"read-all vs bounded (24h page): {unbounded[1] / bounded[1]:.1f}x the time, "
        f"{unbounded[3] / max(1, bounded[3]):.1f}x the entries read"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One case of the tenant-scale benchmark in a fresh interpreter (`python -m bench.scale_child CASE ...`), so its
wall time and peak RSS are its own: warden's sweep (dry-run or enforce) or the list-every-page scanner, against
an emulator that runs in another process. Prints one JSON line: work seconds, peak RSS and what it found.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CASES = ("warden-dry-run", "warden-enforce", "scanner-detect", "scanner-enforce")
WARDEN_OID = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"


def baseline_text(mode: str, subscriptions: Sequence[str], accounts: int) -> str:
    """The three account controls over every subscription, limits lifted above the tenant's size, no cooldown."""
    subs = "".join(f"    - {s}\n" for s in subscriptions)
    return (
        f"version: 1\nmode: {mode}\nscope:\n  subscriptions:\n{subs}"
        f"limits:\n  max_actions_per_run: {accounts + 1}\n  max_actions_per_hour: {10 * accounts + 1}\n"
        "  cooldown_seconds: 0\n"
        "controls:\n"
        "  network.public-access:\n    approved_ip_ranges: []\n"
        "  identity.local-auth:\n    regenerate_keys: true\n"
        "  network.outbound:\n    approved_fqdns: []\n"
    )


def _warden(args: argparse.Namespace, subscriptions: list[str]) -> dict[str, Any]:
    from warden.azure.wiring import build_runtime
    from warden.model import Trigger
    from warden.settings import Settings
    from warden.sweep import sweep

    mode = "enforce" if args.case == "warden-enforce" else "dry-run"
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "baseline.yaml"
    path.write_text(baseline_text(mode, subscriptions, args.accounts))
    started = time.perf_counter()
    settings = Settings(
        baseline_path=path,
        arm_endpoint=args.endpoint,
        arm_ca_bundle=args.ca,
        credential="static",
        self_object_ids=frozenset({WARDEN_OID}),
        audit_dir=folder / "audit",
        state_dir=folder / "state",
        polling_interval=0.0,
    )
    report = sweep(build_runtime(settings), trigger=Trigger.BENCH_SWEEP)
    return {
        "work_s": time.perf_counter() - started,
        "accounts": report.accounts,
        "outcomes": report.outcomes,
        "errors": len(report.errors),
        "first_error": report.errors[0][:300] if report.errors else "",
        "stopped": report.stopped,
    }


def _scanner(args: argparse.Namespace, subscriptions: list[str]) -> dict[str, Any]:
    from bench.scanner import scan

    started = time.perf_counter()
    report = scan(args.endpoint, args.ca, subscriptions, enforce=args.case == "scanner-enforce")
    return {
        "work_s": time.perf_counter() - started,
        "accounts": report.accounts,
        "drifted": report.drifted,
        "patched": report.patched,
        "by_rule": report.by_rule,
    }


def peak_rss_mb() -> float:
    """This process's own peak RSS. Linux keeps ru_maxrss across execve, so a child forked from the 90 MB bench
    process would report at least those 90 MB; VmHWM belongs to the address space exec made (KiB). Elsewhere
    ru_maxrss (KiB on Linux, bytes on macOS: only Linux is this benchmark's machine)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale_child", description=__doc__.splitlines()[0])
    p.add_argument("case", choices=CASES)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--subscriptions", type=Path, required=True, help="JSON list of subscription ids")
    p.add_argument("--accounts", type=int, required=True, help="accounts in the tenant (sets the lifted limits)")
    p.add_argument("--folder", type=Path, required=True, help="warden's local audit and state go here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    subscriptions = json.loads(args.subscriptions.read_text())
    out = _warden(args, subscriptions) if args.case.startswith("warden") else _scanner(args, subscriptions)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m warden`: replay events against the emulator, review and verify the audit log, check a baseline."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace

from warden import cli_infra, cli_log, cli_replay, cli_report
from warden.errors import WardenError
from warden.text import printable


def _check_baseline(args: argparse.Namespace) -> int:
    from warden.baseline import load_baseline
    from warden.baseline_exemptions import describe

    baseline = load_baseline(args.file)
    print(
        f"{printable(args.file)}: valid; mode {baseline.mode.value}, {len(baseline.subscriptions)} subscription(s), "
        f"{len(baseline.exemptions)} exemption(s)"
    )
    for i, exemption in enumerate(baseline.exemptions):  # what each switches off, where and until when
        print(f"  exemptions[{i}]: {printable(describe(exemption))}")
    return 0


def _controls(args: argparse.Namespace) -> int:
    """The implemented controls and the permissions each needs, from their declarations (the custom role)."""
    from detectors import CONTROLS
    from warden.registry import PERMISSIONS

    if args.json:
        doc = {"controls": {c.id: sorted(c.permissions) for c in CONTROLS}, "permissions": sorted(PERMISSIONS)}
        print(json.dumps(doc, indent=2))
        return 0
    for control in CONTROLS:
        print(f"{control.id}: {control.summary}")
        print(f"  parameters: {', '.join(control.parameters()) or '(none)'}")
        events = [r.operation + (f" (when {r.condition})" if r.condition else "") for r in control.routes]
        print(f"  events:     {', '.join(events) or '(none)'}")
        print(
            f"  sweep:      {'the data-plane sweep (WARDEN_DATA_SWEEP_SCHEDULE)' if control.data_plane else 'hourly'}"
        )
        print(f"  fix steps:  {', '.join(s.kind for s in control.steps)}")
        print(f"  needs:      {', '.join(sorted(control.permissions))}")
    print(f"\nwarden's identity needs, in all: {', '.join(sorted(PERMISSIONS))}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """Sweep the baseline's scope with the app settings from the environment (WARDEN_*), as the timer does."""
    from warden.azure.wiring import build_runtime
    from warden.model import Mode, Trigger
    from warden.progress import Progress
    from warden.settings import load_settings
    from warden.sweep import sweep

    settings = load_settings()
    if args.mode:
        settings = replace(settings, mode_override=Mode(args.mode))
    # On a terminal only (stderr): accounts judged and the rate; no ETA, as a query's total is not known ahead.
    progress = Progress("sweep", sys.stderr, unit="accounts")
    try:
        report = sweep(build_runtime(settings), trigger=Trigger.CLI_SWEEP, on_judged=progress.advance)
    finally:
        progress.finish()
    print(printable(report.summary()))
    for error in report.errors:
        print(f"error: {printable(error)}", file=sys.stderr)
    return 1 if report.errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warden", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_replay.register(sub)
    cli_log.register(sub)
    cli_report.register(sub)
    cli_infra.register(sub)
    controls = sub.add_parser("controls", help="list the controls, their parameters and the permissions they need")
    controls.add_argument(
        "--json",
        action="store_true",
        help="the permissions as JSON, per control (the custom role: `warden permissions`)",
    )
    controls.set_defaults(func=_controls)
    check = sub.add_parser("check-baseline", help="validate a baseline file and exit")
    check.add_argument("file")
    check.set_defaults(func=_check_baseline)
    sweep = sub.add_parser(
        "sweep", help="check every account in scope now, with the WARDEN_* settings of the environment"
    )
    sweep.add_argument("--mode", choices=["dry-run", "off", "enforce"], help="cap every control's mode")
    sweep.set_defaults(func=_sweep)
    try:
        from emulator.cli import register as register_emulator
    except ImportError:  # a deployed package has no emulator: the subcommand is for development only
        pass
    else:
        register_emulator(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except WardenError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)  # errors quote ids from events: escaped
        return 2

"""`warden` (or `python -m warden`): the admin CLI. Check a baseline, sweep, check a deployment (doctor), review the
audit log; replay events against the local emulator from a checkout (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace

from warden import cli_doctor, cli_help, cli_infra, cli_log, cli_replay, cli_report
from warden.errors import NoCredentialError, PermissionDeniedError, WardenError
from warden.exit_codes import PERMISSION_HINT, ExitCode, denied_line
from warden.text import printable


def _check_baseline(args: argparse.Namespace) -> int:
    """Every problem of the file at once, one per line with its file:line and a suggestion; exit 2 if any."""
    from warden.baseline import load_baseline
    from warden.baseline_exemptions import describe
    from warden.errors import BaselineError

    try:
        baseline = load_baseline(args.file)
    except BaselineError as exc:
        for problem in exc.problems:
            print(f"error: {printable(problem)}", file=sys.stderr)  # escaped: a key can carry control characters
        print(f"{printable(args.file)}: {len(exc.problems)} problem(s)", file=sys.stderr)
        return ExitCode.INPUT
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
    from warden.azure.credentials import who_am_i
    from warden.azure.wiring import build_credential, build_runtime
    from warden.baseline import load_baseline
    from warden.model import Mode, Trigger
    from warden.progress import Progress
    from warden.settings import load_settings
    from warden.sweep import sweep

    settings = load_settings()
    if args.mode:
        settings = replace(settings, mode_override=Mode(args.mode))
    load_baseline(settings.baseline_path)  # a bad file is exit 2 before anything signs in
    credential = build_credential(settings)
    # Before anything else: without a token every subscription would fail alike, and a summary would follow.
    who_am_i(credential, settings.arm_endpoint + "/.default")
    if not args.verbose:  # each failure is printed once, below, from the report: not also as a log line
        logging.getLogger("warden.sweep_run").setLevel(logging.ERROR)
    # On a terminal only (stderr): accounts judged and the rate; no ETA, as a query's total is not known ahead.
    progress = Progress("sweep", sys.stderr, unit="accounts")
    try:
        runtime = build_runtime(settings, credential=credential)
        report = sweep(runtime, trigger=Trigger.CLI_SWEEP, on_judged=progress.advance)
    finally:
        progress.finish()
    if not report.errors:
        print(printable(report.summary()))
        return ExitCode.OK
    for error in report.errors:
        print(f"error: {printable(error)}", file=sys.stderr)
    # The summary only as what it is: a partial count, next to the errors that made it partial.
    print(f"sweep incomplete ({len(report.errors)} error(s)): {printable(report.summary())}", file=sys.stderr)
    if report.denied:
        print(f"error: {printable(denied_line(report.denied[0]))}", file=sys.stderr)
        print(f"hint: {PERMISSION_HINT}", file=sys.stderr)
        return ExitCode.PERMISSION_DENIED
    return ExitCode.PROBLEMS


def _needs_checkout(args: argparse.Namespace) -> int:
    raise WardenError("warden emulator needs a warden checkout: the local emulator is development-only")


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
    check = sub.add_parser("check-baseline", help="validate a baseline file: every problem at once")
    check.add_argument("file")
    check.set_defaults(func=_check_baseline)
    sweep = sub.add_parser(
        "sweep", help="check every account in scope now, with the WARDEN_* settings of the environment"
    )
    sweep.add_argument("--mode", choices=["dry-run", "off", "enforce"], help="cap every control's mode")
    sweep.set_defaults(func=_sweep)
    cli_doctor.register(sub)
    try:
        from emulator.cli import register as register_emulator
    except ImportError:  # an installed CLI has no emulator: the subcommand is for development only
        stub = sub.add_parser("emulator", help="the local Azure emulator (needs a warden checkout)", add_help=False)
        stub.prefix_chars = "\0"  # takes whatever follows, so that every use gets the one line below
        stub.add_argument("rest", nargs="*")
        stub.set_defaults(func=_needs_checkout)
    else:
        register_emulator(sub)
    cli_help.finish(parser, sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:
        # DefaultAzureCredential logs every credential it tried, for every client that asks: NoCredentialError's
        # one line says what to do, and -v shows the chain.
        logging.getLogger("azure.identity").setLevel(logging.ERROR)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `warden log | head`: the reader has gone, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return ExitCode.OK
    except NoCredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.verbose and exc.detail:
            print(exc.detail, file=sys.stderr)
        return ExitCode.NO_CREDENTIAL
    except PermissionDeniedError as exc:
        print(f"error: {printable(denied_line(str(exc)))}", file=sys.stderr)
        print(f"hint: {PERMISSION_HINT}", file=sys.stderr)
        return ExitCode.PERMISSION_DENIED
    except (WardenError, OSError, ValueError) as exc:  # ValueError: a malformed URL or connection string
        print(f"error: {printable(exc)}", file=sys.stderr)  # errors quote ids from events: escaped
        if args.verbose and not isinstance(exc, WardenError):
            traceback.print_exc()
        return ExitCode.INPUT

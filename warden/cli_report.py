"""The `report` subcommand: the compliance posture of the last N days from the audit log, as terminal tables,
JSON, or one self-contained HTML file (docs/report.md).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from warden.cli_log import add_source, open_log, parse_since, positive_arg
from warden.posture import DEFAULT_DAYS, read_posture
from warden.report_html import render_report
from warden.report_text import format_posture, posture_json, totals_line
from warden.text import printable


def run_report(args: argparse.Namespace) -> int:
    """`warden report`: where each resource stands per control (the latest record in the window: --days or
    --since)."""
    audit = open_log(args)
    posture = read_posture(audit, now=datetime.now(UTC), days=args.days, since=args.since)
    if args.json:
        print(json.dumps(posture_json(posture), indent=2))
    elif args.html:
        path = Path(args.html)
        path.write_text(render_report(posture), encoding="utf-8")
        print(printable(path))
        print(totals_line(posture))
    else:
        print(format_posture(posture))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `report` subcommand; it sets `func(args) -> exit code`."""
    cmd = subparsers.add_parser(
        "report", help="the compliance posture per control and subscription, with its trend", description=__doc__
    )
    add_source(cmd)
    window = cmd.add_mutually_exclusive_group()
    window.add_argument(
        "--days",
        type=positive_arg,
        default=DEFAULT_DAYS,
        help=f"the window, in days back from now (default {DEFAULT_DAYS})",
    )
    window.add_argument(
        "--since", type=parse_since, help="the window's start instead: an age (24h, 36h, 2w) or an ISO-8601 time"
    )
    out = cmd.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the report as one JSON document")
    out.add_argument("--html", metavar="FILE", help="write a self-contained HTML report to FILE")
    cmd.set_defaults(func=run_report)

"""Command line for running the emulator alone: `python -m emulator` or `python -m warden emulator`.

It prints `endpoint:`, `vault:` (the Key Vault data plane), `openai:` (the Azure OpenAI data plane) and `ca:`
lines on stdout (never keys or state) and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .facade import Emulator

log = logging.getLogger(__name__)
_FOREVER = 2**62  # a fault count no run reaches


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", type=Path, help="scenario JSON file to load (default: empty state)")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--requests-out", type=Path, help="write the request log here (JSON lines) on exit")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay every request by this many milliseconds before it is served (a `latency` fault on every "
        "request, after the scenario's own faults; default 0)",
    )


def register(subparsers: Any) -> None:
    """Add the `emulator` subcommand to a parent parser's subparsers (the lead's `python -m warden`)."""
    parser = subparsers.add_parser("emulator", help="run the local Azure (ARM) emulator over HTTPS")
    add_arguments(parser)
    parser.set_defaults(func=run)


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM; SIGTERM is turned into a clean return so the finally-block runs."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def run(args: argparse.Namespace) -> int:
    scenario: dict[str, Any] = {}
    if args.state is not None:
        try:
            scenario = json.loads(Path(args.state).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            sys.stderr.write(f"emulator: cannot read scenario {args.state}: {err}\n")
            return 2
    try:
        emulator = Emulator(scenario, host=args.host, port=args.port)
    except ValueError as err:
        sys.stderr.write(f"emulator: invalid scenario {args.state}: {err}\n")
        return 2
    if args.latency_ms < 0:
        sys.stderr.write("emulator: --latency-ms must be >= 0\n")
        return 2
    if args.latency_ms:
        # One latency fault that never fires out: every request sleeps (on its own server thread) before it is
        # served. A scenario fault, armed first, takes precedence on the requests it matches.
        emulator.add_fault("*", "", "latency", count=_FOREVER, delay=args.latency_ms / 1000)
    with emulator:
        sys.stdout.write(
            f"endpoint: {emulator.endpoint}\nvault: {emulator.vault_endpoint}\nopenai: {emulator.openai_endpoint}\n"
            f"ca: {emulator.ca_path}\n"
        )
        sys.stdout.flush()
        _wait_for_stop()
        if args.requests_out is not None:
            emulator.write_requests(args.requests_out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Local Azure (ARM) emulator")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run(args)

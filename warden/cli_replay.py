"""`warden replay`: run a scenario and an event stream through the real code path against the emulator.

Admins use it to try a baseline before deploying; tests and benchmarks use it to count Azure calls.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warden.errors import TransientError, WardenError
from warden.model import Json, Mode, Trigger
from warden.progress import counted

if TYPE_CHECKING:
    from warden.progress import Progress


@dataclass
class ReplayResult:
    """What a replay produced: the audit entries, the emulator's requests and final state."""

    audit: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    rejected: int = 0  # items audited as rejected (malformed, or not decodable by the Functions worker)
    delivered: int = 0  # items handed to the Event Grid function body
    redelivery: list[str] = field(default_factory=list)  # events whose function raised: Event Grid would retry


def replay(
    scenario: Mapping[str, Any],
    events: str | bytes | Mapping[str, Json] | Sequence[Json],
    *,
    baseline_path: Path,
    work_dir: Path,
    audit_dir: Path | None = None,
    mode: Mode | None = None,
    self_object_ids: Sequence[str] = (),
    run_sweep: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ReplayResult:
    """Start the emulator with `scenario`, deliver `events` as the Functions worker would, return the trail.

    warden and the emulator share one clock: it starts at `now` (else at the scenario's `clock.now`, else the
    real time) and runs on from there, so audit times, cool-downs and the emulator's operations agree.
    `progress` is told the number of items, then of each one delivered (`warden replay` on a terminal)."""
    # Imported here: the emulator and the adapters are not needed by the other subcommands.
    from emulator import Emulator
    from emulator.kernel.clock import Clock
    from warden.azure import functions_host
    from warden.azure.event_raw import reduce_raw
    from warden.azure.eventgrid import RejectedEvent, event_id_of, event_items, parse_item
    from warden.azure.wiring import build_runtime
    from warden.azure.worker_events import to_functions_event
    from warden.errors import InvalidEventError
    from warden.service import record_rejected
    from warden.settings import Settings
    from warden.sweep import sweep

    items = event_items(events)  # an unusable payload fails before the emulator starts
    clock = Clock()
    with Emulator(scenario, clock=clock) as emu:
        if now is not None:
            clock.pin(now)  # --now wins over the scenario's own clock
        settings = Settings(
            baseline_path=baseline_path,
            arm_endpoint=emu.endpoint,
            arm_ca_bundle=emu.ca_path,
            vault_endpoint=emu.vault_endpoint,
            openai_endpoint=emu.openai_endpoint,
            credential="static",
            mode_override=mode,
            self_object_ids=frozenset(i.lower() for i in self_object_ids),
            audit_dir=audit_dir or work_dir / "audit",
            state_dir=work_dir / "state",
            polling_interval=0.0,
        )
        rt = build_runtime(settings, clock=clock.now)
        result = ReplayResult()
        # In stream order, one item at a time, so the audit trail interleaves as it would in Azure.
        for index, item in enumerate(counted(items, progress)):
            if not isinstance(item, Mapping):  # not an event at all: nothing the worker would hand over
                rejected = parse_item(item, index)
                assert isinstance(rejected, RejectedEvent)
                record_rejected(rt, rejected.event_id, rejected.message, rejected.raw)
                result.rejected += 1
                continue
            event_id = event_id_of(item)
            try:  # decoded by azure.functions, as the worker hands it to the Event Grid function
                worker_event = to_functions_event(item)
            except InvalidEventError as exc:
                # In Azure such an event never reaches warden (the subscription's dead-letter container has it).
                record_rejected(rt, event_id, f"event {index}: {exc}", reduce_raw(item))
                result.rejected += 1
                continue
            try:  # parsed once, by the Event Grid function's own path
                handled = functions_host.on_event(worker_event, rt)
            except TransientError as exc:
                # In Azure the function's failure makes Event Grid redeliver later; a replay notes it and goes on.
                result.delivered += 1
                result.redelivery.append(f"{event_id}: {exc}")
                continue
            if handled is None:
                result.rejected += 1
            else:
                result.delivered += 1
        if run_sweep:
            sweep(rt, trigger=Trigger.REPLAY_SWEEP)
        result.audit = list(rt.audit.entries())
        result.requests = [r.to_json() for r in emu.requests]
        result.state = _without_key_values(emu.dump_state())
        return result


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


#: `replay` runs warden against the local emulator, which only a checkout has (docs/deploy.md, the admin CLI).
NEEDS_CHECKOUT = "warden replay needs a warden checkout: the local emulator is development-only (`make demo` there)"


def _run(args: argparse.Namespace) -> int:
    import sys

    if importlib.util.find_spec("emulator") is None:
        raise WardenError(NEEDS_CHECKOUT)
    from warden.cli_log import format_table
    from warden.progress import Progress
    from warden.text import printable

    scenario = json.loads(Path(args.state).read_text())
    events = json.loads(Path(args.events).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The audit folder is this run's output: a previous run's chain must not be continued into it.
    shutil.rmtree(out / "audit", ignore_errors=True)
    progress = Progress("replay", sys.stderr, unit="events")  # on a terminal only: events, rate, ETA
    try:
        with tempfile.TemporaryDirectory(prefix="warden-replay-") as work:
            result = replay(
                scenario,
                events,
                baseline_path=Path(args.baseline),
                work_dir=Path(work),
                audit_dir=out / "audit",
                mode=Mode(args.mode) if args.mode else None,
                self_object_ids=args.self_object_id,
                run_sweep=args.sweep,
                now=args.now,
                progress=progress,
            )
    finally:
        progress.finish()
    _write_jsonl(out / "audit.jsonl", result.audit)
    _write_jsonl(out / "requests.jsonl", result.requests)
    (out / "state.json").write_text(json.dumps(result.state, indent=2) + "\n")
    print(format_table(result.audit))
    for note in result.redelivery:
        print(f"would be redelivered: {printable(note)}")  # the note quotes the event id: escaped
    writes = sum(1 for r in result.requests if r["method"] in ("PUT", "PATCH", "POST", "DELETE"))
    print(
        f"\n{len(result.audit)} audit records, {len(result.requests)} Azure requests ({writes} writes), "
        f"{result.delivered} event(s) delivered, {result.rejected} rejected, "
        f"{len(result.redelivery)} left for Event Grid to redeliver.\n"
        f"Written to {printable(out)}/: audit.jsonl, audit/ (review with `python -m warden log --dir "
        f"{printable(out)}/audit`), "
        "state.json, requests.jsonl"
    )
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("replay", help="replay events against the local emulator with a scenario")
    p.add_argument("--state", required=True, help="scenario JSON: the emulator's starting state")
    p.add_argument(
        "--events", required=True, help='Event Grid events: one object, an array or {"events": [...]}; both schemas'
    )
    p.add_argument("--out", required=True, help="folder for audit.jsonl, audit/, state.json, requests.jsonl")
    p.add_argument("--baseline", default="baseline.yaml", help="baseline file (default: baseline.yaml)")
    p.add_argument("--mode", choices=[m.value for m in Mode], help="override every control's mode")
    p.add_argument(
        "--self-object-id", action="append", default=[], help="object id treated as warden's own identity (repeatable)"
    )
    p.add_argument("--sweep", action="store_true", help="also run a sweep of the scope after the events")
    p.add_argument(
        "--now",
        type=_instant,
        default=os.environ.get("WARDEN_NOW") or None,
        help="start warden's and the emulator's shared clock at this ISO 8601 instant, e.g. 2026-12-01T00:00:00Z "
        "(default: $WARDEN_NOW, a test hook; else the scenario's clock, else the real time)",
    )
    p.set_defaults(func=_run)


def _instant(text: str) -> datetime:
    try:
        from emulator.kernel.clock import parse_instant
    except ImportError:
        raise argparse.ArgumentTypeError(NEEDS_CHECKOUT) from None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _without_key_values(state: dict[str, Any]) -> dict[str, Any]:
    """The tenant afterwards, its account keys and Key Vault secret values as fingerprints: one can see a key
    changed (and which secret version holds which key), never read it."""
    keys = state.get("accountKeys") or {}
    state["accountKeys"] = {
        account: {name: _fingerprint(value) for name, value in pair.items()} for account, pair in keys.items()
    }
    for secrets in (state.get("vaultSecrets") or {}).values():
        for versions in secrets.values():
            for version in versions:
                if "value" in version:
                    version["value"] = _fingerprint(str(version["value"]))
    return state


def _fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]

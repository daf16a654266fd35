"""A benchmark tenant: accounts, real-shaped Event Grid events, and Runtimes wired to the local HTTPS emulator.

Same shapes and wiring as tests/integration/conftest.py: accounts as ARM returns them, events built from a
real payload, `Settings` with the static credential and the emulator's CA, and delivery through
`functions_host.on_event` with each event decoded by the Functions worker (`to_functions_event`). The event
templates come from scenarios/demo/events.json, so the benchmark needs nothing outside the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from emulator import Emulator, RecordedRequest
from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, retarget_event
from warden.azure import functions_host
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import to_functions_event
from warden.runtime import Runtime
from warden.settings import Settings

REPO = Path(__file__).resolve().parents[1]
OTHER_SUB = "0b7e3d9a-1c5f-4e2b-8a6d-4f9c1e7b3a50"
WARDEN_OID = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"
WARDEN_APPID = "c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21"
HUMAN_OID = "3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60"
WRITE = "Microsoft.CognitiveServices/accounts/write"

#: Open to the internet: the drift `network.public-access` reverts with one PATCH.
OPEN: dict[str, Any] = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
#: Compliant with the baseline: one GET, nothing to change.
CLOSED: dict[str, Any] = {"publicNetworkAccess": "Disabled"}


def is_drifted(index: int) -> bool:
    """Three accounts in every ten are open (30%), spread evenly through the tenant."""
    return index % 10 in (1, 4, 7)


def tenant(size: int) -> list[dict[str, Any]]:
    """`size` OpenAI accounts, 30% of them drifted (`is_drifted`), named bench-0000, bench-0001, ..."""
    return [account(f"bench-{i:04d}", **(OPEN if is_drifted(i) else CLOSED)) for i in range(size)]


def baseline_text(*, mode: str = "enforce", max_actions: int = 10) -> str:
    """The integration tests' baseline: one subscription, no approved ranges, no cooldown."""
    return (
        f"version: 1\nmode: {mode}\nscope:\n  subscriptions:\n    - {SUB}\n"
        f"limits:\n  max_actions_per_run: {max_actions}\n  cooldown_seconds: 0\n"
        # A throughput run remediates far more than a tenant should per hour: lift the tenant-wide cap.
        "  max_actions_per_hour: 1000000\n"
        "controls:\n  network.public-access:\n    approved_ip_ranges: []\n"
    )


@cache
def _templates() -> dict[str, dict[str, Any]]:
    events = json.loads((REPO / "scenarios" / "demo" / "events.json").read_text())
    writes = [e for e in events if (e.get("data") or {}).get("operationName") == WRITE]
    return {
        "eventgrid": next(e for e in writes if "specversion" not in e),
        "cloud": next(e for e in writes if "specversion" in e),
    }


def write_event(
    resource_id: str,
    *,
    event_id: str,
    oid: str = HUMAN_OID,
    appid: str = "app-human",
    schema: str = "eventgrid",
    event_type: str = "Microsoft.Resources.ResourceWriteSuccess",
    operation: str = WRITE,
) -> dict[str, Any]:
    """A real-shaped ARM event (EventGridEvent or CloudEvents schema) for `resource_id`."""
    return retarget_event(
        _templates()[schema],
        resource_id,
        event_id=event_id,
        oid=oid,
        appid=appid,
        event_type=event_type,
        operation=operation,
    )


def make_runtime(emu: Emulator, folder: Path, baseline: str) -> Runtime:
    """A Runtime as the Functions app builds it, pointed at `emu`, with its audit and state under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "baseline.yaml"
    path.write_text(baseline)
    settings = Settings(
        baseline_path=path,
        arm_endpoint=emu.endpoint,
        arm_ca_bundle=emu.ca_path,
        credential="static",
        self_object_ids=frozenset({WARDEN_OID}),
        self_app_ids=frozenset({WARDEN_APPID}),
        audit_dir=folder / "audit",
        state_dir=folder / "state",
        polling_interval=0.0,
    )
    return build_runtime(settings)


@dataclass
class World:
    """One emulated tenant and a Runtime against it."""

    emulator: Emulator
    runtime: Runtime
    folder: Path

    def deliver(self, event: dict[str, Any], runtime: Runtime | None = None) -> None:
        """The event as the Functions worker hands it to the Event Grid function."""
        functions_host.on_event(to_functions_event(event), runtime or self.runtime)

    def requests(self) -> list[RecordedRequest]:
        return self.emulator.requests


@contextmanager
def world(resources: Sequence[dict[str, Any]], folder: Path, *, baseline: str | None = None) -> Iterator[World]:
    """Start the emulator with `resources`, build a Runtime against it, stop the emulator afterwards."""
    with Emulator({"resources": list(resources)}) as emu:
        yield World(emu, make_runtime(emu, folder, baseline or baseline_text()), folder)

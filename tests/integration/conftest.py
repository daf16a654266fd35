"""An emulated tenant wired to the real runtime: the real SDK clients, the real Functions decode path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import azure.functions as func
import pytest

from emulator import Emulator
from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import retarget_event
from tests.conftest import reference_dir
from warden.azure import functions_host
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import to_functions_event
from warden.model import Mode
from warden.runtime import Runtime
from warden.settings import RetryOptions, Settings

EventT = TypeVar("EventT", bound=func.EventGridEvent)

OTHER_SUB = "0b7e3d9a-1c5f-4e2b-8a6d-4f9c1e7b3a50"
# What a poll of an operation monitor shows as in `calls()`: its id is random, so the path is not compared.
POLL = "<operation status>"
WARDEN_OID = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"
WARDEN_APPID = "c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21"
HUMAN_OID = "3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60"


def baseline_text(
    *,
    mode: str = "enforce",
    approved: tuple[str, ...] = (),
    extra: str = "",  # more `controls:` entries, indented by two spaces
    max_actions: int = 10,
    cooldown: int = 0,
    max_attempts: int = 5,
    max_per_hour: int = 30,
) -> str:
    ranges = "".join(f"\n      - {r}" for r in approved) or " []"
    return (
        f"version: 1\nmode: {mode}\nscope:\n  subscriptions:\n    - {SUB}\n"
        f"limits:\n  max_actions_per_run: {max_actions}\n  cooldown_seconds: {cooldown}\n"
        f"  max_attempts: {max_attempts}\n  max_actions_per_hour: {max_per_hour}\n"
        f"controls:\n  network.public-access:\n    approved_ip_ranges:{ranges}\n{extra}"
    )


def _template(schema: str) -> dict[str, Any]:
    derived = json.loads((reference_dir() / "eventgrid" / "derived" / "cognitiveservices_arm_events.json").read_text())[
        "events"
    ]
    want_cloud = schema == "cloud"
    return next(
        e
        for e in derived
        if ("specversion" in e) == want_cloud
        and e["data"]["operationName"] == "Microsoft.CognitiveServices/accounts/write"
    )


def write_event(
    resource_id: str,
    *,
    event_id: str = "e-1",
    oid: str = HUMAN_OID,
    appid: str = "app-human",
    schema: str = "eventgrid",
    event_type: str = "Microsoft.Resources.ResourceWriteSuccess",
    operation: str = "Microsoft.CognitiveServices/accounts/write",
) -> dict[str, Any]:
    """A real-shaped ARM event (EventGridEvent or CloudEvents schema) for `resource_id`."""
    return retarget_event(
        _template(schema),
        resource_id,
        event_id=event_id,
        oid=oid,
        appid=appid,
        event_type=event_type,
        operation=operation,
    )


def worker_event_as(cls: type[EventT], raw: dict[str, Any]) -> EventT:
    """The Functions worker's decoded EventGridEvent for `raw`, rebuilt as `cls` (a subclass a test instruments)."""
    handed = to_functions_event(raw)
    assert isinstance(handed, func.EventGridEvent)
    return cls(
        id=handed.id,
        data=handed.get_json(),
        topic=handed.topic,
        subject=handed.subject,
        event_type=handed.event_type,
        event_time=handed.event_time,
        data_version=handed.data_version,
    )


def calls(world: World) -> list[tuple[str, str]]:
    """Every request as (method, lower-case path), operation-status polls as POLL."""
    return [(r.method, POLL if r.kind == "operation-status" else r.path.lower()) for r in world.requests()]


def patched(path: str) -> list[tuple[str, str]]:
    """One account PATCH as warden makes it: ARM's 200 names an operation (the upstream UpdateAccount example's
    does) but its body already shows provisioningState Succeeded, so nothing is polled (arm_writes.SettledPolling)
    and warden's own read verifies. A 202 is followed by its poll and final GET (test_lro_verify.py)."""
    return [("PATCH", path)]


@dataclass
class World:
    emulator: Emulator
    runtime: Runtime
    tmp: Path

    def deliver(self, *events: dict[str, Any]) -> None:
        """Each event as the Functions worker hands it to the Event Grid function."""
        for event in events:
            functions_host.on_event(to_functions_event(event), self.runtime)

    def audit(self) -> list[dict[str, Any]]:
        return list(self.runtime.audit.entries())

    def requests(self, kind: str | None = None) -> list[Any]:
        return [r for r in self.emulator.requests if kind is None or r.kind == kind]

    def account_props(self, name: str) -> dict[str, Any]:
        state = self.emulator.dump_state()
        return next(r for r in state["resources"] if r["name"] == name)["properties"]


def emulator_settings(emu: Emulator, folder: Path, baseline: str | None = None, **overrides: Any) -> Settings:
    """Settings as the Functions app would have them, pointed at `emu`: warden's own ids, the baseline written
    to `folder`, audit and state in local folders there (`overrides` replaces any of these)."""
    path = folder / "baseline.yaml"
    path.write_text(baseline or baseline_text())
    given: dict[str, Any] = {
        "baseline_path": path,
        "arm_endpoint": emu.endpoint,
        "arm_ca_bundle": emu.ca_path,
        "vault_endpoint": emu.vault_endpoint,
        "openai_endpoint": emu.openai_endpoint,
        "credential": "static",
        "self_object_ids": frozenset({WARDEN_OID}),
        "self_app_ids": frozenset({WARDEN_APPID}),
        "audit_dir": folder / "audit",
        "state_dir": folder / "state",
        "polling_interval": 0.0,
    }
    return Settings(**(given | overrides))


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Any]:
    started: list[Emulator] = []

    def make(
        resources: list[dict[str, Any]],
        baseline: str | None = None,
        *,
        mode_override: Mode | None = None,
        lro: str = "sync",
        retry: RetryOptions | None = None,
        sections: dict[str, Any] | None = None,
    ) -> World:
        """`sections`: more scenario sections (`vaultKeys`, `vaultSecrets`, `clock` ...). warden runs on the
        emulator's clock, so a pinned or advanced clock ages keys for both alike."""
        emu = Emulator({"resources": resources, **(sections or {})}).start()
        started.append(emu)
        emu.set_lro_mode(lro)
        settings = emulator_settings(emu, tmp_path, baseline, mode_override=mode_override, retry=retry)
        return World(emu, build_runtime(settings, clock=emu.clock.now), tmp_path)

    yield make
    for emu in started:
        emu.stop()

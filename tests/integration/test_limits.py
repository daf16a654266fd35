"""Loop guard and limits on the real path: a cool-down defers (Event Grid redelivers), the attempt cap hands
a resource that keeps flipping back to a human."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties

from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, account_id
from tests.integration.conftest import World, baseline_text, write_event
from warden.azure.credentials import StaticTokenCredential
from warden.errors import RetryLaterError, TransientError

OPEN = {"publicNetworkAccess": "Enabled"}
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def someone_reopens(world: World) -> None:
    """A human (through the real SDK) turns public access back on."""
    client = CognitiveServicesManagementClient(
        StaticTokenCredential(), SUB, base_url=world.emulator.endpoint, connection_verify=world.emulator.ca_path
    )
    client.accounts.begin_update(
        "ai-prod", "aoai-a", Account(properties=AccountProperties(public_network_access="Enabled"))
    ).result()


def patches(world: World) -> int:
    return sum(1 for r in world.requests() if r.method == "PATCH" and r.path.lower().endswith("aoai-a"))


def test_cool_down_defers_and_the_redelivery_remediates(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)], baseline_text(cooldown=300))
    clock = Clock()
    world.runtime.clock = clock
    world.deliver(write_event(account_id("aoai-a"), event_id="e-1"))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"

    someone_reopens(world)
    clock.now = T0 + timedelta(seconds=10)
    with pytest.raises(RetryLaterError, match="cool-down until"):
        world.deliver(write_event(account_id("aoai-a"), event_id="e-2"))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"
    assert world.audit()[-1]["decision"] == "blocked" and "cool-down" in world.audit()[-1]["reason"]
    assert not world.runtime.state.is_done("e-2")

    clock.now = T0 + timedelta(seconds=301)  # Event Grid redelivers e-2 after its back-off
    world.deliver(write_event(account_id("aoai-a"), event_id="e-2"))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert world.audit()[-1]["outcome"] == "remediated"
    assert world.runtime.state.is_done("e-2")


def test_attempt_cap_hands_a_flapping_account_to_a_human(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)], baseline_text(max_attempts=2))
    clock = Clock()
    world.runtime.clock = clock
    for n in range(1, 4):
        clock.now = T0 + timedelta(minutes=n)
        world.deliver(write_event(account_id("aoai-a"), event_id=f"e-{n}"))
        someone_reopens(world)
    assert patches(world) == 2 + 3  # two by warden, one by the human after each of three rounds
    last = world.audit()[-1]
    assert (last["decision"], last["outcome"]) == ("blocked", "blocked")
    assert "handed to a human: 2 attempts" in last["reason"]
    assert world.runtime.state.is_done("e-3")  # blocked by the cap is final, not retried

    clock.now = T0 + timedelta(hours=25)  # outside the attempt window, warden acts again
    world.deliver(write_event(account_id("aoai-a"), event_id="e-4"))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"


def test_tenant_wide_hourly_cap_spans_events(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN), account("aoai-b", **OPEN)], baseline_text(max_per_hour=1))
    clock = Clock()
    world.runtime.clock = clock
    world.deliver(write_event(account_id("aoai-a"), event_id="e-1"))
    clock.now = T0 + timedelta(minutes=10)
    world.deliver(write_event(account_id("aoai-b"), event_id="e-2"))  # another event: a fresh per-run budget
    assert world.account_props("aoai-b")["publicNetworkAccess"] == "Enabled"
    last = world.audit()[-1]
    assert last["decision"] == "blocked" and "tenant-wide cap of 1 actions per hour" in last["reason"]
    clock.now = T0 + timedelta(minutes=61)
    world.deliver(write_event(account_id("aoai-b"), event_id="e-3"))
    assert world.account_props("aoai-b")["publicNetworkAccess"] == "Disabled"


def test_a_refused_patch_is_not_an_attempt(make_world) -> None:
    """Throttling that outlasts the SDK's retries changed nothing: no cool-down, no step toward the cap."""
    world = make_world([account("aoai-a", **OPEN)], baseline_text(cooldown=300, max_attempts=1))
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "throttle", count=100, retry_after=0.01)
    with pytest.raises(TransientError):
        world.deliver(write_event(account_id("aoai-a")))
    world.emulator.clear_faults()
    world.deliver(write_event(account_id("aoai-a")))  # Event Grid's redelivery, seconds later
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert [e["outcome"] for e in world.audit()] == ["", "failed", "", "remediated"]


def test_tenant_wide_cap_holds_for_concurrent_events(make_world) -> None:
    names = [f"aoai-{n}" for n in range(8)]
    world = make_world([account(n, **OPEN) for n in names], baseline_text(max_per_hour=2))
    threads = [
        threading.Thread(target=world.deliver, args=(write_event(account_id(n), event_id=f"e-{n}"),)) for n in names
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in world.requests() if r.method == "PATCH") == 2
    outcomes = sorted(e["outcome"] for e in world.audit() if e["outcome"])
    assert outcomes == ["blocked"] * 6 + ["remediated"] * 2

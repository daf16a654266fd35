"""Truthful outcomes after faults: a write whose answer was lost is judged by a re-read, and a 404 right after a
write event is confirmed before the drift is given up as `resource-gone`.

The faults are the emulator's (real status codes through the real SDK); the request sequences are its log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.builders import account, account_id
from tests.integration.conftest import World, write_event
from warden.errors import NotFoundYetError, OutcomeUnknownError, TransientError
from warden.pipeline import CONFIRM_DELAY, READ_LAG
from warden.settings import RetryOptions

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
RID = account_id("aoai-a")
FAST = RetryOptions(total=2, backoff_factor=0.01, backoff_max=0.01)  # 3 tries per request, no real waits


def statuses(world: World) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in world.requests()]


def attempts(world: World) -> int:
    return world.runtime.state.history(RID, world.runtime.clock(), timedelta(days=1)).attempts_in_window


def results(world: World) -> list[dict[str, Any]]:
    return [e for e in world.audit() if e["kind"] == "result"]


def test_an_applied_patch_whose_every_answer_is_lost_is_remediated_by_the_reread(make_world) -> None:
    """ARM applies the PATCH and answers 503, and the SDK's retries get 503 too (fault applied-then-error)."""
    world = make_world([account("aoai-a", **OPEN)], retry=FAST)
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "applied-then-error", count=100)
    world.deliver(write_event(RID))
    assert statuses(world) == [
        ("GET", 200),
        ("PATCH", 503),  # applied, answer lost
        ("PATCH", 503),  # the SDK's retries
        ("PATCH", 503),
        ("GET", 200),  # the re-read that judges it: the fix is there
    ]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    [result] = results(world)
    assert result["outcome"] == "remediated"
    [step] = result["steps"]
    assert step["status"] == "applied" and step["error"].endswith("the re-read shows it applied")
    assert attempts(world) == 1  # Azure changed: it counts toward the cool-down and the attempt cap
    assert world.runtime.state.is_done("e-1")


def test_a_patch_refused_with_503_is_failed_only_as_the_reread_shows(make_world) -> None:
    """The same 503s, but nothing was applied: the re-read shows the drift, and the record says so."""
    world = make_world([account("aoai-a", **OPEN)], retry=FAST)
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "server-error", count=100, status=503)
    with pytest.raises(TransientError):  # Event Grid redelivers: the next try may get through
        world.deliver(write_event(RID))
    assert statuses(world) == [("GET", 200), ("PATCH", 503), ("PATCH", 503), ("PATCH", 503), ("GET", 200)]
    [result] = results(world)
    assert result["outcome"] == "failed"
    assert "the re-read shows it not applied: public network access is open" in result["error"]
    assert attempts(world) == 0  # nothing changed in Azure
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"
    world.emulator.clear_faults()
    world.deliver(write_event(RID))
    assert results(world)[-1]["outcome"] == "remediated"


def test_a_lost_answer_while_the_operation_runs_stays_unknown(make_world) -> None:
    """ARM started an asynchronous PATCH and the answer was lost: the re-read shows the old value while the
    account is still updating, which proves nothing either way."""
    world = make_world([account("aoai-a", **OPEN)], retry=FAST, lro="async")
    world.emulator.set_options(operation_seconds=600)  # by the emulator's clock: still running at the re-read
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "applied-then-error", count=100)
    with pytest.raises(OutcomeUnknownError):
        world.deliver(write_event(RID))
    assert statuses(world) == [("GET", 200), ("PATCH", 503), ("PATCH", 503), ("PATCH", 503), ("GET", 200)]
    [result] = results(world)
    assert result["outcome"] == "not-verified" and "it may yet apply" in result["error"]
    assert attempts(world) == 1
    assert not world.runtime.state.is_done("e-1")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _recent_event(now: datetime) -> dict[str, Any]:
    event = write_event(RID)
    event["eventTime"] = now.isoformat()
    return event


def test_a_single_404_after_a_write_event_is_read_again(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    slept: list[float] = []
    world.runtime.sleep = slept.append
    world.emulator.add_fault("GET", "/accounts/aoai-a$", "not-found", count=1)
    world.deliver(write_event(RID))
    assert statuses(world)[:3] == [("GET", 404), ("GET", 200), ("PATCH", 200)]
    assert slept == [CONFIRM_DELAY]
    assert [e["outcome"] for e in world.audit()] == ["", "remediated"]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"


def test_a_404_within_the_read_lag_is_redelivered_and_resource_gone_once_confirmed(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.sleep = lambda seconds: None
    clock = Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    world.runtime.clock = clock
    event = _recent_event(clock.now)
    world.emulator.add_fault("GET", "/accounts/aoai-a$", "not-found", count=100)
    clock.now += timedelta(seconds=30)
    with pytest.raises(NotFoundYetError):  # ARM may not show the account yet: Event Grid redelivers
        world.deliver(event)
    assert statuses(world) == [("GET", 404), ("GET", 404)]
    assert world.audit() == [] and not world.runtime.state.is_done("e-1")

    clock.now += READ_LAG  # a redelivery after the lag window: the 404 is the truth now
    world.deliver(event)
    world.deliver(event)  # and a later redelivery is a duplicate
    evaluations = [(e["kind"], e["outcome"]) for e in world.audit() if e["kind"] != "event"]
    assert evaluations == [("evaluation", "resource-gone")]  # recorded once (a duplicate is no evaluation)
    assert world.runtime.state.is_done("e-1")
    assert len(world.requests()) == 4


def test_the_sweeps_404_is_final_for_that_sweep(make_world) -> None:
    from warden.sweep import sweep

    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.sleep = lambda seconds: pytest.fail("the sweep's 404 needs no confirming read")
    world.emulator.add_fault("GET", "/accounts/aoai-a$", "not-found", count=1)
    report = sweep(world.runtime)
    assert report.outcomes == {"resource-gone": 1}
    assert [r.status for r in world.requests()] == [200, 404]  # the list, the read

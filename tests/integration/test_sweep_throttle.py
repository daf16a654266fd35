"""A sweep the tenant throttles backs off as a whole: it waits the Retry-After before its next account, stops
when the throttling goes on, records that it stopped, and leaves the rest to the next sweep."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emulator.builders import account
from tests.integration.conftest import World
from warden.errors import TransientError
from warden.settings import RetryOptions
from warden.sweep import sweep
from warden.throttle import SWEEP_BUDGET, THROTTLED_IN_A_ROW, SweepThrottle

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
FAST = RetryOptions(total=2, backoff_factor=0.01, backoff_max=0.01)  # 3 tries per request
NAMES = [f"aoai-{n}" for n in range(6)]


def _throttled_world(make_world) -> tuple[World, list[float]]:
    world = make_world([account(n, **OPEN) for n in NAMES], retry=FAST)
    world.runtime.sweep_workers = 1  # one account at a time, so the order of reads and waits is exact
    slept: list[float] = []
    world.runtime.sleep = slept.append
    # Every account read answers 429 (Retry-After 0.05 s, which azure-core honours between its own tries).
    world.emulator.add_fault("GET", "/accounts/aoai-", "throttle", count=1000, retry_after=0.05)
    return world, slept


def test_a_throttled_sweep_waits_then_stops_with_a_record(make_world) -> None:
    world, slept = _throttled_world(make_world)
    report = sweep(world.runtime)
    reads = [r for r in world.requests() if r.method == "GET"]
    # The query, then THROTTLED_IN_A_ROW accounts of 3 tries each; never every account (that was 6 * 3).
    assert [r.method for r in world.requests()].count("POST") == 1
    assert len(reads) == THROTTLED_IN_A_ROW * 3 and [r.status for r in reads] == [429] * 6
    assert slept == [0.05]  # the sweep waited the tenant's Retry-After once, between the two accounts
    assert report.accounts == THROTTLED_IN_A_ROW and report.unchecked == len(NAMES) - THROTTLED_IN_A_ROW
    assert report.stopped.startswith("sweep stopped early: the tenant keeps throttling")
    assert report.stopped in report.errors  # so the timer's log and `warden sweep` (exit 1) show it
    [stop] = [e for e in world.audit() if e["kind"] == "event"]
    assert stop["outcome"] == "failed" and "4 account(s) left unchecked" in stop["reason"]
    assert stop["observed"] == {"uncheckedAccounts": 4, "unlistedSubscriptions": 0}


def test_the_next_sweep_checks_what_was_left(make_world) -> None:
    world, _ = _throttled_world(make_world)
    sweep(world.runtime)
    world.emulator.clear_faults()
    report = sweep(world.runtime)
    assert report.stopped == "" and report.accounts == len(NAMES)
    assert report.outcomes == {"remediated": len(NAMES)}


def test_one_throttled_account_does_not_stop_the_sweep(make_world) -> None:
    world = make_world([account(n, **OPEN) for n in NAMES[:3]], retry=FAST)
    slept: list[float] = []
    world.runtime.sleep = slept.append
    world.emulator.add_fault("GET", "/accounts/aoai-0$", "throttle", count=3, retry_after=0.05)
    report = sweep(world.runtime)
    assert slept == [0.05] and report.stopped == ""
    assert report.outcomes == {"remediated": 2} and len(report.errors) == 1


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_wait_past_the_time_budget_stops_instead_of_sleeping() -> None:
    slept: list[float] = []
    throttle = SweepThrottle(Clock(), slept.append, budget=timedelta(minutes=8))
    throttle.saw(TransientError("throttled", status=429, retry_after=3600))  # ARM's hourly window
    assert "asked to wait 3600s, past the sweep's time budget" in throttle.before_next()
    assert slept == []


def test_a_spent_time_budget_stops_the_sweep() -> None:
    clock = Clock()
    throttle = SweepThrottle(clock, lambda s: None, budget=timedelta(minutes=8))
    assert throttle.before_next() == ""
    clock.now += timedelta(minutes=8)
    assert "time budget of 480s is spent" in throttle.before_next()


def test_the_sweep_budget_fits_the_function_timeout() -> None:
    host = json.loads((Path(__file__).parents[2] / "host.json").read_text())
    h, m, s = (int(x) for x in re.fullmatch(r"(\d+):(\d+):(\d+)", host["functionTimeout"]).groups())  # type: ignore[union-attr]
    assert timedelta(hours=h, minutes=m, seconds=s) > SWEEP_BUDGET


def test_a_long_retry_after_is_not_slept_inside_a_request(make_world) -> None:
    """ARM's subscription limit can ask for most of an hour: azure-core would sleep that inside the read, past
    the function's timeout. The read gives up at once, and the sweep decides (here: wait, then stop)."""
    world = make_world([account(n, **OPEN) for n in NAMES], retry=FAST)
    world.runtime.sweep_workers = 1
    slept: list[float] = []
    world.runtime.sleep = slept.append
    world.emulator.add_fault("GET", "/accounts/aoai-", "throttle", count=1000, retry_after=61)
    report = sweep(world.runtime)
    assert [r.status for r in world.requests()] == [200, 429, 429]  # the query, one try per account
    assert slept == [61.0] and report.unchecked == len(NAMES) - 2


def test_a_throttled_sweep_with_many_workers_still_stops(make_world) -> None:
    """With the pool, the accounts already handed to workers finish; no new one starts once the throttle says
    stop, so a throttling tenant never gets a request for every account."""
    names = [f"aoai-{n:02d}" for n in range(40)]
    world = make_world([account(n, **OPEN) for n in names], retry=FAST)
    world.runtime.sweep_workers = 4
    world.runtime.sleep = lambda seconds: None
    world.emulator.add_fault("GET", "/accounts/aoai-", "throttle", count=10000, retry_after=0.01)
    report = sweep(world.runtime)
    assert report.stopped.startswith("sweep stopped early: the tenant keeps throttling")
    assert report.accounts + report.unchecked == len(names) and report.unchecked >= len(names) - 8
    assert not [r for r in world.requests() if r.method == "PATCH"]

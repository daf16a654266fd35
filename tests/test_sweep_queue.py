"""The sweep's fan-out on Azurite's queue service against the local ARM emulator (docs/scale.md "Fan-out"): the
timer only plans, a host-like worker loop hands each item to the queue function, and every drifted account is
fixed exactly once, also when an item is duplicated, lost, capped, malformed or stopped early.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.functions import meta
from azure.functions.queue import QueueMessage as FunctionsQueueMessage
from azure.functions.timer import TimerRequest, TimerRequestConverter
from azure.storage.queue import QueueClient, QueueMessage

from emulator import Emulator
from emulator.builders import account, account_id
from tests.azurite_queue import azurite_storage, new_queue_name, raw_queue  # noqa: F401 - the fixture
from tests.integration.conftest import OTHER_SUB, emulator_settings
from tests.test_function_app import deployed, index_like_the_worker  # noqa: F401 - the fixture
from warden.azure import functions_host, sweep_queue
from warden.azure.sweep_queue import ItemNotFinished, ItemResult
from warden.azure.wiring import build_runtime
from warden.runtime import Runtime
from warden.settings import RetryOptions, Settings

REPO = Path(__file__).resolve().parents[1]
SUBS = ("6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c", OTHER_SUB, "5c2d8e1f-3a4b-4c6d-9e7f-0a1b2c3d4e5f")
OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
CLOSED = {"publicNetworkAccess": "Disabled"}
VISIBILITY = 1  # seconds a received message stays invisible (host.json's is minutes; short here)
MAX_DEQUEUE = 5  # host.json maxDequeueCount
HOUR = datetime(2026, 3, 1, 10, tzinfo=UTC)


def baseline(max_actions: int = 10) -> str:
    subs = "".join(f"\n    - {s}" for s in SUBS)
    return (
        f"version: 1\nmode: enforce\nscope:\n  subscriptions:{subs}\n"
        f"limits:\n  max_actions_per_run: {max_actions}\n  cooldown_seconds: 0\n"
        "  max_attempts: 5\n  max_actions_per_hour: 100\n"
        "controls:\n  network.public-access:\n    approved_ip_ranges: []\n"
    )


def tenant(drifted: int, compliant: int = 1) -> list[dict[str, Any]]:
    """In each subscription, `drifted` open accounts and `compliant` closed ones."""
    resources = []
    for n, sub in enumerate(SUBS):
        for i in range(drifted + compliant):
            name = f"aoai-{n}{i}"
            resource = account(name, **(OPEN if i < drifted else CLOSED))
            resource["id"] = account_id(name, sub=sub)
            resources.append(resource)
    return resources


def timer(scheduled: datetime = HOUR) -> TimerRequest:
    """The timer as the worker decodes the host's JSON with use_monitor: the status before this firing's update
    (Next is the occurrence firing now)."""
    last = (scheduled - timedelta(hours=1)).isoformat()
    status = {"Last": last, "Next": scheduled.isoformat(), "LastUpdated": last}
    data = json.dumps({"Schedule": {"AdjustForDST": True}, "ScheduleStatus": status, "IsPastDue": False})
    decoded = TimerRequestConverter.decode(meta.Datum(data, "json"), trigger_metadata={})
    assert isinstance(decoded, TimerRequest)
    return decoded


@dataclass
class Fanout:
    emulator: Emulator
    runtime: Runtime
    settings: Settings
    queue: QueueClient  # raw: what the Functions host reads

    def fire(self, when: datetime = HOUR) -> None:
        assert sweep_queue.plan_timer(self.runtime, self.settings, timer(when), data_plane=False)

    def patches(self) -> list[str]:
        """The accounts changed, one entry per PATCH ARM accepted (the emulator's request log)."""
        changed = [r for r in self.emulator.requests if r.method == "PATCH" and r.status < 300]
        return sorted(r.path.rsplit("/", 1)[-1] for r in changed)

    def audit(self) -> list[dict[str, Any]]:
        return list(self.runtime.audit.entries())

    def open_accounts(self) -> list[str]:
        resources = self.emulator.dump_state()["resources"]
        return [r["name"] for r in resources if r["properties"].get("publicNetworkAccess") != "Disabled"]

    def deliver(self, fault: Callable[[QueueMessage], str] | None = None) -> list[str]:
        """What the Functions host does with the queue: receive (invisible for VISIBILITY s), hand the decoded
        body to the function, delete on success. A failure leaves the message to reappear after the timeout;
        after MAX_DEQUEUE deliveries it goes to the poison queue. `fault(message)` may say "crash-before" (the
        host dies after receiving) or "crash-after" (it dies after the function returned, before deleting)."""
        results: list[str] = []
        deadline = time.monotonic() + 60
        while self.queue.get_queue_properties().approximate_message_count:  # counts invisible messages too
            assert time.monotonic() < deadline, "the queue never drained"
            received = list(self.queue.receive_messages(max_messages=32, visibility_timeout=VISIBILITY))
            if not received:
                time.sleep(0.1)
                continue
            for message in received:
                what = fault(message) if fault else ""
                if what == "crash-before":
                    continue
                handed = FunctionsQueueMessage(
                    id=message.id,
                    body=base64.b64decode(message.content),  # host.json messageEncoding: base64
                    dequeue_count=message.dequeue_count,
                    pop_receipt=message.pop_receipt,
                )
                try:
                    results.append(sweep_queue.handle_message(self.runtime, handed))
                except ItemNotFinished:
                    results.append("raised")
                    if message.dequeue_count >= MAX_DEQUEUE:
                        self.queue.delete_message(message)  # to the poison queue, in the real host
                    continue
                if what != "crash-after":
                    self.queue.delete_message(message)
        return results


@pytest.fixture
def make_fanout(tmp_path: Path, azurite_storage: str) -> Iterator[Callable[..., Fanout]]:  # noqa: F811
    started: list[Emulator] = []

    def make(resources: list[dict[str, Any]], *, max_actions: int = 10, retry: RetryOptions | None = None) -> Fanout:
        # warden runs on the emulator's clock, pinned just after HOUR: the runs below are fresh.
        emu = Emulator({"resources": resources, "clock": {"now": (HOUR + timedelta(minutes=5)).isoformat()}}).start()
        started.append(emu)
        settings = emulator_settings(
            emu,
            tmp_path,
            baseline(max_actions),
            state_connection_string=azurite_storage,  # the blob state store and the queue: one account
            state_container=new_queue_name("state"),
            sweep_queue=new_queue_name(),
            retry=retry,
        )
        runtime = build_runtime(settings, clock=emu.clock.now)
        return Fanout(emu, runtime, settings, raw_queue(azurite_storage, str(settings.sweep_queue)))

    yield make
    for emu in started:
        emu.stop()


def queued(fanout: Fanout) -> list[dict[str, Any]]:
    """The items waiting, decoded as the host decodes them (base64, then the function's JSON)."""
    return [json.loads(base64.b64decode(m.content)) for m in fanout.queue.peek_messages(max_messages=32)]


def test_the_timer_plans_one_item_per_subscription_and_each_account_is_fixed_once(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=2))
    fanout.fire()
    assert fanout.emulator.requests == []  # the timer only plans
    run = "sweep-20260301T100000Z"
    assert sorted(queued(fanout), key=lambda i: i["subscription"]) == [
        {"run": run, "subscription": sub, "dataPlane": False, "version": 1} for sub in sorted(SUBS)
    ]
    assert fanout.deliver() == [ItemResult.DONE] * 3
    assert fanout.patches() == [f"aoai-{n}{i}" for n in range(3) for i in range(2)]
    assert fanout.open_accounts() == []
    assert all(fanout.runtime.state.is_done(f"sweep/{run}/{sub}") for sub in SUBS)


def test_a_duplicated_item_or_a_second_firing_acts_once(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=1))
    fanout.fire()
    fanout.fire()  # the same occurrence again (a past-due re-run after a crash): the plan is done
    assert len(queued(fanout)) == 3
    again = next(i for i in queued(fanout) if i["subscription"] == SUBS[1])
    sweep_queue.queue_for(fanout.settings).send_message(json.dumps(again))  # the same item, twice
    assert sorted(fanout.deliver()) == sorted([ItemResult.DONE] * 3 + [ItemResult.DUPLICATE])
    assert fanout.patches() == ["aoai-00", "aoai-10", "aoai-20"]
    ignored = [e["reason"] for e in fanout.audit() if e["outcome"] == "ignored"]
    assert ignored == [
        "duplicate plan: run sweep-20260301T100000Z was already planned",
        f"duplicate work item: sweep/sweep-20260301T100000Z/{SUBS[1]} was already done",
    ]
    # The next occurrence is a new run: planned again, every account re-checked, nothing left to change.
    fanout.fire(HOUR + timedelta(hours=1))
    assert {i["run"] for i in queued(fanout)} == {"sweep-20260301T110000Z"}
    assert fanout.deliver() == [ItemResult.DONE] * 3
    assert fanout.patches() == ["aoai-00", "aoai-10", "aoai-20"]


def test_a_lost_item_is_handled_on_redelivery_without_a_second_action(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=2))
    fanout.fire()
    lost = {SUBS[0]: "crash-before", SUBS[2]: "crash-after"}

    def crash_once(message: QueueMessage) -> str:
        subscription = json.loads(base64.b64decode(message.content))["subscription"]
        return lost.get(subscription, "") if message.dequeue_count == 1 else ""

    results = fanout.deliver(crash_once)
    # SUBS[0] handled on its second delivery; SUBS[2] handled, then redelivered and found done.
    assert sorted(results) == sorted([ItemResult.DONE] * 3 + [ItemResult.DUPLICATE])
    assert fanout.patches() == [f"aoai-{n}{i}" for n in range(3) for i in range(2)]
    assert fanout.open_accounts() == []


def test_the_run_cap_holds_across_items(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=2, compliant=0), max_actions=3)
    fanout.fire()
    assert fanout.deliver() == [ItemResult.DONE] * 3
    assert len(fanout.patches()) == 3  # 6 drifted accounts over 3 items, one run: 3 actions in all
    blocked = [e for e in fanout.audit() if e["outcome"] == "blocked"]
    assert len(blocked) == 3 and all("per-run cap of 3 actions reached" in e["reason"] for e in blocked)
    assert len(fanout.open_accounts()) == 3


def test_malformed_items_are_rejected_and_not_retried(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=1))
    good = {"run": "sweep-20260301T100000Z", "subscription": SUBS[0], "dataPlane": False, "version": 1}
    bad = {
        "not JSON": "sweep everything",
        "want an object with exactly": json.dumps(good | {"extra": 1}),
        "version 2 is not 1": json.dumps(good | {"version": 2}),
        "run 'sweep-now' is not": json.dumps(good | {"run": "sweep-now"}),
        "dataPlane True does not match": json.dumps(good | {"dataPlane": True}),
        "'all' is not a subscription id": json.dumps(good | {"subscription": "all"}),
        "not in the baseline's scope": json.dumps(good | {"subscription": "00000000-0000-4000-8000-000000000000"}),
    }
    sender = sweep_queue.queue_for(fanout.settings)
    for body in bad.values():
        sender.send_message(body)
    assert fanout.deliver() == [ItemResult.REJECTED] * len(bad)  # each delivered once, then deleted
    assert fanout.emulator.requests == []
    rejected = [e for e in fanout.audit() if e["outcome"] == "rejected"]
    assert [next(w for w in bad if w in e["error"]) for e in rejected] == list(bad)
    assert all(e["observed"]["raw"]["queueMessage"] in bad.values() for e in rejected)


def test_a_stale_item_is_left_to_the_next_sweep(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=1))
    old = fanout.runtime.clock() - timedelta(days=2)
    fanout.fire(old.replace(minute=0, second=0, microsecond=0))
    assert fanout.deliver() == [ItemResult.STALE] * 3
    assert fanout.emulator.requests == []


class Leaping:
    """The runtime's clock, leaping 9 minutes at every reading while `on`: a sweep then finds its time budget
    (8 minutes, warden/throttle.py) spent at its first check and stops early, whatever it has done by then."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock, self.on, self.leaps = clock, False, 0

    def __call__(self) -> datetime:
        if not self.on:
            return self.clock()
        self.leaps += 1
        return self.clock() + self.leaps * timedelta(minutes=9)


def test_an_item_whose_sweep_stops_early_is_redelivered(make_fanout) -> None:
    fanout = make_fanout(tenant(drifted=2))
    clock = Leaping(fanout.runtime.clock)
    fanout.runtime.clock = clock
    fanout.fire()

    def stop_first_delivery(message: QueueMessage) -> str:
        subscription = json.loads(base64.b64decode(message.content))["subscription"]
        clock.on = subscription == SUBS[1] and message.dequeue_count == 1
        return ""

    results = fanout.deliver(stop_first_delivery)
    assert sorted(results) == sorted([ItemResult.DONE] * 3 + ["raised"])
    stops = [e["reason"] for e in fanout.audit() if e["outcome"] == "failed"]
    assert len(stops) == 1 and "time budget" in stops[0]
    assert fanout.patches() == [f"aoai-{n}{i}" for n in range(3) for i in range(2)]
    assert fanout.open_accounts() == []


def test_with_a_sweep_queue_the_timer_plans_and_the_queue_function_sweeps(
    deployed: tuple[Emulator, Path],  # noqa: F811
    azurite_storage: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu, _ = deployed
    queue_name = new_queue_name()
    monkeypatch.setenv("WARDEN_STATE_CONNECTION_STRING", azurite_storage)  # the queue's account too (Azurite)
    monkeypatch.setenv("WARDEN_STATE_CONTAINER", new_queue_name("state"))
    monkeypatch.setenv("WARDEN_SWEEP_QUEUE", queue_name)
    functions_host.reset_runtime()
    index_like_the_worker()["sweep"].get_user_function()(TimerRequest(past_due=False))
    assert emu.requests == []  # the timer only planned
    queue = raw_queue(azurite_storage, queue_name)
    [message] = queue.receive_messages(max_messages=32)  # the baseline's one subscription
    handed = FunctionsQueueMessage(id=message.id, body=base64.b64decode(message.content), dequeue_count=1)
    index_like_the_worker()["sweep_item"].get_user_function()(handed)
    assert [r.path.rsplit("/", 1)[-1] for r in emu.requests if r.method == "PATCH"] == ["aoai-a"]


def test_the_run_id_is_the_scheduled_occurrence() -> None:
    clock = lambda: datetime(2026, 3, 1, 10, 7, 42, 5, tzinfo=UTC)  # noqa: E731
    assert sweep_queue.run_id(timer(), clock, data_plane=False) == "sweep-20260301T100000Z"
    assert sweep_queue.run_id(timer(), clock, data_plane=True) == "data-20260301T100000Z"
    naive = TimerRequest(schedule_status={"Next": "2026-03-01T10:00:00.0000000"})  # the host's local time
    assert sweep_queue.run_id(naive, clock, data_plane=False) == "sweep-20260301T100000Z"
    assert sweep_queue.run_id(TimerRequest(), clock, data_plane=False) == "sweep-20260301T100700Z"


def test_host_json_decodes_what_the_planner_encodes() -> None:
    queues = json.loads((REPO / "host.json").read_text())["extensions"]["queues"]
    assert queues["messageEncoding"] == "base64"  # sweep_queue.queue_for sends TextBase64EncodePolicy text
    assert queues["maxDequeueCount"] == MAX_DEQUEUE

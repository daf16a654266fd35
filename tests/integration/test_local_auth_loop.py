"""identity.local-auth end to end: one PATCH, then Key1 and Key2 regenerated, counted at the emulator; no key
value in any output; dry-run names every step; a fault between the regenerations ends partial and the
redelivery finishes it without a second PATCH."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from emulator.builders import account, account_id
from tests.integration.conftest import POLL, World, baseline_text, write_event
from warden.errors import TransientError
from warden.ports import Ports
from warden.settings import RetryOptions

RID = account_id("aoai-a")
PATH = RID.lower()
REGENERATE = f"{PATH}/regeneratekey"
LOCAL = "  identity.local-auth:\n"
FAST = RetryOptions(total=1, backoff_factor=0, backoff_max=0)


def calls(world: World) -> list[tuple[str, str, Any]]:
    return [(r.method, POLL if r.kind == "operation-status" else r.path.lower(), r.body) for r in world.requests()]


#: What follows the PATCH before the regenerations: nothing, since ARM's 200 shows the write settled
#: (arm_writes.SettledPolling; tests/integration/conftest.patched).
FOLLOW_PATCH: list[tuple[str, str, None]] = []


def keys(world: World) -> dict[str, str]:
    return next(v for k, v in world.emulator.dump_state()["accountKeys"].items() if k.lower() == PATH)


def records(world: World, kind: str) -> list[dict[str, Any]]:
    return [e for e in world.audit() if e["kind"] == kind]


def test_local_auth_drift_is_one_get_one_patch_two_regenerations_one_verifying_get(make_world, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    world = make_world(
        [account("aoai-a", publicNetworkAccess="Disabled", disableLocalAuth=False)],
        baseline_text(extra=LOCAL),
    )
    before = keys(world)
    world.deliver(write_event(RID))

    assert calls(world) == [
        ("GET", PATH, None),
        ("PATCH", PATH, {"properties": {"disableLocalAuth": True}}),
        *FOLLOW_PATCH,
        ("POST", REGENERATE, {"keyName": "Key1"}),
        ("POST", REGENERATE, {"keyName": "Key2"}),
        ("GET", PATH, None),
    ]
    assert [r.method for r in world.requests()].count("POST") == 2  # and never listKeys
    after = keys(world)
    assert after["key1"] != before["key1"] and after["key2"] != before["key2"]
    assert world.account_props("aoai-a")["disableLocalAuth"] is True

    [intent], [result] = records(world, "intent"), records(world, "result")
    assert (intent["controlId"], result["outcome"]) == ("identity.local-auth", "remediated")
    assert [(s["step"], s["status"]) for s in result["steps"]] == [
        ("account.patch", "applied"),
        ("account.regenerate-key", "applied"),
        ("account.regenerate-key", "applied"),
    ]
    assert [s["status"] for s in intent["steps"]] == ["planned"] * 3
    assert result["change"] == {"disableLocalAuth": {"before": False, "after": True}}
    # No key value anywhere: not in the audit log, the log lines, or the requests warden made.
    trail = json.dumps(world.audit()) + caplog.text + json.dumps([r.to_json() for r in world.requests()])
    for value in (*before.values(), *after.values()):
        assert value not in trail


def test_dry_run_writes_nothing_and_names_every_step(make_world) -> None:
    world = make_world(
        [account("aoai-a", publicNetworkAccess="Disabled")],
        baseline_text(extra="  identity.local-auth:\n    mode: dry-run\n"),
    )
    before = keys(world)
    world.deliver(write_event(RID))
    assert calls(world) == [("GET", PATH, None)]
    assert keys(world) == before
    [decision] = records(world, "decision")
    assert (decision["outcome"], decision["mode"]) == ("would-remediate", "dry-run")
    assert [(s["step"], s["change"], s["status"]) for s in decision["steps"]] == [
        ("account.patch", {"disableLocalAuth": {"before": None, "after": True}}, "would-apply"),
        ("account.regenerate-key", {"keyName": "Key1", "regenerated": True}, "would-apply"),
        ("account.regenerate-key", {"keyName": "Key2", "regenerated": True}, "would-apply"),
    ]
    assert "would apply account.patch, account.regenerate-key, account.regenerate-key" in decision["reason"]


def test_compliant_account_is_one_get(make_world) -> None:
    world = make_world(
        [account("aoai-a", publicNetworkAccess="Disabled", disableLocalAuth=True)],
        baseline_text(extra=LOCAL),
    )
    world.deliver(write_event(RID))
    assert calls(world) == [("GET", PATH, None)]
    assert sorted(e["outcome"] for e in world.audit()) == ["compliant", "compliant"]


class FailSecondRegeneration:
    """The real port; once Key1 is regenerated, the emulator fails regenerateKey with `status` (a fault at a
    precise step): 503 past every retry by default."""

    def __init__(self, inner: Any, world: World, status: int = 503, count: int = 100) -> None:
        self.inner, self.world, self.status, self.count = inner, world, status, count

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def regenerate_key(self, resource_id: str, key_name: str) -> None:
        self.inner.regenerate_key(resource_id, key_name)
        if key_name == "Key1":
            emulator = self.world.emulator
            emulator.add_fault("POST", "/regenerateKey$", "server-error", count=self.count, status=self.status)


def test_a_fault_on_the_second_regeneration_is_partial_and_the_redelivery_finishes_without_a_patch(
    make_world,
) -> None:
    world = make_world(
        [account("aoai-a", publicNetworkAccess="Disabled", disableLocalAuth=False)],
        baseline_text(extra=LOCAL),
        retry=FAST,
    )
    real = world.runtime.ports.accounts
    world.runtime.ports = Ports(accounts=FailSecondRegeneration(real, world))
    before = keys(world)
    with pytest.raises(TransientError):  # so that Event Grid redelivers
        world.deliver(write_event(RID))

    [result] = records(world, "result")
    assert result["outcome"] == "partial"
    assert [s["status"] for s in result["steps"]] == ["applied", "applied", "failed"]
    assert "retried" in result["error"]
    assert not world.runtime.state.is_done("e-1")
    middle = keys(world)
    assert middle["key1"] != before["key1"] and middle["key2"] == before["key2"]

    world.emulator.clear_faults()
    world.emulator.clear_requests()
    world.runtime.ports = Ports(accounts=real)
    world.deliver(write_event(RID))  # Event Grid's redelivery of the same event
    assert calls(world) == [("GET", PATH, None), ("POST", REGENERATE, {"keyName": "Key2"})]
    assert keys(world)["key2"] != before["key2"]
    last = records(world, "result")[-1]
    assert (last["controlId"], last["outcome"]) == ("identity.local-auth", "remediated")
    assert [(s["change"]["keyName"], s["status"]) for s in last["steps"]] == [("Key2", "applied")]
    assert world.runtime.state.is_done("e-1")
    assert world.runtime.state.pending(RID) == []


def test_two_drifts_fixed_by_two_controls_are_one_patch_and_never_a_412(make_world) -> None:
    world = make_world(
        [account("aoai-a", publicNetworkAccess="Enabled", disableLocalAuth=False)],
        baseline_text(extra=LOCAL),
    )
    world.deliver(write_event(RID))
    assert calls(world) == [
        ("GET", PATH, None),
        ("PATCH", PATH, {"properties": {"publicNetworkAccess": "Disabled", "disableLocalAuth": True}}),
        *FOLLOW_PATCH,
        ("POST", REGENERATE, {"keyName": "Key1"}),
        ("POST", REGENERATE, {"keyName": "Key2"}),
        ("GET", PATH, None),
    ]
    assert world.requests()[1].headers.get("If-Match") == account("aoai-a")["etag"]
    assert all(r.status < 400 for r in world.requests())
    results = {r["controlId"]: r for r in records(world, "result")}
    assert {c: r["outcome"] for c, r in results.items()} == {
        "network.public-access": "remediated",
        "identity.local-auth": "remediated",
    }
    assert [s["step"] for s in results["network.public-access"]["steps"]] == ["account.patch"]
    assert len(results["identity.local-auth"]["steps"]) == 3


def test_a_refused_regeneration_is_partial_and_the_sweep_finishes_it(make_world) -> None:
    from warden.sweep import sweep

    world = make_world(
        [account("aoai-a", publicNetworkAccess="Disabled", disableLocalAuth=False)],
        baseline_text(extra=LOCAL),
        retry=FAST,
    )
    real = world.runtime.ports.accounts
    # Azure refuses (403): not transient, so the event is done, and the sweep finishes the rest.
    world.runtime.ports = Ports(accounts=FailSecondRegeneration(real, world, status=403, count=1))
    world.deliver(write_event(RID))  # no exception: a redelivery cannot fix a 403
    [result] = records(world, "result")
    assert (result["outcome"], [s["status"] for s in result["steps"]]) == ("partial", ["applied", "applied", "failed"])
    assert "403" in result["steps"][2]["error"]
    assert world.runtime.state.is_done("e-1")
    assert [e["step"]["keyName"] for e in world.runtime.state.pending(RID)] == ["Key2"]

    world.runtime.ports = Ports(accounts=real)
    world.emulator.clear_requests()
    sweep(world.runtime)  # the permission was granted meanwhile
    # Without Resource Graph the sweep lists the pages, whose body stands in for the account's GET.
    assert [(r.method, r.path.lower()) for r in world.requests()] == [
        ("GET", f"/subscriptions/{RID.split('/')[2]}/providers/microsoft.cognitiveservices/accounts"),
        ("POST", REGENERATE),
    ]
    assert records(world, "result")[-1]["outcome"] == "remediated"
    assert world.runtime.state.pending(RID) == []

"""De-duplication keyed on the event id and what the event says: a redelivery is dropped (and the drop
audited), another event reusing a real event's id is not taken for it."""

from __future__ import annotations

from typing import Any

from emulator.builders import account, account_id
from tests.integration.conftest import WARDEN_OID, calls, write_event

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
RID = account_id("aoai-a")


def patches(world: Any) -> list[tuple[str, str]]:
    return [c for c in calls(world) if c[0] == "PATCH"]


def test_a_forged_self_caused_event_with_a_real_events_id_does_not_hide_the_real_one(make_world: Any) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    forged = write_event(RID, event_id="e-1", oid=WARDEN_OID)  # looks like warden's own echo
    world.deliver(forged)
    assert [(e["outcome"], e["eventId"]) for e in world.audit()] == [("ignored", "e-1")]
    world.deliver(write_event(RID, event_id="e-1"))  # the real event, a human's change: dropped unrecorded before
    assert patches(world) == [("PATCH", RID.lower())]
    assert [e["outcome"] for e in world.audit()][-1] == "remediated"
    assert world.runtime.state.is_done("e-1")


def test_a_redelivery_is_dropped_and_the_drop_is_audited(make_world: Any) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    event = write_event(RID, event_id="e-7")
    world.deliver(event, event)
    assert patches(world) == [("PATCH", RID.lower())]
    last = world.audit()[-1]
    assert (last["kind"], last["outcome"], last["eventId"], last["resourceId"]) == ("event", "ignored", "e-7", RID)
    assert last["reason"] == "duplicate delivery: event e-7 with this content was already handled"


def test_a_redelivered_self_caused_event_is_counted_in_its_one_trace_record(make_world: Any) -> None:
    """An echo and its redelivery are counted in one aggregated trace record (docs/audit.md "Self-caused
    echoes"): no state is read or written for them, and nothing is remediated."""
    world = make_world([account("aoai-a", **OPEN)])
    echo = write_event(RID, event_id="e-9", oid=WARDEN_OID)
    world.deliver(echo, echo)
    [record] = world.audit()
    assert record["reason"].startswith("caused by warden's own identity")
    assert record["observed"]["echoes"]["count"] == 2
    assert world.requests() == []

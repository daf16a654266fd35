"""Self-caused echoes through functions_host.on_event: counted in one trace record per (resource, operation) and
window (docs/audit.md "Self-caused echoes"), never remediated, no state read or written, on both sink pairs."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from emulator.builders import account, account_id
from tests.azurite import new_container
from tests.integration.conftest import WARDEN_APPID, WARDEN_OID, World, write_event
from warden.audit_held import HeldBack
from warden.azure import functions_host
from warden.azure.audit_blob import BlobAuditLog
from warden.azure.state_blob import BlobStateStore
from warden.azure.worker_events import to_functions_event
from warden.echo_trace import MAX_OPEN, Echo, EchoTrace
from warden.model import AuditRecord, Caller

OPEN = {"publicNetworkAccess": "Enabled"}  # drifted: an event that got evaluated would PATCH it
NAMES = ("aoai-a", "aoai-b", "aoai-c")
OWN_APP = "3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60"  # a caller that is not warden's object, with warden's app id


def echoes(n: int, prefix: str = "e-") -> list[dict[str, Any]]:
    """n echoes over the three accounts, both schemas, by warden's object id or (every third) its app id."""
    return [
        write_event(
            account_id(NAMES[i % 3]),
            event_id=f"{prefix}{i}",
            oid=OWN_APP if i % 3 == 2 else WARDEN_OID,
            appid=WARDEN_APPID if i % 3 == 2 else "app-other",
            schema="cloud" if i % 2 else "eventgrid",
        )
        for i in range(n)
    ]


def trace(entries: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The echo trace records by account name: their `observed.echoes`, with the record's own fields."""
    out = {}
    for entry in entries:
        echoes = (entry.get("observed") or {}).get("echoes")
        if echoes is not None:
            out[str(entry["resourceId"]).rsplit("/", 1)[-1]] = {**echoes, "record": entry}
    return out


def test_n_echoes_give_one_counted_record_per_resource_and_operation(make_world: Any, tmp_path: Path) -> None:
    world: World = make_world([account(name, **OPEN) for name in NAMES])
    sent = echoes(30)
    results = [functions_host.on_event(to_functions_event(e), world.runtime) for e in [*sent, sent[0], sent[3]]]
    assert all(r is not None and not r.accepted and "warden's own identity" in r.reason for r in results)
    entries = world.audit()
    counted = trace(entries)
    assert len(entries) == 3
    # A redelivery (e-0 and e-3 again) is one more in its count, nothing else.
    assert {n: c["count"] for n, c in counted.items()} == {"aoai-a": 12, "aoai-b": 10, "aoai-c": 10}
    assert (counted["aoai-a"]["firstEventId"], counted["aoai-a"]["lastEventId"]) == ("e-0", "e-3")
    assert (counted["aoai-b"]["firstEventId"], counted["aoai-b"]["lastEventId"]) == ("e-1", "e-28")
    assert (counted["aoai-c"]["firstEventId"], counted["aoai-c"]["lastEventId"]) == ("e-2", "e-29")
    for name, c in counted.items():
        record = c["record"]
        assert (record["kind"], record["outcome"], record["trigger"]) == ("event", "ignored", "event")
        assert record["eventId"] == c["firstEventId"]
        assert c["operation"] == "Microsoft.CognitiveServices/accounts/write"
        assert c["firstSeen"] <= c["lastSeen"]
        assert f"{c['count']} self-caused echoes counted" in record["reason"]
        assert world.account_props(name)["publicNetworkAccess"] == "Enabled"
    assert counted["aoai-c"]["record"]["caller"] == {"objectId": OWN_APP, "appId": WARDEN_APPID}
    assert world.requests() == []  # nothing read, nothing remediated
    state = tmp_path / "state"
    assert not state.exists() or [p for p in state.rglob("*") if p.is_file()] == []


def test_the_next_append_carries_the_open_counts_ahead_of_its_own(make_world: Any) -> None:
    world: World = make_world([account(name, **OPEN) for name in NAMES])
    world.deliver(*echoes(4))
    world.deliver(write_event(account_id("aoai-b"), event_id="human-1"))  # a person's change: remediated
    world.deliver(*echoes(2, prefix="later-"))
    entries = world.audit()
    ids = [(e["eventId"], e["outcome"]) for e in entries]
    # The first window's three records go out with the human event's first record, ahead of it, in one write.
    assert ids[:3] == [("e-0", "ignored"), ("e-1", "ignored"), ("e-2", "ignored")]
    assert ids[3][0] == "human-1" and ("human-1", "remediated") in ids
    assert ids[-2:] == [("later-0", "ignored"), ("later-1", "ignored")]  # a new window
    assert [trace(entries[:3])[n]["count"] for n in NAMES] == [2, 1, 1]
    assert world.account_props("aoai-b")["publicNetworkAccess"] == "Disabled"


def test_an_echo_the_fast_path_declines_is_counted_in_the_same_record(make_world: Any) -> None:
    world: World = make_world([account("aoai-a", **OPEN)])
    plain, odd = echoes(1)[0], write_event(account_id("aoai-a"), event_id="odd", oid=WARDEN_OID)
    odd["dataVersion"] = 2  # not read by the fast path, so it declines: the full decode and triage decide
    world.deliver(plain, odd)
    [entry] = world.audit()
    assert (trace([entry])["aoai-a"]["count"], trace([entry])["aoai-a"]["lastEventId"]) == (2, "odd")
    assert world.requests() == []


def test_blob_sinks_write_the_trace_at_exit_and_no_state(make_world: Any, azurite: str, tmp_path: Path) -> None:
    world: World = make_world([account(name, **OPEN) for name in NAMES])
    state, audit = new_container(azurite, "state"), new_container(azurite, "audit")
    rt = dataclasses.replace(
        world.runtime,
        state=BlobStateStore(ContainerClient.from_connection_string(azurite, state)),
        audit=BlobAuditLog(ContainerClient.from_connection_string(azurite, audit)),
    )
    for event in echoes(50):
        functions_host.on_event(to_functions_event(event), rt)
    with ContainerClient.from_connection_string(azurite, audit) as client:
        assert list(client.list_blobs()) == []  # held: no Storage round trip per echo
    functions_host._flush_held(rt)  # the exit handler
    reader = BlobAuditLog(ContainerClient.from_connection_string(azurite, audit))  # another process's view
    assert {n: c["count"] for n, c in trace(list(reader.entries())).items()} == {
        "aoai-a": 17,
        "aoai-b": 17,
        "aoai-c": 16,
    }
    with ContainerClient.from_connection_string(azurite, state) as client:
        assert list(client.list_blobs()) == []
    assert world.requests() == []


# -- the trace alone --------------------------------------------------------------------------------------


def _echo(n: int) -> Echo:
    resource_id = account_id(f"acct-{n:04d}")
    return Echo(f"e-{n}", resource_id, "Microsoft.CognitiveServices/accounts/write", "", Caller(WARDEN_OID), "ours")


def test_a_window_is_written_by_its_timer() -> None:
    written: list[AuditRecord] = []
    counts = EchoTrace(HeldBack(written.extend), lambda: datetime.now(UTC), window_s=0.05)
    counts.count(_echo(1))
    counts.count(_echo(1))
    for _ in range(200):  # the timer thread writes it; wait for it without asserting how long it took
        if written:
            break
        time.sleep(0.05)
    assert [(r.event_id, r.observed["echoes"]["count"]) for r in written] == [("e-1", 2)]  # type: ignore[index]


def test_too_many_open_counts_are_written_at_once() -> None:
    written: list[list[AuditRecord]] = []
    counts = EchoTrace(HeldBack(lambda records: written.append(list(records))), lambda: datetime.now(UTC))
    for n in range(MAX_OPEN - 1):
        counts.count(_echo(n))
    assert written == []
    counts.count(_echo(MAX_OPEN - 1))
    assert [len(batch) for batch in written] == [MAX_OPEN]
    assert counts.drain() == []

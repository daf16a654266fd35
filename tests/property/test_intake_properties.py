"""Properties of intake, end to end: any payload parses or is refused whole, and a mutated real event, delivered
through the Functions decode path to the real runtime over the emulator, never crashes the function, never
goes unrecorded, and never leads to a write anywhere but the one real account it may name."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties
from hypothesis import given
from hypothesis import strategies as st

from emulator import Emulator
from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, account_id
from tests.integration.conftest import World, baseline_text, emulator_settings, write_event
from tests.property.conftest import counted
from warden.azure import functions_host
from warden.azure.credentials import StaticTokenCredential
from warden.azure.eventgrid import parse_events
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import to_functions_event
from warden.errors import InvalidEventError, TransientError

ACCOUNT = account_id("aoai-fuzz")
OPEN = AccountProperties(public_network_access="Enabled")
RECORD_BOUND = 256 * 1024  # generous: docs/events.md bounds the stored raw payload far below this
# Strings an attacker reaches for first, then any text at all (lone surrogates and control characters included).
HOSTILE = ["\ud800", "a\udfffb", "\n", "\r\n", "\x1b[2J", "\u202e", "..", ".", "%2e%2e", "\u017f", "AccountKey=S3cr3t"]
TEXT = st.sampled_from(HOSTILE) | st.text(st.characters(exclude_categories=()), max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def _nest(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"data": value}
    return value


@given(JSON, st.integers(0, 3_000))
@counted
def test_any_payload_parses_or_is_refused_whole(payload: Any, depth: int) -> None:
    try:
        _events, rejected = parse_events(_nest(payload, depth))
    except InvalidEventError as exc:
        assert exc.field, "a refused payload names what is wrong"
        return
    for reject in rejected:
        json.dumps(reject.raw)  # what the audit stores is JSON, whatever the payload held


# -- end to end -------------------------------------------------------------------------------------------

# Where a mutation lands in a real-shaped event (either schema), and what it puts there.
PATHS = [
    ("id",),
    ("subject",),
    ("eventType",),
    ("type",),
    ("eventTime",),
    ("time",),
    ("specversion",),
    ("data",),
    ("data", "resourceUri"),
    ("data", "operationName"),
    ("data", "subscriptionId"),
    ("data", "status"),
    ("data", "claims"),
    ("data", "claims", "http://schemas.microsoft.com/identity/claims/objectidentifier"),
    ("data", "claims", "appid"),
]
# Spellings that look like or collapse to the real account: case, look-alike letters, dot segments, encodings.
ID_TWISTS = [
    lambda i: i.upper(),
    lambda i: i.replace("subscriptions", "\u017fubscriptions"),
    lambda i: i.replace("Microsoft", "Micro\u017foft"),
    lambda i: i.replace("accounts/aoai-fuzz", "accounts/."),
    lambda i: i.replace("accounts/aoai-fuzz", "accounts/.."),
    lambda i: i.replace("aoai-fuzz", "aoai%2Dfuzz"),
    lambda i: i.replace("aoai-fuzz", "aoai-fuzz/../aoai-fuzz"),
    lambda i: i + "\n",
    lambda i: i + "\ud800",
    lambda i: i.replace("ai-prod", "ai-prod."),
    lambda i: i.replace("/", "//"),
]


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real-shaped write event for the account, then one to three edits an attacker or a bug could make."""
    event = write_event(ACCOUNT, event_id=str(uuid.uuid4()), schema=draw(st.sampled_from(["eventgrid", "cloud"])))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["set", "splice", "delete", "twist-id", "deepen", "inflate"]))
        data = event.get("data")  # an earlier edit may have deleted or replaced it
        if how == "twist-id":
            twisted = draw(st.sampled_from(ID_TWISTS))(ACCOUNT)
            event["subject"] = twisted
            if isinstance(data, dict):
                data["resourceUri"] = twisted
            continue
        if how in ("deepen", "inflate"):  # a payload far deeper or larger than any real event
            filler = "x" * draw(st.integers(1, 5 * 2**20)) if how == "inflate" else None
            extra = _nest(filler, draw(st.integers(1, 3_000)) if how == "deepen" else 1)
            if isinstance(data, dict):
                data["extra"] = extra
            continue
        path = draw(st.sampled_from(PATHS))
        parent: Any = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if how == "delete":
            parent.pop(path[-1], None)
        elif how == "splice" and isinstance(parent.get(path[-1]), str):
            text = parent[path[-1]]
            at = draw(st.integers(0, len(text)))
            parent[path[-1]] = text[:at] + draw(st.sampled_from(HOSTILE)) + text[at:]
        else:
            parent[path[-1]] = draw(JSON)
    return event


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("fuzz")
    emu = Emulator({"resources": [account("aoai-fuzz", publicNetworkAccess="Enabled")]}).start()
    baseline = baseline_text(max_attempts=1000, max_per_hour=100_000, max_actions=10_000)
    settings = emulator_settings(emu, tmp, baseline)
    yield World(emu, build_runtime(settings), Path(tmp))
    emu.stop()


def reopen(world: World) -> None:
    """A human (through the real SDK) turns public access back on."""
    client = CognitiveServicesManagementClient(
        StaticTokenCredential(), SUB, base_url=world.emulator.endpoint, connection_verify=world.emulator.ca_path
    )
    client.accounts.begin_update("ai-prod", "aoai-fuzz", Account(properties=OPEN)).result()


@given(mutated_events())
@counted
def test_a_mutated_event_is_recorded_and_never_writes_elsewhere(world: World, event: dict[str, Any]) -> None:
    reopen(world)  # every example starts drifted, so an event that gets through leads to a PATCH
    world.emulator.clear_requests()
    before = len(world.audit())
    try:
        delivered = to_functions_event(event)
    except InvalidEventError:
        return  # the Functions worker itself cannot decode it (its time parser): warden never sees it
    try:
        result = functions_host.on_event(delivered, world.runtime)
    except TransientError:
        return  # Event Grid redelivers it: not lost
    writes = [r.path.lower().rstrip("/") for r in world.requests() if r.method not in ("GET", "HEAD")]
    assert set(writes) <= {ACCOUNT.lower()}, writes
    new = world.audit()[before:]
    assert all(str(e.get("resource_id", "")).isascii() for e in new), "records name resources by their ASCII id"
    if result is None:  # rejected: recorded, bounded, whatever the event held
        rejected = [e for e in new if e.get("outcome") == "rejected"]
        assert rejected, "a rejected event leaves a record"
        assert all(len(json.dumps(e)) < RECORD_BOUND for e in rejected)
    elif result.accepted and result.reason != "duplicate delivery":
        assert new, "an evaluated event leaves a record"

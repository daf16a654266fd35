"""The fast echo path (warden/azure/echo_fast.py) against the full path (worker decode, parse, triage): on real-shaped
events it finds the same self-caused echoes, and on anything else it never finds one the full path would not."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.builders import OID_CLAIM, account_id
from tests.integration.conftest import (
    OTHER_SUB,
    WARDEN_APPID,
    WARDEN_OID,
    baseline_text,
    worker_event_as,
    write_event,
)
from tests.property.conftest import counted
from tests.property.test_intake_properties import JSON, TEXT
from warden.azure.echo_fast import recognise
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import decode_worker_event, to_functions_event
from warden.errors import InvalidEventError
from warden.intake import triage
from warden.model import ResourceEvent
from warden.runtime import Runtime
from warden.settings import Settings

ACCOUNT = account_id("aoai-echo")
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """warden's runtime with its own ids; nothing here reaches Azure (the endpoint is closed)."""
    tmp = tmp_path_factory.mktemp("echo-fast")
    (tmp / "baseline.yaml").write_text(baseline_text())
    yield build_runtime(
        Settings(
            baseline_path=tmp / "baseline.yaml",
            arm_endpoint="https://127.0.0.1:9",
            credential="static",
            self_object_ids=frozenset({WARDEN_OID}),
            self_app_ids=frozenset({WARDEN_APPID}),
            audit_dir=tmp / "audit",
            state_dir=tmp / "state",
        )
    )


def full_path(handed: object, rt: Runtime) -> bool:
    """Whether the production path (decode_worker_event, then triage as handle_event calls it) says self-caused."""
    decoded = decode_worker_event(handed)  # type: ignore[arg-type]
    if not isinstance(decoded, ResourceEvent):
        return False
    verdict = triage(
        decoded,
        subscriptions=rt.baseline.subscriptions,
        self_object_ids=rt.self_object_ids,
        self_app_ids=rt.self_app_ids,
        implemented_controls=rt.active_controls(),
    )
    return verdict.self_caused


def both(event: dict[str, Any], rt: Runtime) -> tuple[bool, bool] | None:
    """(fast, full) for the worker's object of `event`; None when the worker itself cannot decode it."""
    try:
        handed = to_functions_event(event)
    except InvalidEventError:
        return None
    found = recognise(handed, rt)
    if found is not None:  # what the fast path hands on is what the full path would have built
        decoded = decode_worker_event(handed)
        assert isinstance(decoded, ResourceEvent)
        assert (found.resource_id, found.operation, found.caller, found.correlation_id) == (
            decoded.resource_id,
            decoded.operation_name,
            decoded.caller,
            decoded.correlation_id,
        )
        assert found.event_id == decoded.event_id
    return found is not None, full_path(handed, rt)


def claims(**values: Any) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        for key, value in values.items():
            name = {"oid": OID_CLAIM, "short_oid": "oid"}.get(key, key)
            if value is _GONE:
                event["data"]["claims"].pop(name, None)
            else:
                event["data"]["claims"][name] = value

    return edit


def data(**values: Any) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is _GONE:
                event["data"].pop(key, None)
            else:
                event["data"][key] = value

    return edit


def envelope(**values: Any) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        event.update(values)

    return edit


_GONE = object()
_DEEP: Any = "x"
for _ in range(70):
    _DEEP = {"d": _DEEP}

# (name, edit, what both paths say: True = self-caused by the full path and found by the fast one). Envelope edits
# use the EventGridEvent names; a CloudEvent gets them as `type` and `time`.
AGREE: list[tuple[str, Edit, bool | None]] = [
    ("our object id", claims(), True),
    ("our object id, upper case", claims(oid=WARDEN_OID.upper()), True),
    ("our object id in the short `oid` claim", claims(oid=_GONE, short_oid=WARDEN_OID), True),
    ("our app id", claims(oid="3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60", appid=WARDEN_APPID), True),
    ("our app id, upper case", claims(oid=_GONE, appid=WARDEN_APPID.upper()), True),
    ("our app id in `azp`", claims(oid=_GONE, appid=_GONE, azp=WARDEN_APPID), True),
    ("another caller", claims(oid="3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60"), False),
    ("no caller at all", claims(oid=_GONE, appid=_GONE), False),
    ("claims missing", data(claims=_GONE), False),
    ("claims null", data(claims=None), False),
    ("claims a string", data(claims=f"oid={WARDEN_OID}"), False),
    ("object id a number", claims(oid=42), False),
    ("object id a list", claims(oid=[WARDEN_OID]), False),
    ("app id an object", claims(oid=_GONE, appid={"id": WARDEN_APPID}), False),
    ("our object id padded", claims(oid=f" {WARDEN_OID} "), False),
    ("our object id, look-alike letter", claims(oid=WARDEN_OID.replace("d", "\u0501")), False),
    ("our object id with a control character", claims(oid=WARDEN_OID + "\n"), False),
    ("the long claim empty, ours in `oid`", claims(oid="", short_oid=WARDEN_OID), True),
    (
        "the long claim another's, ours in `oid`",
        claims(oid="3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60", short_oid=WARDEN_OID),
        False,
    ),
    ("a failed write", envelope(eventType="Microsoft.Resources.ResourceWriteFailure"), False),
    ("another subscription", lambda e: _retarget(e, account_id("aoai-echo", sub=OTHER_SUB)), False),
    ("a storage account", data(operationName="Microsoft.Storage/storageAccounts/write"), False),
    ("operation missing", data(operationName=_GONE), False),
    ("operation empty", data(operationName=""), False),
    ("resourceUri missing: the subject counts", data(resourceUri=_GONE), True),
    ("resourceUri null: the subject counts", data(resourceUri=None), True),
    ("resourceUri empty", data(resourceUri=""), False),
    ("resourceUri not ASCII", data(resourceUri=ACCOUNT.replace("subscriptions", "\u017fubscriptions")), False),
    ("resourceUri with a dot segment", data(resourceUri=ACCOUNT.replace("aoai-echo", "..")), False),
    ("subscriptionId disagrees", data(subscriptionId=OTHER_SUB), False),
    ("subscriptionId upper case", data(subscriptionId=account_id("x").split("/")[2].upper()), True),
    ("correlationId with a control character", data(correlationId="c\x1bd"), False),
    ("correlationId a number", data(correlationId=7), False),
    ("correlationId too long", data(correlationId="c" * 300), False),
    ("status a list", data(status=["Succeeded"]), False),
    ("id too long", envelope(id="e" * 300), False),
    ("id with a lone surrogate", envelope(id="e-\ud800"), False),
    ("id empty", envelope(id=""), False),
    ("id a number", envelope(id=5), False),
    ("data nested too deep", data(extra=_DEEP), False),
    ("time missing (a CloudEvent may omit it)", envelope(eventTime=None), None),
]


def _retarget(event: dict[str, Any], resource_id: str) -> None:
    event["subject"] = event["data"]["resourceUri"] = resource_id
    event["data"]["subscriptionId"] = resource_id.split("/")[2]


@pytest.mark.parametrize("schema", ["eventgrid", "cloud"])
@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in AGREE], ids=[n for n, _, _ in AGREE])
def test_fast_and_full_path_agree_on_real_shaped_events(
    rt: Runtime, schema: str, edit: Edit, expected: bool | None
) -> None:
    event = write_event(ACCOUNT, event_id="e-echo", oid=WARDEN_OID, schema=schema)
    edit(event)
    if schema == "cloud":
        for grid, cloud in (("eventType", "type"), ("eventTime", "time")):
            if grid in event:
                event[cloud] = event.pop(grid)
    if expected is None:  # an EventGridEvent without a time is rejected; a CloudEvent's time is optional
        expected = schema == "cloud"
    assert both(event, rt) == (expected, expected)


# Deviations the fast path does not read: it declines them (the full path decides), never the other way round.
DECLINED: list[tuple[str, Edit]] = [
    ("dataVersion a number", envelope(dataVersion=2)),
    ("topic an object", envelope(topic={"id": "x"})),
    ("data four levels deep", data(extra={"a": {"b": {"c": 1}}})),
]


@pytest.mark.parametrize("edit", [e for _, e in DECLINED], ids=[n for n, _ in DECLINED])
def test_the_fast_path_declines_what_it_does_not_read(rt: Runtime, edit: Edit) -> None:
    event = write_event(ACCOUNT, event_id="e-echo", oid=WARDEN_OID)
    edit(event)
    assert both(event, rt) == (False, True)


def test_a_subclass_of_the_workers_event_takes_the_full_path(rt: Runtime) -> None:
    import azure.functions as func

    class Odd(func.EventGridEvent):
        pass

    odd = worker_event_as(Odd, write_event(ACCOUNT, event_id="e-echo", oid=WARDEN_OID))
    assert recognise(odd, rt) is None
    assert full_path(odd, rt)


# -- any edit at all ---------------------------------------------------------------------------------------

PATHS = [
    ("id",),
    ("subject",),
    ("eventType",),
    ("type",),
    ("eventTime",),
    ("time",),
    ("specversion",),
    ("topic",),
    ("source",),
    ("dataVersion",),
    ("data",),
    ("data", "resourceUri"),
    ("data", "operationName"),
    ("data", "subscriptionId"),
    ("data", "correlationId"),
    ("data", "tenantId"),
    ("data", "status"),
    ("data", "claims"),
    ("data", "claims", OID_CLAIM),
    ("data", "claims", "oid"),
    ("data", "claims", "appid"),
    ("data", "claims", "azp"),
]
OURS = st.sampled_from([WARDEN_OID, WARDEN_OID.upper(), WARDEN_APPID, WARDEN_APPID.upper(), f" {WARDEN_OID}"])


@st.composite
def echo_variants(draw: st.DrawFn) -> dict[str, Any]:
    """A real-shaped echo (our object id, our app id, or both), then one to three edits: any JSON, our ids in
    other claims, deletions, splices of hostile text."""
    oid = draw(st.sampled_from([WARDEN_OID, "3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60"]))
    appid = draw(st.sampled_from([WARDEN_APPID, "app-human"]))
    event = write_event(
        ACCOUNT, event_id="e-echo", oid=oid, appid=appid, schema=draw(st.sampled_from(["eventgrid", "cloud"]))
    )
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        how = draw(st.sampled_from(["ours", "delete", "splice", "json"]))
        if how == "ours":
            parent[path[-1]] = draw(OURS)
        elif how == "delete":
            parent.pop(path[-1], None)
        elif how == "splice" and isinstance(parent.get(path[-1]), str):
            text = parent[path[-1]]
            at = draw(st.integers(0, len(text)))
            parent[path[-1]] = text[:at] + draw(TEXT) + text[at:]
        else:
            parent[path[-1]] = draw(JSON)
    return copy.deepcopy(event)


@given(echo_variants())
@counted
def test_the_fast_path_never_finds_an_echo_the_full_path_would_not(rt: Runtime, event: dict[str, Any]) -> None:
    result = both(event, rt)
    if result is not None:
        fast, full = result
        assert full or not fast, "the fast path found an echo the full path would not"

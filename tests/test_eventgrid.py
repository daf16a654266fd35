"""Event Grid decode: upstream examples and derived fixtures, batches, rejections, claims, the worker path."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.core.messaging import CloudEvent as CoreCloudEvent
from azure.eventgrid import EventGridEvent as SdkEventGridEvent

from tests.conftest import reference_dir
from warden.azure.event_raw import reduce_claims
from warden.azure.eventgrid import RejectedEvent, event_items, parse_events, parse_item
from warden.azure.worker_events import from_functions_event, functions_event_raw, to_functions_event
from warden.errors import InvalidEventError
from warden.model import Caller, EventSchema, ResourceEvent

EVENTGRID = reference_dir() / "eventgrid"
UPSTREAM = sorted(EVENTGRID.glob("Microsoft.*/**/*.json"))
DERIVED = sorted((EVENTGRID / "derived").glob("*.json"))
OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
# Values of the claims that must never survive intake: names, UPNs, IP addresses, token material.
PERSONAL = ("{full-name}", "{user-name}", "{first-name}", "{last-name}", "{IP-address}", "{token}")
PERSONAL_KEYS = ("ipaddr", "upn", "givenname", "surname", '"name"', "onprem_sid", "puid", "aio")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def derived_events() -> list[dict[str, Any]]:
    return [event for path in DERIVED for event in load(path)["events"]]


def arm_event() -> dict[str, Any]:
    """A fresh copy of the derived accounts/write event (EventGridEvent schema)."""
    return copy.deepcopy(load(EVENTGRID / "derived" / "cognitiveservices_arm_events.json")["events"][0])


def kv_event() -> dict[str, Any]:
    """A fresh copy of the derived KeyNewVersionCreated event (EventGridEvent schema)."""
    return copy.deepcopy(load(EVENTGRID / "derived" / "keyvault_key_events.json")["events"][0])


def upstream(relative: str) -> dict[str, Any]:
    return load(EVENTGRID / relative)


def only_rejection(payload: Any) -> RejectedEvent:
    events, rejected = parse_events(payload)
    assert events == []
    assert len(rejected) == 1
    return rejected[0]


def test_the_reference_material_is_there() -> None:
    assert len(UPSTREAM) >= 12
    assert DERIVED


@pytest.mark.parametrize("path", UPSTREAM, ids=lambda p: str(p.relative_to(EVENTGRID)))
def test_every_upstream_example_parses_or_is_rejected_for_camelcase_specversion(path: Path) -> None:
    raw = load(path)
    events, rejected = parse_events(path.read_bytes())
    if "specVersion" in raw:
        assert events == []
        (bad,) = rejected
        assert (bad.index, bad.event_id, bad.field) == (0, raw["id"], "specVersion")
        assert "Event Grid sends lowercase 'specversion'" in bad.message
        assert bad.message.startswith(f"event 0 (id {raw['id']}): specVersion ")
        return
    assert rejected == []
    (event,) = events
    cloud = "specversion" in raw
    data = raw["data"]
    event_type = raw["type" if cloud else "eventType"]
    assert event.schema is (EventSchema.CLOUD_EVENT if cloud else EventSchema.EVENT_GRID)
    assert (event.event_id, event.event_type) == (raw["id"], event_type)
    if event_type.startswith("Microsoft.Resources."):
        assert event.resource_id == data["resourceUri"]
        assert event.operation_name == data["operationName"]
        assert event.subscription_id == data["subscriptionId"]
        assert (event.tenant_id, event.correlation_id, event.status) == (
            data["tenantId"],
            data["correlationId"],
            data["status"],
        )
        # The examples' object id is the placeholder "{ID}": not a GUID, so not recorded as given.
        assert event.caller == Caller(object_id=None, app_id=data["claims"]["appid"])
    else:
        assert event.resource_id == raw["source" if cloud else "topic"]
        assert event.operation_name == event_type
        assert event.caller == Caller()
    # The SDK's own parsers agree on the instant (they also cut the 7th fractional digit).
    sdk_time = CoreCloudEvent.from_dict(raw).time if cloud else SdkEventGridEvent.from_dict(raw).event_time
    assert event.event_time == sdk_time
    assert event.event_time is not None and event.event_time.utcoffset() is not None


def test_exact_fields_of_the_write_success_example() -> None:
    raw = "Microsoft.Resources/2018-01-01/examples/event-grid-schema/resource_write_success.json"
    (event,), _ = parse_events(upstream(raw))
    assert event == ResourceEvent(
        event_id="4db48cba-50a2-455a-93b4-de41a3b5b7f6",
        event_type="Microsoft.Resources.ResourceWriteSuccess",
        schema=EventSchema.EVENT_GRID,
        resource_id="/subscriptions/{subscription-id}/resourcegroups/{resource-group}"
        "/providers/Microsoft.Storage/storageAccounts/{storage-name}",
        operation_name="Microsoft.Storage/storageAccounts/write",
        subscription_id="{subscription-id}",
        tenant_id="{tenant-id}",
        correlation_id="{ID}",
        caller=Caller(object_id=None, app_id="{ID}"),  # "{ID}" is not a GUID: no object id
        event_time=datetime(2018, 7, 19, 18, 38, 4, 611735, tzinfo=UTC),
        status="Succeeded",
    )


@pytest.mark.parametrize("schema", ["event-grid-schema", "cloud-events-schema"])
def test_key_vault_example_details(schema: str) -> None:
    (event,), _ = parse_events(
        upstream(f"Microsoft.KeyVault/2018-01-01/examples/{schema}/secret_new_version_created.json")
    )
    assert event.resource_id.endswith("/providers/Microsoft.KeyVault/vaults/sample-kv")
    assert event.subscription_id == "{subscription-id}"
    assert event.details == {
        "Id": "https://sample-kv.vault.azure.net/secrets/newsecret/ee059b2bb5bc48398a53b168c6cdcb10",
        "VaultName": "sample-kv",
        "ObjectType": "Secret",
        "ObjectName": "newsecret",
        "Version": "ee059b2bb5bc48398a53b168c6cdcb10",
        "NBF": 1559081980,
        "EXP": 1559082102,
    }


def test_storage_example_keeps_url_and_api_only() -> None:
    (event,), _ = parse_events(upstream("Microsoft.Storage/2018-01-01/examples/event-grid-schema/blob_created.json"))
    assert event.details == {
        "url": "https://jolovstorage.blob.core.windows.net/gaocontainer/Template1.xlsx",
        "api": "PutBlob",
    }
    assert event.subscription_id == "faa080af-c1d8-40ad-9cce-e1a450ca5b57"


@pytest.mark.parametrize("path", DERIVED, ids=lambda p: p.name)
def test_every_derived_event_parses(path: Path) -> None:
    items = load(path)["events"]
    events, rejected = parse_events(path.read_text(encoding="utf-8"))  # the fixture wrapper reads as a batch
    assert rejected == []
    assert [e.event_id for e in events] == [i["id"] for i in items]
    assert parse_events(items) == (events, [])
    for event, item in zip(events, items, strict=True):
        assert event.subscription_id == "00000000-0000-0000-0000-000000000000"
        assert event.event_time == datetime(2026, 1, 1, tzinfo=UTC)
        if event.event_type.startswith("Microsoft.KeyVault."):
            assert event.details["ObjectName"] == "cmk-aoai"
            assert event.details["EXP"] == 1590704380
        else:
            assert event.operation_name == item["data"]["operationName"]
            assert event.caller == Caller(object_id=None, app_id="{ID}")  # "{ID}" is not a GUID


def test_a_batch_with_one_malformed_item_keeps_the_others() -> None:
    items = derived_events()
    del items[2]["data"]["operationName"]
    events, rejected = parse_events(json.dumps(items))
    assert len(events) == len(items) - 1
    (bad,) = rejected
    assert (bad.index, bad.event_id, bad.field) == (2, items[2]["id"], "data.operationName")
    assert bad.message == f"event 2 (id {items[2]['id']}): data.operationName is missing"
    assert bad.raw["data"]["resourceUri"] == items[2]["data"]["resourceUri"]


def test_a_non_object_item_is_rejected_by_position() -> None:
    events, rejected = parse_events([arm_event(), 42, "text"])
    assert len(events) == 1
    assert [(r.index, r.event_id, r.raw) for r in rejected] == [(1, "", None), (2, "", None)]
    assert rejected[0].message == "event 1 (no id): the item is a JSON number, not an event object"


@pytest.mark.parametrize("payload", ["{not json", b"\xff\xfe[", "", "42", '"an event"', "null"])
def test_an_unusable_payload_raises(payload: str | bytes) -> None:
    with pytest.raises(InvalidEventError) as info:
        parse_events(payload)
    assert info.value.field == "(payload)"


def test_invalid_json_says_where() -> None:
    with pytest.raises(InvalidEventError, match="line 2 column"):
        parse_events('[\n{"id": }]')


def test_an_empty_batch_is_empty() -> None:
    assert parse_events("[]") == ([], [])


def test_event_items_unwraps_the_fixture_layout_only() -> None:
    path = EVENTGRID / "derived" / "cognitiveservices_arm_events.json"
    assert event_items(path.read_bytes()) == load(path)["events"]
    assert event_items({"_note": "n", "events": []}) == []
    one = arm_event()
    assert event_items(one) == [one] and event_items([one, 42]) == [one, 42]
    # Another key next to `events` makes it an object of its own (then rejected as an event, not unwrapped).
    odd = {"events": [one], "source": "x"}
    assert event_items(odd) == [odd]
    with pytest.raises(InvalidEventError):
        event_items("42")


def test_parse_item_is_one_item_of_parse_events() -> None:
    bad = arm_event()
    del bad["data"]["operationName"]
    rejected = parse_item(bad, 3)
    assert isinstance(rejected, RejectedEvent)
    assert rejected.message == f"event 3 (id {bad['id']}): data.operationName is missing"
    assert parse_item(arm_event()) == parse_events(arm_event())[0][0]
    assert parse_item(None, 1) == RejectedEvent(
        1, "", "", "event 1 (no id): the item is a JSON null, not an event object", None
    )


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda e: e["data"].pop("operationName"), "data.operationName", "is missing"),
        (lambda e: e["data"].update(operationName=7), "data.operationName", "is a JSON number, not a string"),
        (lambda e: e.update(data="text"), "data", "is a JSON string, not an object"),
        (lambda e: e.update(data=[1]), "data", "is a JSON array, not an object"),
        (lambda e: e.pop("data"), "data", "is missing"),
        (lambda e: e.pop("id"), "id", "is missing"),
        (lambda e: e.pop("eventTime"), "eventTime", "is missing"),
        (lambda e: e.update(eventTime="yesterday"), "eventTime", "not an RFC 3339 time"),
        (lambda e: e.update(eventTime="2026-01-01T00:00:00"), "eventTime", "without a UTC offset"),
        (lambda e: e["data"].update(resourceUri="aoai-1"), "data.resourceUri", "not an ARM resource id"),
        (lambda e: e["data"].update(claims=["x"]), "data.claims", "is a JSON array, not an object"),
        (
            lambda e: e["data"].update(subscriptionId="11111111-0000-0000-0000-000000000000"),
            "data.subscriptionId",
            "resource id is in subscription",
        ),
        (lambda e: e.pop("eventType"), "eventType", "neither an EventGridEvent"),
    ],
)
def test_malformed_fields_are_named(change: Any, field: str, problem: str) -> None:
    event = arm_event()
    change(event)
    bad = only_rejection(event)
    assert bad.field == field
    assert problem in bad.message
    assert bad.message.startswith(f"event 0 ({'id ' + event['id'] if 'id' in event else 'no id'}): {field}")


def test_subject_is_the_fallback_and_must_be_an_arm_id() -> None:
    event = arm_event()
    del event["data"]["resourceUri"]
    (parsed,), _ = parse_events(event)
    assert parsed.resource_id == event["subject"]
    event["subject"] = "aoai-1"
    bad = only_rejection(event)
    assert (bad.field, bad.message) == (
        "subject",
        f"event 0 (id {event['id']}): subject is 'aoai-1', not an ARM resource id (/subscriptions/...)",
    )


def test_subscription_comparison_ignores_case() -> None:
    event = arm_event()
    event["data"]["subscriptionId"] = event["data"]["subscriptionId"].upper()
    assert parse_events(event)[1] == []


def test_a_cloudevent_without_specversion_or_with_another_version() -> None:
    event = derived_events()[1]
    assert event["specversion"] == "1.0"
    event["specversion"] = "0.3"
    assert only_rejection(event).field == "specversion"
    del event["specversion"]
    bad = only_rejection(event)
    assert bad.field == "specversion" and "is missing" in bad.message


def test_oid_and_azp_claim_spellings() -> None:
    event = arm_event()
    oid = "5e0b1c2d-3f4a-4b5c-9d6e-7f8091a2b3c4"
    event["data"]["claims"] = {"oid": oid, "azp": "a-1", "name": "Someone"}
    (parsed,), _ = parse_events(event)
    assert parsed.caller == Caller(object_id=oid, app_id="a-1")
    del event["data"]["claims"]
    (parsed,), _ = parse_events(event)
    assert parsed.caller == Caller()


def test_key_vault_nbf_exp_may_be_numbers_and_names_any_case() -> None:
    event = kv_event()
    event["data"] = {"id": "https://v/keys/k/1", "vaultName": "v", "objectName": "k", "NBF": 10, "EXP": 2.0}
    (parsed,), _ = parse_events(event)
    assert parsed.details == {
        "Id": "https://v/keys/k/1",
        "VaultName": "v",
        "ObjectName": "k",
        "NBF": 10,
        "EXP": 2,
    }
    event["data"]["EXP"] = "soon"
    assert only_rejection(event).field == "data.EXP"
    event["data"] = {"VaultName": "v"}
    assert only_rejection(event).field == "data.ObjectName"
    event["topic"] = "sample-kv"
    assert only_rejection(event).field == "topic"


def test_subscription_validation_parses_as_irrelevant_and_drops_the_code() -> None:
    event = {
        "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        "topic": "/subscriptions/00000000-0000-0000-0000-000000000000",
        "subject": "",
        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", "validationUrl": "https://x/y"},
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2018-01-25T22:12:19.4556811Z",
        "metadataVersion": "1",
        "dataVersion": "1",
    }
    (parsed,), rejected = parse_events(event)
    assert rejected == []
    assert parsed.event_type == "Microsoft.EventGrid.SubscriptionValidationEvent"
    assert parsed.details == {}
    assert "512d38b6" not in repr(parsed)


def test_claims_are_reduced_everywhere() -> None:
    raw = upstream("Microsoft.Resources/2018-01-01/examples/event-grid-schema/resource_delete_success.json")
    text = json.dumps(raw)
    assert all(value in text for value in PERSONAL)  # the example does carry them
    (event,), _ = parse_events(raw)
    broken = copy.deepcopy(raw)
    del broken["data"]["operationName"]
    bad = only_rejection(broken)
    assert set(bad.raw["data"]["claims"]) == {OID, "appid"}
    assert "clientIpAddress" not in bad.raw["data"]["httpRequest"]
    for kept in (json.dumps(bad.raw), bad.message, repr(event), repr(bad)):
        for value in PERSONAL:
            assert value not in kept
        for key in PERSONAL_KEYS:
            assert key not in kept
    assert raw == load(
        EVENTGRID / "Microsoft.Resources/2018-01-01/examples/event-grid-schema/resource_delete_success.json"
    )
    assert reduce_claims("name=Someone") == {}
    assert reduce_claims({"oid": "o", "upn": "u@x"}) == {"oid": "[not a GUID]"}  # never kept as given
    guid = "5e0b1c2d-3f4a-4b5c-9d6e-7f8091a2b3c4"
    assert reduce_claims({"oid": guid, "upn": "u@x"}) == {"oid": guid}


# -- the Functions worker's decode path ----------------------------------------------------------------


def every_raw_event() -> list[dict[str, Any]]:
    return [load(path) for path in UPSTREAM] + derived_events()


@pytest.mark.parametrize("raw", every_raw_event(), ids=lambda r: f"{r['id']}")
def test_the_worker_decode_path_gives_the_same_event(raw: dict[str, Any]) -> None:
    handed = to_functions_event(raw)
    assert isinstance(handed, func.CloudEvent if "specversion" in raw else func.EventGridEvent)
    events, rejected = parse_events(raw)
    if rejected:
        with pytest.raises(InvalidEventError) as info:
            from_functions_event(handed)
        assert info.value.field == "eventType"
        assert "lowercase 'specversion'" in str(info.value)
        return
    assert from_functions_event(handed) == events[0]


def test_the_worker_path_names_the_field_at_fault() -> None:
    event = arm_event()
    del event["data"]["operationName"]
    with pytest.raises(InvalidEventError) as info:
        from_functions_event(to_functions_event(event))
    assert (info.value.field, info.value.where) == ("data.operationName", event["id"])
    assert str(info.value) == f"event (id {event['id']}): data.operationName is missing"


def test_the_worker_path_rejects_other_objects() -> None:
    with pytest.raises(InvalidEventError):
        from_functions_event(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schema", "value"),
    [("eventTime", 1767225600), ("eventTime", "next tuesday"), ("time", 1767225600.5), ("time", "31/12/2025")],
)
def test_a_time_the_worker_cannot_decode_is_an_invalid_event_naming_the_field(schema: str, value: Any) -> None:
    event = arm_event() if schema == "eventTime" else next(e for e in derived_events() if "specversion" in e)
    event[schema] = value
    with pytest.raises(InvalidEventError) as info:
        to_functions_event(event)
    assert (info.value.field, info.value.where) == (schema, event["id"])
    assert f"{schema} is {value!r}" in str(info.value)


@pytest.mark.parametrize("raw", derived_events(), ids=lambda r: f"{r['id']}")
def test_the_worker_event_goes_back_to_its_envelope(raw: dict[str, Any]) -> None:
    back = functions_event_raw(to_functions_event(raw))
    kept = set(raw) - {"metadataVersion"}  # the worker's EventGridEvent has no metadataVersion
    assert {k: back[k] for k in kept - {"time", "eventTime"}} == {k: raw[k] for k in kept - {"time", "eventTime"}}
    time_key = "time" if "specversion" in raw else "eventTime"
    assert datetime.fromisoformat(back[time_key]) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_events(back) == parse_events(raw)


def test_cloud_event_extension_attributes_are_kept() -> None:
    raw = next(e for e in derived_events() if "specversion" in e) | {"traceparent": "00-ab-cd-01"}
    back = functions_event_raw(to_functions_event(raw))
    assert back["traceparent"] == "00-ab-cd-01"
    assert back["datacontenttype"] is None and back["dataschema"] is None  # attributes the worker has, unset

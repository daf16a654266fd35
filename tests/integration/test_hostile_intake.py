"""Hostile events on the Event Grid function's path: each ends as one audit record, never as an exception.

An exception would fail the function, and Event Grid would retry the event for 24 hours with nothing recorded.
Events are real-shaped (tests/fixtures/reference derived payloads) and go through the Functions worker's own
decoder and the trigger body, against the emulator.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from emulator.builders import account, account_id
from tests.integration.conftest import WARDEN_OID, calls, emulator_settings, write_event
from warden.azure import functions_host
from warden.azure.event_raw import HEAD_CHARS, MAX_DEPTH, RAW_LIMIT, reduce_raw
from warden.azure.eventgrid import RejectedEvent, event_items, parse_item
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import to_functions_event
from warden.errors import InvalidEventError
from warden.model import Caller

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
RID = account_id("aoai-a")


def rejected(world: Any) -> list[dict[str, Any]]:
    return [e for e in world.audit() if e["outcome"] == "rejected"]


def nested(depth: int) -> Any:
    """A JSON value `depth` objects deep (built iteratively: it must not need the stack either)."""
    value: Any = "bottom"
    for _ in range(depth):
        value = {"n": value}
    return value


def malformed(event_id: str = "bad-1", **data: Any) -> dict[str, Any]:
    """A real-shaped ARM event without its operationName (so it is rejected), with extra `data` members."""
    event = write_event(RID, event_id=event_id)
    del event["data"]["operationName"]
    event["data"].update(data)
    return event


# -- 1. events that crashed the function ----------------------------------------------------------------


@pytest.mark.parametrize("event_id", ["e-\ud800", "e-\udfff-x", "e-\n-forged-row", "e-\x1b[2J"])
def test_a_lone_surrogate_or_control_character_in_the_event_id_is_rejected_and_recorded(
    make_world: Any, event_id: str
) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    event = write_event(RID, event_id=event_id)
    world.deliver(event)  # a lone surrogate crashed in the state store's key (UnicodeEncodeError) before
    (record,) = rejected(world)
    assert "id holds a" in record["error"] and "U+" in record["error"]
    assert record["eventId"].isascii()  # stored escaped: the log stays valid UTF-8
    world.deliver(event)  # a redelivery is rejected again, not a crash
    assert [c for c in calls(world) if c[0] == "PATCH"] == []


def test_a_lone_surrogate_in_a_malformed_event_is_rejected_and_recorded(make_world: Any) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.deliver(malformed(event_id="bad-\udfff", note="\ud800"))
    (record,) = rejected(world)
    assert record["eventId"] == "bad-\\udfff"
    assert record["observed"]["raw"]["data"]["note"] == "\\ud800"


def test_data_nested_600_levels_is_rejected_with_its_raw_payload_cut(make_world: Any) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.deliver(malformed(deep=nested(600)))  # copy.deepcopy raised RecursionError before
    (record,) = rejected(world)
    assert "data nests deeper than 64 levels" in record["error"]
    raw = record["observed"]["raw"]
    assert raw["truncated"] is True and "deeper than 64 levels" in raw["reason"]
    assert len(raw["head"]) == HEAD_CHARS and raw["bytes"] > HEAD_CHARS
    assert world.requests() == []  # rejected before any Azure call


def test_a_well_formed_event_nesting_too_deep_is_rejected_naming_the_limit() -> None:
    event = write_event(RID)
    event["data"]["authorization"]["evidence"] = nested(MAX_DEPTH)
    bad = parse_item(event, None)
    assert isinstance(bad, RejectedEvent)
    assert (bad.field, bad.event_id) == ("data", "e-1")
    assert bad.message == f"event (id e-1): data nests deeper than {MAX_DEPTH} levels"
    event["data"]["authorization"]["evidence"] = nested(MAX_DEPTH - 3)  # data -> authorization -> evidence
    assert not isinstance(parse_item(event), RejectedEvent)


def test_a_payload_too_deep_to_decode_is_an_invalid_event_not_a_recursion_error() -> None:
    text = json.dumps(malformed())
    deep = '{"n":' * 990 + '"x"' + "}" * 990
    payload = text[:-1] + ',"deep":' + deep + "}"
    with pytest.raises(InvalidEventError) as info:
        event_items(payload)
    assert info.value.field == "(payload)" and "nests too deeply" in str(info.value)


def test_any_failure_inside_one_item_is_a_rejection() -> None:
    class Hostile(dict):  # type: ignore[type-arg]
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    bad = parse_item(Hostile(write_event(RID)), 4)
    assert isinstance(bad, RejectedEvent)
    assert bad.message.startswith("event 4 (no id): could not be read (RuntimeError: boom)")


def test_an_event_over_4_mib_is_rejected_and_recorded_by_the_blob_sink(azurite: str, tmp_path: Path) -> None:
    with Emulator({"resources": [account("aoai-a", **OPEN)]}) as emu:
        container = f"hostile-{tmp_path.name[-20:].lower().replace('_', '-')}"
        settings = emulator_settings(emu, tmp_path, audit_connection_string=azurite, audit_container=container)
        rt = build_runtime(settings)
        event = malformed(padding="x" * (4 * 1024 * 1024 + 10))
        # "audit batch exceeds one append block" (AuditWriteError) failed the function before.
        assert functions_host.on_event(to_functions_event(event), rt) is None
        (record,) = [e for e in rt.audit.entries() if e["outcome"] == "rejected"]
    raw = record["observed"]["raw"]
    assert raw["truncated"] is True and raw["bytes"] > RAW_LIMIT and len(raw["head"]) == HEAD_CHARS
    assert raw["reason"] == f"the event's canonical JSON is longer than {RAW_LIMIT} bytes"
    assert len(json.dumps(record)) < 64 * 1024


def test_the_cut_raw_payload_keeps_the_sha256_and_length_of_its_canonical_text() -> None:
    event = malformed(padding="y" * (RAW_LIMIT + 1))
    cut = reduce_raw(event)
    reduced = copy.deepcopy(event)
    reduced["data"]["claims"] = {k: v for k, v in reduced["data"]["claims"].items() if k == "appid"} | {
        "http://schemas.microsoft.com/identity/claims/objectidentifier": reduced["data"]["claims"][
            "http://schemas.microsoft.com/identity/claims/objectidentifier"
        ]
    }
    del reduced["data"]["httpRequest"]["clientIpAddress"]
    canonical = json.dumps(reduced, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert cut["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert cut["bytes"] == len(canonical)
    assert cut["head"] == canonical[:HEAD_CHARS]
    small = malformed()
    assert reduce_raw(small)["data"]["resourceUri"] == RID  # small and shallow: kept whole


# -- 5. secrets and personal data -----------------------------------------------------------------------

SECRET = "S3cr3tValue0123456789abcdef"
INLINE = [
    f"Authorization: SharedKey myaccount:{SECRET}",
    f"Cookie: session={SECRET}",
    f"password: {SECRET}",
    f"https://user:{SECRET}@example.com/path",
    f"sk-proj-{SECRET}",
    f"ghp_{SECRET}",
]


def test_secrets_in_a_rejected_payload_are_redacted_in_the_record_and_the_log(
    make_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    event = malformed(
        notes=INLINE,
        primary=SECRET,
        pat=SECRET,
        passphrase=SECRET,
        headers={"Cookie": f"a={SECRET}", "Authorization": f"SharedKey acct:{SECRET}"},
    )
    event["data"]["note"] = f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={SECRET};"
    event["id"] = f"bad AccountKey={SECRET}"
    with caplog.at_level(logging.DEBUG):
        world.deliver(event)
    (record,) = rejected(world)
    stored = json.dumps(record)
    assert SECRET not in stored
    assert SECRET not in caplog.text  # the WARNING quoted the event id unscrubbed before
    assert "rejected event" in caplog.text


def test_claims_spelt_in_any_case_are_reduced_in_a_rejected_payload(make_world: Any) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    event = malformed()
    claims = event["data"].pop("claims")
    event["data"]["Claims"] = claims | {"upn": "someone@example.com", "ipaddr": "203.0.113.9"}
    world.deliver(event)
    (record,) = rejected(world)
    assert set(record["observed"]["raw"]["data"]["Claims"]) == {
        "http://schemas.microsoft.com/identity/claims/objectidentifier",
        "appid",
    }
    assert "someone@example.com" not in json.dumps(record) and "203.0.113.9" not in json.dumps(record)


@pytest.mark.parametrize("oid", ["not-a-guid", "someone@example.com", "x" * 5000])
def test_an_object_id_that_is_not_a_guid_is_not_recorded(make_world: Any, oid: str) -> None:
    world = make_world([account("aoai-a", publicNetworkAccess="Disabled")])
    world.deliver(write_event(RID, oid=oid))
    (record,) = world.audit()
    assert record["outcome"] == "compliant"
    assert record["caller"] == {"objectId": None, "appId": "app-human"}
    bad = malformed()
    bad["data"]["claims"]["http://schemas.microsoft.com/identity/claims/objectidentifier"] = oid
    world.deliver(bad)
    assert oid not in json.dumps(world.audit())


def test_a_guid_object_id_is_kept() -> None:
    parsed = parse_item(write_event(RID, oid=WARDEN_OID.upper()))
    assert not isinstance(parsed, RejectedEvent)
    assert parsed.caller == Caller(object_id=WARDEN_OID.upper(), app_id="app-human")


def test_the_rejection_warning_is_scrubbed_as_the_record_is(make_world: Any, caplog: pytest.LogCaptureFixture) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    with caplog.at_level(logging.WARNING, logger="warden.service"):
        world.deliver(malformed(event_id=f"bad;AccountKey={SECRET}"))
    assert "rejected event bad;AccountKey=[redacted]" in caplog.text  # printed the key before
    assert SECRET not in caplog.text and SECRET not in json.dumps(world.audit())

"""Notifications end to end: the real EventGridPublisherClient against the emulator's Event Grid topic, fed by a real
LocalAuditLog's observers and by a real remediation (the integration rig), with delivery failures injected there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator import Emulator
from emulator.builders import account, account_id
from tests.integration.conftest import make_world, write_event
from warden.audit import LocalAuditLog, parse_time
from warden.azure.credentials import StaticTokenCredential
from warden.azure.notify_eventgrid import build_notifier
from warden.model import AuditRecord, Decision, Mode, Outcome, RecordKind
from warden.notify import FAILED, NEEDS_HUMAN, REMEDIATED, Notifier, record_id
from warden.settings import Settings

__all__ = ["make_world"]  # the integration rig's fixture, used below

T0 = datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC)
OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as started:
        yield started


@pytest.fixture
def notifiers() -> Iterator[list[Notifier]]:
    made: list[Notifier] = []
    yield made
    for n in made:
        n.close(timeout=5)


def topic_notifier(emu: Emulator, made: list[Notifier], **options: Any) -> tuple[Notifier, list[float]]:
    """The Notifier build_notifier makes for the emulator's topic; its backoff is recorded, not slept."""
    settings = Settings(baseline_path=Path("baseline.yaml"), arm_ca_bundle=emu.ca_path)
    assert build_notifier(settings, StaticTokenCredential()) is None  # unset: no notifications
    settings = Settings(
        baseline_path=Path("baseline.yaml"),
        arm_ca_bundle=emu.ca_path,
        notify_topic_endpoint=emu.topic_endpoint,
        site_name="func-test",
    )
    slept: list[float] = []
    notifier = build_notifier(settings, StaticTokenCredential(), sleep=slept.append, **options)
    assert notifier is not None
    made.append(notifier)
    return notifier, slept


def topic_posts(emu: Emulator) -> list[tuple[int, str | None]]:
    return [(r.status, r.fault) for r in emu.requests if r.kind == "eventgrid"]


def test_an_injected_failure_is_retried_then_delivered_with_the_audit_records_ids(
    emu, notifiers, tmp_path, caplog
) -> None:
    notifier, slept = topic_notifier(emu, notifiers, backoff=0.25)
    audit = LocalAuditLog(tmp_path / "audit")
    audit.observers = (notifier.observe,)
    emu.add_fault("POST", "/api/events$", "server-error", status=503)
    rid = account_id("aoai-a")
    common: dict[str, Any] = {"time": T0, "resource_id": rid, "control_id": "network.public-access"}
    audit.append(
        [
            AuditRecord(kind=RecordKind.INTENT, event_id="e-1", correlation_id="c-1", **common),
            AuditRecord(
                kind=RecordKind.RESULT,
                event_id="e-1",
                correlation_id="c-1",
                mode=Mode.ENFORCE,
                decision=Decision.ENFORCE,
                outcome=Outcome.REMEDIATED,
                change={"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}},
                **common,
            ),
            AuditRecord(kind=RecordKind.EVALUATION, outcome=Outcome.COMPLIANT, **common),
            AuditRecord(
                kind=RecordKind.DECISION, outcome=Outcome.NEEDS_HUMAN, decision=Decision.NO_REMEDIATOR, **common
            ),
            AuditRecord(kind=RecordKind.EVENT, outcome=Outcome.FAILED, time=T0, error="sweep failed"),
        ]
    )
    assert notifier.flush(10)
    assert topic_posts(emu) == [(503, "server-error"), (200, None)]
    assert slept == [0.25]
    assert notifier.stats() == {"published": 3, "failed_attempts": 1, "given_up": 0, "dropped": 0, "pending": 0}

    events = emu.published_events()
    entries = [e for e in audit.entries() if e["outcome"] in ("remediated", "needs-human", "failed")]
    assert [e["type"] for e in events] == [REMEDIATED, NEEDS_HUMAN, FAILED]
    assert [e["id"] for e in events] == [record_id(entry) for entry in entries]
    for event, entry in zip(events, entries, strict=True):
        assert event["data"]["recordId"] == event["id"]
        assert (event["data"]["eventId"], event["data"]["correlationId"]) == (entry["eventId"], entry["correlationId"])
        assert parse_time(event["time"]) == parse_time(entry["time"]) and event["data"]["time"] == entry["time"]
        assert event["source"] == "/warden/func-test"
        assert event["specversion"] == "1.0"
    assert events[0]["subject"] == rid and "subject" not in events[2]
    assert events[0]["data"]["change"] == entries[0]["change"]
    assert "is not a known attribute" not in caplog.text  # the SDK's per-option noise is filtered


def test_a_reset_connection_is_retried_too_and_a_topic_that_stays_down_is_given_up(emu, notifiers, tmp_path) -> None:
    notifier, slept = topic_notifier(emu, notifiers, attempts=3, backoff=1)
    emu.add_fault("POST", "/api/events$", "reset", count=3)
    audit = LocalAuditLog(tmp_path / "audit")
    audit.observers = (notifier.observe,)
    audit.append([AuditRecord(time=T0, kind=RecordKind.RESULT, outcome=Outcome.FAILED, error="x")])
    assert notifier.flush(10)
    assert topic_posts(emu) == [(0, "reset")] * 3
    assert slept == [1, 2]
    assert notifier.stats() == {"published": 0, "failed_attempts": 3, "given_up": 1, "dropped": 0, "pending": 0}
    assert emu.published_events() == []
    assert [e["outcome"] for e in audit.entries()] == ["failed"]  # the audit log holds it all the same


def test_the_topic_takes_bearer_tokens_and_cloudevents_batches_only(emu) -> None:
    event = {"id": "1", "source": "/s", "type": "t", "specversion": "1.0"}
    post = emu.topic_endpoint + "?api-version=2018-01-01"
    batch = {"Content-Type": "application/cloudevents-batch+json; charset=utf-8"}
    bearer = {**batch, "Authorization": "Bearer x"}
    cases = [
        ({**batch, "aeg-sas-key": "k"}, [event], 401),  # local auth is disabled
        (batch, [event], 401),
        ({**bearer, "Content-Type": "application/json"}, [event], 400),  # the EventGridEvent schema's
        (bearer, [{**event, "specversion": "0.3"}], 400),
        (bearer, [{k: v for k, v in event.items() if k != "source"}], 400),
        (bearer, [], 400),
        (bearer, [event], 200),
    ]
    statuses = [
        requests.post(post, json=body, headers=h, verify=emu.ca_path, timeout=10).status_code for h, body, _ in cases
    ]
    assert statuses == [want for _, _, want in cases]
    assert emu.published_events() == [event]
    refused = requests.post(post, json=[event], headers=batch, verify=emu.ca_path, timeout=10).json()
    assert refused["error"]["code"] == "Unauthorized"


# --- a remediation whose notification fails (the integration rig: the real pipeline, the real SDK clients) ---------


def test_a_remediation_whose_notification_fails_is_applied_and_audited(make_world, notifiers) -> None:
    world = make_world([account("aoai-a", **OPEN, disableLocalAuth=True)])
    notifier, _ = topic_notifier(world.emulator, notifiers, attempts=2)
    world.runtime.audit.observers = (notifier.observe,)  # type: ignore[attr-defined]
    world.emulator.add_fault("POST", "/api/events$", "server-error", count=2)
    world.deliver(write_event(account_id("aoai-a")))
    assert notifier.flush(10)

    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert [(e["kind"], e["outcome"]) for e in world.audit()] == [("intent", ""), ("result", "remediated")]
    assert notifier.stats()["given_up"] == 1 and world.emulator.published_events() == []


def test_a_remediation_is_announced_with_the_ids_of_its_result_record(make_world, notifiers) -> None:
    world = make_world([account("aoai-a", **OPEN, disableLocalAuth=True)])
    notifier, _ = topic_notifier(world.emulator, notifiers)
    world.runtime.audit.observers = (notifier.observe,)  # type: ignore[attr-defined]
    world.deliver(write_event(account_id("aoai-a"), event_id="e-42"))
    assert notifier.flush(10)

    (result,) = [e for e in world.audit() if e["kind"] == "result"]
    (event,) = world.emulator.published_events()
    assert (event["id"], event["type"], event["data"]["eventId"]) == (record_id(result), REMEDIATED, "e-42")
    assert event["data"]["correlationId"] == result["correlationId"] != ""
    assert event["data"]["change"] == {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}}

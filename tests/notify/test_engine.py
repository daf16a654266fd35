"""The notification engine with an injected publish: which records notify, the CloudEvent's fields and ids, and the
Notifier's queue, retries and counters (no network, no timing: the worker is waited on through flush)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from warden.audit import record_to_json
from warden.model import AuditRecord, Decision, Mode, Outcome, RecordKind, Trigger
from warden.notify import FAILED, NEEDS_HUMAN, REMEDIATED, Notice, Notifier, event_type, notice, record_id

T0 = datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC)
RID = "/subscriptions/sub-1/resourceGroups/ai/providers/Microsoft.CognitiveServices/accounts/x"


def rec(kind: RecordKind, outcome: Outcome | None, **fields: object) -> AuditRecord:
    given: dict[str, object] = {"time": T0, "kind": kind, "outcome": outcome, "resource_id": RID, "control_id": "c.x"}
    return AuditRecord(**(given | fields))  # type: ignore[arg-type]


ANNOUNCED = [
    (RecordKind.RESULT, Outcome.REMEDIATED, REMEDIATED),
    (RecordKind.RESULT, Outcome.PARTIAL, REMEDIATED),
    (RecordKind.RESULT, Outcome.NOT_VERIFIED, REMEDIATED),
    (RecordKind.RESULT, Outcome.FAILED, FAILED),
    (RecordKind.DECISION, Outcome.NEEDS_HUMAN, NEEDS_HUMAN),
    (RecordKind.DECISION, Outcome.BLOCKED, NEEDS_HUMAN),
    (RecordKind.EVENT, Outcome.FAILED, FAILED),
    (RecordKind.EVALUATION, Outcome.FAILED, FAILED),
]
SILENT = [
    (RecordKind.EVALUATION, Outcome.COMPLIANT),
    (RecordKind.DECISION, Outcome.WOULD_REMEDIATE),
    (RecordKind.DECISION, Outcome.EXEMPTED),
    (RecordKind.DECISION, Outcome.SKIPPED),
    (RecordKind.EVENT, Outcome.IGNORED),
    (RecordKind.EVENT, Outcome.REJECTED),
    (RecordKind.EVALUATION, Outcome.RESOURCE_GONE),
    (RecordKind.INTENT, None),
    (RecordKind.ROLLOVER, None),
]


@pytest.mark.parametrize(("kind", "outcome", "expected"), ANNOUNCED)
def test_remediations_needs_human_and_failures_are_announced(kind, outcome, expected) -> None:
    assert event_type(kind.value, outcome.value) == expected
    made = notice(record_to_json(rec(kind, outcome)), "/warden")
    assert made is not None and made.type == expected


@pytest.mark.parametrize(("kind", "outcome"), SILENT)
def test_everything_else_is_not(kind, outcome) -> None:
    assert notice(record_to_json(rec(kind, outcome)), "/warden") is None


def test_the_event_carries_the_records_ids_and_what_it_did_but_not_its_observed_values() -> None:
    record = rec(
        RecordKind.RESULT,
        Outcome.PARTIAL,
        event_id="e-1",
        correlation_id="corr-1",
        mode=Mode.ENFORCE,
        decision=Decision.ENFORCE,
        observed={"publicNetworkAccess": "Enabled"},
        change={"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}},
        steps=({"step": "account.patch", "target": RID, "status": "applied", "change": {"x": 1}, "observed": "o"},),
        reason="enforce",
        error="the second step failed",
        trigger=Trigger.EVENT,
    )
    stored = record_to_json(record)
    made = notice(stored, "/warden/func-x")
    assert made is not None
    assert (made.id, made.source, made.subject, made.time) == (record_id(stored), "/warden/func-x", RID, T0)
    assert made.data == {
        "recordId": made.id,
        "eventId": "e-1",
        "correlationId": "corr-1",
        "resourceId": RID,
        "controlId": "c.x",
        "kind": "result",
        "mode": "enforce",
        "decision": "enforce",
        "outcome": "partial",
        "change": {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}},
        "steps": [{"step": "account.patch", "target": RID, "status": "applied"}],
        "reason": "enforce",
        "error": "the second step failed",
        "trigger": "event",
        "time": "2026-12-02T01:02:03.456789Z",
    }
    assert "observed" not in json.dumps(made.data)


def test_the_record_id_is_the_same_for_the_entry_read_back_and_differs_between_records() -> None:
    stored = record_to_json(rec(RecordKind.RESULT, Outcome.REMEDIATED))
    read_back = json.loads(json.dumps({"seq": 7, **stored, "prev_hash": "0" * 64, "hash": "f" * 64}))
    assert record_id(read_back) == record_id(stored)
    assert len(record_id(stored)) == 64 and int(record_id(stored), 16) >= 0
    other = record_to_json(rec(RecordKind.RESULT, Outcome.REMEDIATED, control_id="c.y"))
    assert record_id(other) != record_id(stored)


def test_a_sweep_failure_without_a_resource_has_no_subject() -> None:
    made = notice(record_to_json(rec(RecordKind.EVENT, Outcome.FAILED, resource_id="", control_id="")), "/warden")
    assert made is not None and made.subject is None and made.type == FAILED


# --- the Notifier ------------------------------------------------------------------------------------------------


class Topic:
    """A publish function that fails its first `failures` calls, and can be held until released."""

    def __init__(self, failures: int = 0, *, hold: bool = False) -> None:
        self.failures = failures
        self.calls: list[list[Notice]] = []
        self.delivered: list[Notice] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, notices: Sequence[Notice]) -> None:
        self.calls.append(list(notices))
        self.entered.set()
        self.release.wait(5)
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("topic unreachable")
        self.delivered.extend(notices)


@pytest.fixture
def made() -> Iterator[list[Notifier]]:
    notifiers: list[Notifier] = []
    yield notifiers
    for n in notifiers:
        n.close(timeout=5)


def notifier(made: list[Notifier], topic: Topic, **options: object) -> tuple[Notifier, list[float]]:
    slept: list[float] = []
    n = Notifier(topic, sleep=slept.append, **options)  # type: ignore[arg-type]
    made.append(n)
    return n, slept


def test_observe_enqueues_only_announced_records_and_the_worker_publishes_them(made) -> None:
    topic = Topic()
    n, _ = notifier(made, topic)
    good = rec(RecordKind.RESULT, Outcome.REMEDIATED)
    n.observe([rec(RecordKind.INTENT, None), good, rec(RecordKind.EVALUATION, Outcome.COMPLIANT)])
    assert n.flush(5)
    assert [x.id for x in topic.delivered] == [record_id(record_to_json(good))]
    assert n.stats() == {"published": 1, "failed_attempts": 0, "given_up": 0, "dropped": 0, "pending": 0}


def test_a_failed_publish_is_retried_with_backoff_and_the_same_ids(made) -> None:
    topic = Topic(failures=2)
    n, slept = notifier(made, topic, attempts=5, backoff=0.5, backoff_max=30)
    n.observe([rec(RecordKind.RESULT, Outcome.REMEDIATED), rec(RecordKind.DECISION, Outcome.NEEDS_HUMAN)])
    assert n.flush(5)
    assert slept == [0.5, 1.0]
    assert len(topic.calls) == 3
    assert [[x.id for x in c] for c in topic.calls] == [[x.id for x in topic.delivered]] * 3
    assert n.stats() == {"published": 2, "failed_attempts": 2, "given_up": 0, "dropped": 0, "pending": 0}


def test_after_the_last_attempt_the_batch_is_given_up_naming_the_record_ids(made, caplog) -> None:
    topic = Topic(failures=10)
    n, slept = notifier(made, topic, attempts=3, backoff=1, backoff_max=1.5)
    failed = rec(RecordKind.EVENT, Outcome.FAILED, error="sweep failed: secret-looking text")
    n.observe([failed])
    assert n.flush(5)
    assert slept == [1, 1.5]
    assert n.stats() == {"published": 0, "failed_attempts": 3, "given_up": 1, "dropped": 0, "pending": 0}
    warning = next(r for r in caplog.records if "gave up" in r.getMessage())
    assert record_id(record_to_json(failed)) in warning.getMessage()
    assert "secret-looking" not in caplog.text  # ids, never contents
    n.observe([rec(RecordKind.RESULT, Outcome.REMEDIATED)])  # the worker goes on
    assert n.flush(5) and (n.stats()["failed_attempts"], n.stats()["given_up"]) == (6, 2)


def test_a_full_queue_drops_and_counts_without_blocking_the_caller(made, caplog) -> None:
    topic = Topic(hold=True)
    n, _ = notifier(made, topic, capacity=2, max_batch=1)
    n.observe([rec(RecordKind.RESULT, Outcome.REMEDIATED, control_id="first")])
    assert topic.entered.wait(5)  # the worker holds the first: the queue is empty again
    n.observe([rec(RecordKind.RESULT, Outcome.REMEDIATED, control_id=f"c{i}") for i in range(5)])
    assert n.stats() == {"published": 0, "failed_attempts": 0, "given_up": 0, "dropped": 3, "pending": 3}
    assert not n.flush(0.01)
    assert "3 notification(s) dropped" in caplog.text
    topic.release.set()
    assert n.flush(5)
    assert [x.data["controlId"] for x in topic.delivered] == ["first", "c0", "c1"]
    assert n.stats()["published"] == 3 and n.stats()["pending"] == 0


def test_batches_hold_at_most_max_batch_notices(made) -> None:
    topic = Topic(hold=True)
    n, _ = notifier(made, topic, max_batch=2)
    n.observe([rec(RecordKind.RESULT, Outcome.REMEDIATED, control_id="lead")])
    assert topic.entered.wait(5)
    n.observe([rec(RecordKind.RESULT, Outcome.REMEDIATED, control_id=f"c{i}") for i in range(5)])
    topic.release.set()
    assert n.flush(5)
    assert [len(c) for c in topic.calls] == [1, 2, 2, 1]


def test_close_stops_the_worker_and_a_backoff_in_progress() -> None:
    topic = Topic(failures=100)
    n = Notifier(topic, attempts=100, backoff=60)  # the real sleep: an Event close() sets
    n.observe([rec(RecordKind.RESULT, Outcome.FAILED)])
    assert topic.entered.wait(5)
    assert n.close(timeout=0.05) is False  # pending: the backoff would last a minute
    assert n.flush(5)  # close cut the backoff: given up
    assert n.stats()["given_up"] == 1 and len(topic.calls) == 1

"""The sweep's parts that need no Azure: the page audit's holding rule, the run budget under threads, and the
query built from the controls' declarations (docs/scale.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from detectors import CONTROLS
from warden.control import GRAPH_PERMISSION, Fact
from warden.errors import AuditWriteError
from warden.graph_query import candidate_query
from warden.model import AuditRecord, Json, Outcome, RecordKind, Trigger
from warden.page_audit import PageAudit
from warden.records import Context, Recorder
from warden.runtime import RunBudget, shared_run_budget
from warden.state import LocalStateStore

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Sink:
    """An AuditLog that keeps each append as one batch, and can be made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[RecordKind]] = []
        self.failing = False

    def append(self, records: Sequence[AuditRecord]) -> None:
        if self.failing:
            raise AuditWriteError("the log is down")
        self.batches.append([r.kind for r in records])

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        return iter(())


def _rec() -> Recorder:
    return Recorder(Context(Trigger.SWEEP), lambda: NOW, 0.0)


def test_observations_wait_for_the_page_and_an_intent_takes_them_along() -> None:
    sink = Sink()
    audit = PageAudit(sink)
    rec = _rec()
    audit.append([rec.evaluation("/a", Outcome.COMPLIANT)])
    audit.append([rec.evaluation("/b", Outcome.COMPLIANT)])
    assert sink.batches == []
    intent = rec.record(RecordKind.INTENT, "/c")
    audit.append([intent])  # durable before its change, with what was held before it
    assert sink.batches == [[RecordKind.EVALUATION, RecordKind.EVALUATION, RecordKind.INTENT]]
    audit.append([rec.evaluation("/d", Outcome.COMPLIANT)])
    audit.flush()
    audit.flush()  # nothing held: no empty append
    assert sink.batches[1:] == [[RecordKind.EVALUATION]]


def test_a_failed_write_keeps_the_observations_for_the_next_one() -> None:
    sink = Sink()
    audit = PageAudit(sink)
    rec = _rec()
    audit.append([rec.evaluation("/a", Outcome.COMPLIANT)])
    sink.failing = True
    with pytest.raises(AuditWriteError):
        audit.append([rec.record(RecordKind.INTENT, "/b")])
    sink.failing = False
    audit.flush()
    assert sink.batches == [[RecordKind.EVALUATION]]  # the observation, not the intent that failed


def test_threads_never_take_more_than_the_cap() -> None:
    budget = RunBudget()
    taken: list[bool] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            ok = budget.take(37)
            with lock:
                taken.append(ok)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken.count(True) == 37 and budget.actions_used == 37


def test_a_shared_budget_counts_across_work_items(tmp_path) -> None:
    state = LocalStateStore(tmp_path)
    clock = iter(NOW + timedelta(seconds=n) for n in range(100))
    first = shared_run_budget(state, "run-1", lambda: next(clock))
    second = shared_run_budget(state, "run-1", lambda: next(clock))
    other_run = shared_run_budget(state, "run-2", lambda: next(clock))
    assert [first.take(3), first.take(3), second.take(3), second.take(3)] == [True, True, True, False]
    assert other_run.take(3)  # another run has its own count


def test_the_query_is_derived_from_the_controls_that_declare_one() -> None:
    queryable = [c for c in CONTROLS if c.queryable]
    assert {c.id for c in queryable} == {"network.public-access", "identity.local-auth", "network.outbound"}
    text = candidate_query(queryable, ["openai", "aiservices"])
    for control in queryable:
        assert control.graph is not None and f"({control.graph.where})" in text
        for name in control.graph.properties:
            assert f"'{name}', properties.{name}" in text
        assert GRAPH_PERMISSION in control.permissions
    assert "kind in~ ('aiservices', 'openai')" in text and text.endswith("| order by id asc")


def test_a_control_without_a_query_cannot_join_one() -> None:
    listed = next(c for c in CONTROLS if Fact.DIAGNOSTICS in c.facts)
    assert not listed.queryable and GRAPH_PERMISSION not in listed.permissions
    with pytest.raises(ValueError, match="drift condition"):
        candidate_query([listed], ["openai"])


def test_the_summary_says_how_the_accounts_were_found_never_a_bare_zero() -> None:
    from warden.sweep import SweepReport

    quiet = SweepReport(source="resource-graph", pages=1)
    assert quiet.summary() == (
        "swept 0 candidate account(s) from a Resource Graph query (1 page(s)); every other account in scope is "
        "compliant by the query: no findings"
    )
    listed = SweepReport(accounts=3, source="list pages", pages=2, outcomes={"compliant": 3})
    assert listed.summary() == "swept 3 account(s) in 2 list page(s): 3 compliant"

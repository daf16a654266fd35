"""One sweep in progress: finds the accounts page by page (a Resource Graph query, or list pages), judges each
page with a bounded pool of workers, and writes what the page observed as one audit append (docs/scale.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from warden.control import Control
from warden.errors import AuditWriteError, AzureError, PermissionDeniedError, WardenError
from warden.facts import LazyFacts
from warden.graph_query import candidate_query
from warden.model import AccountSnapshot, Json, Mode, Outcome, Trigger
from warden.page_audit import PageAudit
from warden.pipeline import OPENAI_KINDS, EvaluationResult, compliant_records, detect_each, evaluate, scope_of
from warden.planner import effective_mode, plan
from warden.records import Context, Recorder
from warden.runtime import RunBudget, Runtime
from warden.state import LockContendedError
from warden.throttle import SweepThrottle

if TYPE_CHECKING:
    from warden.sweep import SweepReport

log = logging.getLogger(__name__)

#: Where a stop or failure of the query itself is recorded (it has no resource of its own).
GRAPH_SCOPE = "/providers/Microsoft.ResourceGraph/resources"

#: An account to evaluate, with what the page already showed of it (None: read it first).
Todo = tuple[str, AccountSnapshot | None]


class SweepRun:
    """The state of one sweep: its runtime (audit held per page), throttle, budget, pool and report."""

    def __init__(
        self,
        rt: Runtime,
        trigger: Trigger,
        controls: Sequence[Control[Any]],
        budget: RunBudget,
        report: SweepReport,
        *,
        on_judged: Callable[[int], None] | None = None,
    ) -> None:
        self.audit = PageAudit(rt.audit)
        self.rt = replace(rt, audit=self.audit)
        self.ctx = Context(trigger)
        self.controls = controls
        self.ids = frozenset(c.id for c in controls)
        self.budget = budget
        self.report = report
        self.on_judged = on_judged or _nothing  # accounts judged, for a terminal's progress line
        self.throttle = SweepThrottle(rt.clock, rt.sleep)
        self.workers = max(1, rt.sweep_workers)
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="warden-sweep")

    def close(self) -> None:
        """Wait for the workers, then write what is still held (observations stay true if the sweep failed)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        try:
            self.audit.flush()
        except AuditWriteError as exc:
            log.warning("the sweep's last observations could not be written: %s", exc)

    def by_query(self, subscriptions: Sequence[str]) -> None:
        """The accounts the controls' drift conditions let through, from one paged query; the rest are
        compliant by the query and cost nothing. A query that fails at once falls back to list pages."""
        assert self.rt.ports.graph is not None  # sweep() chose this path because it is wired
        self.report.source = "resource-graph"
        query = candidate_query(self.controls, sorted(OPENAI_KINDS))
        pages = self.rt.ports.graph.account_pages(query, subscriptions)
        while True:
            page = self._next_page(pages, GRAPH_SCOPE, unlisted=0)
            if page is None:
                return
            if page is _FAILED:
                if self.report.pages == 0:
                    log.warning("the Resource Graph query failed: the sweep lists every subscription instead")
                    self.by_lists(subscriptions)
                return
            todo = self._prejudge(page)
            if not self._judge(todo, GRAPH_SCOPE, unlisted=0):
                return

    def by_lists(self, subscriptions: Sequence[str]) -> None:
        """Every account of every subscription, page by page; a list body carries properties and etag, so an
        account is judged without a GET of its own (a change is still verified by one)."""
        self.report.source = "list pages"
        for position, subscription in enumerate(subscriptions):
            scope, unlisted = f"/subscriptions/{subscription}", len(subscriptions) - position - 1
            pages = self.rt.ports.accounts.list_account_pages(subscription)
            while True:
                page = self._next_page(pages, scope, unlisted=unlisted)
                if page is None or page is _FAILED:
                    break
                # The list says which accounts are not Azure OpenAI: those are not judged.
                todo = [(a.resource_id, a) for a in page if a.kind.lower() in OPENAI_KINDS]
                if not self._judge(todo, scope, unlisted=unlisted):
                    return
            if self.report.stopped:
                return

    def _next_page(self, pages: Iterator[Sequence[AccountSnapshot]], scope: str, *, unlisted: int) -> Any:
        """The next page; None at the end or after a stop; _FAILED when reading it failed (recorded)."""
        if why := self.throttle.before_next():
            self._stop(scope, why, left=0, unlisted=unlisted + 1)
            return None
        try:
            page = next(pages, None)
        except AzureError as exc:
            self.throttle.saw(exc)
            what = "sweep could not query Resource Graph" if scope == GRAPH_SCOPE else "sweep could not list accounts"
            self.report.errors.append(f"{scope}: {exc}")
            if isinstance(exc, PermissionDeniedError):
                self.report.denied.append(f"{scope}: {exc}")
            log.warning("%s (%s): %s", what, scope, exc)
            self.audit.append([self._rec().event(scope, Outcome.FAILED, what, error=str(exc))])
            return _FAILED
        if page is not None:
            self.throttle.saw(None)
            self.report.pages += 1
        return page

    def _prejudge(self, rows: Sequence[AccountSnapshot]) -> list[Todo]:
        """Judge query rows in memory. A row with a finding to enforce is read again before any change
        (Resource Graph lags writes): it is left to `_judge`. Every other row is settled here, without a
        request: compliant, or planned in memory when nothing would be enforced (dry-run, exempt, off)."""
        rec, scope = self._rec(), scope_of(self.rt)
        todo: list[Todo] = []
        baseline, override = self.rt.baseline, self.rt.mode_override
        modes = {c.id: effective_mode(c.id, baseline, override) for c in self.controls}
        for row in rows:
            facts = LazyFacts(row.resource_id, self.rt.ports, scope, account=row)
            findings, unread = detect_each(self.controls, facts, baseline)
            if unread or any(modes[f.control_id] is Mode.ENFORCE for f in findings):
                todo.append((row.resource_id, None))
                continue
            self.report.accounts += 1
            drifted = {f.control_id for f in findings}
            records = compliant_records(rec, row.resource_id, [c for c in modes if c not in drifted], self.rt)
            if findings:
                # Nothing here is enforced, so no cap, history or lock has a say: the plan needs no state.
                planned = plan(findings, baseline=baseline, now=scope.now, history={}, mode_override=override)
                records += [rec.decision(pf) for pf in planned.decisions]
            self.audit.append(records)
            for record in records:
                self.report.count(str(record.outcome))
            self.on_judged(1)
        return todo

    def _judge(self, todo: list[Todo], scope: str, *, unlisted: int) -> bool:
        """Evaluate a page's accounts on the pool, at most `workers` at a time; False when the sweep stopped."""
        running: dict[Future[EvaluationResult], str] = {}
        try:
            for index, (resource_id, known) in enumerate(todo):
                if len(running) >= self.workers:
                    self._collect(running, FIRST_COMPLETED)
                if why := self.throttle.before_next():
                    self._collect(running, ALL_COMPLETED)
                    self._stop(scope, why, left=len(todo) - index, unlisted=unlisted)
                    return False
                self.report.accounts += 1
                running[self.pool.submit(self._evaluate, resource_id, known)] = resource_id
            self._collect(running, ALL_COMPLETED)
        finally:
            self.audit.flush()  # one append for what the page observed
        return True

    def _evaluate(self, resource_id: str, known: AccountSnapshot | None) -> EvaluationResult:
        """Optimistic, as an event is (docs/state.md): the lock is claimed only before a first action, so a
        compliant listed account costs the blob store one read; a lost claim is judged again under the lock."""
        try:
            with self.rt.state.optimistic(resource_id):
                return evaluate(resource_id, self.ids, self.rt, self.ctx, self.budget, shown=known)
        except LockContendedError:
            with self.rt.state.lock(resource_id):
                return evaluate(resource_id, self.ids, self.rt, self.ctx, self.budget)

    def _collect(self, running: dict[Future[EvaluationResult], str], return_when: str) -> None:
        done, _ = wait(running, return_when=return_when)
        self.on_judged(len(done))
        for future in done:
            resource_id = running.pop(future)
            try:
                result = future.result()
            except AuditWriteError:
                raise  # no audit, no action: stop rather than go on changing things unrecorded
            except Exception as exc:
                # One account's failure, even an unforeseen one, must not leave the rest unchecked; the next
                # sweep retries it. Evaluate audited the classified ones; this records the rest too.
                self.throttle.saw(exc)
                self.report.errors.append(f"{resource_id}: {exc}")
                if isinstance(exc, PermissionDeniedError):
                    self.report.denied.append(f"{resource_id}: {exc}")
                log.warning("sweep failed on %s: %s", resource_id, exc)
                if not isinstance(exc, WardenError):
                    error = f"{type(exc).__name__}: {exc}"
                    self.audit.append(
                        [self._rec().event(resource_id, Outcome.FAILED, "sweep evaluation failed", error=error)]
                    )
                continue
            self.throttle.saw(None)
            for outcome in result.outcomes:
                self.report.count(outcome.value)

    def _stop(self, scope: str, why: str, *, left: int, unlisted: int) -> None:
        """The one record of a sweep that stops early: why, and what it left unchecked (the next sweep's work)."""
        reason = f"sweep stopped early: {why}; {left} account(s) left unchecked"
        if scope == GRAPH_SCOPE:
            reason += " and the query's remaining pages not read"
        elif unlisted:
            reason += f" and {unlisted} subscription(s) not listed"
        observed: dict[str, Json] = {"uncheckedAccounts": left, "unlistedSubscriptions": unlisted}
        log.warning("%s", reason)
        self.audit.append([self._rec().event(scope, Outcome.FAILED, reason, observed=observed)])
        self.report.stopped, self.report.unchecked = reason, left
        self.report.errors.append(reason)

    def _rec(self) -> Recorder:
        """Sweep-level records carry no evaluation duration."""
        return Recorder(self.ctx, self.rt.clock, time.monotonic())


def _nothing(judged: int) -> None:
    """No progress to show (the timers, the queue items)."""


#: `_next_page`'s answer for a page that could not be read (recorded).
_FAILED: Any = object()

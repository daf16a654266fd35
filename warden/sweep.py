"""The sweep: re-check every account in scope, because events can be lost and some drift emits no event.

Two ways to find the accounts (docs/scale.md): one Resource Graph query across the subscriptions, with the
controls' drift conditions pushed into it, when every control can say its drift as a query; otherwise every
subscription's list pages, whose bodies carry each account's properties and etag. The accounts of a page are
judged by a bounded pool of workers (warden/sweep_run.py), and what they observed is one audit append.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from warden.model import Trigger
from warden.runtime import RunBudget, Runtime
from warden.sweep_run import SweepRun


@dataclass
class SweepReport:
    accounts: int = 0  # accounts judged (listed, or returned by the query)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)  # the errors that were a permission refused (also in `errors`)
    stopped: str = ""  # why the sweep stopped before the end ("" when it finished); also in `errors`
    unchecked: int = 0  # accounts found but left unchecked by the stop
    source: str = ""  # "resource-graph" or "list pages"
    pages: int = 0  # query or list pages read

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def summary(self) -> str:
        """One line for the timer's log and `warden sweep`: how the accounts were found, and what came of them.
        After a query, the accounts it did not return are compliant by it: the count says so, never "0 swept"."""
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "no findings"
        if self.source == "resource-graph":
            found = f"{self.accounts} candidate account(s) from a Resource Graph query ({self.pages} page(s))"
            return f"swept {found}; every other account in scope is compliant by the query: {outcomes}"
        return f"swept {self.accounts} account(s) in {self.pages} list page(s): {outcomes}"


def sweep(
    rt: Runtime,
    trigger: Trigger = Trigger.SWEEP,
    *,
    data_plane: bool | None = None,
    subscriptions: Sequence[str] | None = None,
    budget: RunBudget | None = None,
    on_judged: Callable[[int], None] | None = None,
) -> SweepReport:
    """Re-check every account in scope. Stops early, with one record, when the tenant keeps throttling or the
    time budget runs out (warden/throttle.py).

    `subscriptions` narrows it to some of the baseline's (a work item of a fanned-out run, docs/scale.md), and
    `budget` is the run's, shared by every work item of it. `on_judged(n)` is told of each n accounts judged
    (`warden sweep` shows progress with it, warden/progress.py).

    `data_plane` picks the controls: False those that read ARM only (the hourly sweep), True those that read a
    data plane (a call per account: a sweep on its own schedule), None every active control."""
    report = SweepReport()
    active = rt.active_controls()
    controls = [c for c in rt.controls if c.id in active and data_plane in (None, c.data_plane)]
    if not controls:
        return report
    scope = sorted(rt.baseline.subscriptions if subscriptions is None else subscriptions)
    # One per-run cap across the whole sweep (or every work item of its run).
    run = SweepRun(rt, trigger, controls, budget or RunBudget(), report, on_judged=on_judged)
    try:
        if rt.ports.graph is not None and all(c.queryable for c in controls):
            run.by_query(scope)
        else:
            run.by_lists(scope)
    finally:
        run.close()
    return report

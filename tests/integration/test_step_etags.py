"""The executor sends each step the etag its target has now: a second change to one account after the first
carries the first's new etag, never the snapshot's (which the emulator, honouring If-Match, answers with 412)."""

from __future__ import annotations

import time

from emulator.builders import account, account_id
from remediators.account_patch import AccountPatch
from tests.integration.conftest import World, baseline_text
from warden.execute import count_attempt, enforce
from warden.model import Action, Decision, Finding, Mode, PlannedFinding, Trigger
from warden.pending import PendingSteps
from warden.records import Context, Recorder
from warden.runtime import RunBudget

RID = account_id("aoai-a")
PUBLIC, LOCAL = "network.public-access", "identity.local-auth"


def test_a_second_change_to_one_target_carries_the_etag_the_first_returned(make_world) -> None:
    world: World = make_world(
        [account("aoai-a", publicNetworkAccess="Enabled", disableLocalAuth=False)],
        baseline_text(extra="  identity.local-auth:\n"),
    )
    rt = world.runtime
    read = rt.ports.accounts.read_account(RID)
    # Two account changes that were NOT merged (the planner merges them; this is what it protects against).
    first = AccountPatch.of(read, {"publicNetworkAccess": "Disabled"}, {"publicNetworkAccess": "Enabled"})
    second = AccountPatch.of(read, {"disableLocalAuth": True}, {"disableLocalAuth": False})
    action = Action(RID, (first, second), {PUBLIC: (0,), LOCAL: (1,)})
    planned = [
        PlannedFinding(Finding(c, RID, "drift", {}, {}, (s,)), Mode.ENFORCE, Decision.ENFORCE, "test", action=action)
        for c, s in ((PUBLIC, first), (LOCAL, second))
    ]
    outcomes = enforce(
        action,
        planned,
        rt,
        Recorder(Context(Trigger.EVENT, "e-1"), rt.clock, time.monotonic()),
        recheck=lambda ids: {c: [] for c in ids},
        pending=PendingSteps(rt.state, RID, rt.clock),
        attempted=lambda: count_attempt(rt, RID),
        budget=RunBudget(),
    )
    patches = [r for r in world.requests() if r.method == "PATCH"]
    assert [p.status for p in patches] == [200, 200]
    assert patches[0].headers["If-Match"] == read.etag
    assert patches[1].headers["If-Match"] != read.etag  # the etag the first PATCH's answer carried
    assert [o.value for o in outcomes] == ["remediated", "remediated"]

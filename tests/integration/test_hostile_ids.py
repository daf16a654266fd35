"""Hostile resource ids on the real path: a look-alike spelling of an account (the long s U+017F, which
Unicode case-folding equates with `s`) must not get past the per-account lock, and names ARM forbids (`.`, `..`)
must not reach the HTTP layer, which would collapse them into another URL."""

from __future__ import annotations

import threading

import pytest

from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, account_id
from tests.integration.conftest import baseline_text, write_event

OPEN = {"publicNetworkAccess": "Enabled"}
REAL = account_id("aoai-a")
ACCOUNT_PATH = REAL.lower()
LOOK_ALIKES = (
    REAL.replace("/subscriptions/", "/\u017fubscriptions/"),
    REAL.replace("Microsoft.", "Micro\u017foft."),
    REAL.replace("/accounts/", "/account\u017f/"),
    REAL.replace("/resourceGroups/", "/resourceGroup\u017f/"),
)


def test_look_alike_ids_do_not_get_past_the_lock(make_world) -> None:
    """Parallel events for one account in several spellings: one PATCH, one attempt, the look-alikes rejected.
    (Before: each spelling had its own lock, so three PATCHes raced (200, 412, 412) and used three attempts.)"""
    world = make_world([account("aoai-a", **OPEN)], baseline_text(max_attempts=3))
    ids = (REAL, REAL.lower(), *LOOK_ALIKES)
    events = [write_event(rid, event_id=f"e-{n}") for n, rid in enumerate(ids)]
    threads = [threading.Thread(target=world.deliver, args=(event,)) for event in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(1 for r in world.requests() if r.method == "PATCH") == 1
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert (
        world.runtime.state.history(
            REAL, world.runtime.clock(), world.runtime.baseline.limits.attempt_window
        ).attempts_in_window
        == 1
    )
    audit = world.audit()
    rejected = {e["eventId"]: e for e in audit if e["outcome"] == "rejected"}
    assert sorted(rejected) == [f"e-{n}" for n in range(2, len(ids))]
    for entry in rejected.values():
        assert "data.resourceUri is not ASCII ('\u017f', U+017F" in entry["error"]
    # No record names a look-alike as the resource warden judged or changed.
    assert all(e["resourceId"].isascii() for e in audit)


@pytest.mark.parametrize(
    "resource_id",
    [
        f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/..",
        f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/.",
        f"/subscriptions/{SUB}/resourceGroups/../providers/Microsoft.CognitiveServices/accounts/aoai-a",
        f"/subscriptions/{SUB}/resourceGroups/./providers/Microsoft.CognitiveServices/accounts/aoai-a",
        f"/subscriptions/{SUB}/resourceGroups/ai-prod./providers/Microsoft.CognitiveServices/accounts/aoai-a",
        f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/aoai-a/"
        "deployments/..",
        f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/-aoai",
        f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/aoai%2Da",
        f"/subscriptions/{SUB}//resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/aoai-a",
    ],
)
def test_names_arm_forbids_cause_no_azure_call(make_world, resource_id: str) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.deliver(write_event(resource_id, event_id="e-bad"))
    assert world.requests() == []
    [entry] = world.audit()
    assert entry["outcome"] == "rejected" and entry["eventId"] == "e-bad"
    assert "data.resourceUri has " in entry["error"] and "(id e-bad)" in entry["error"]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"

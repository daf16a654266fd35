"""A PATCH that ARM accepts as an operation (202) is verified from the poller's final read of the account, not from
a second GET; a 200 keeps its verifying GET; a step after the PATCH (key regeneration) verifies from a fresh read
(docs/architecture.md, "Verifying from the operation's read")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.builders import account, account_id
from tests.integration.conftest import POLL, World, baseline_text, calls, patched, write_event
from warden.facts import LazyFacts, Scope

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
RID = account_id("aoai-a")
PATH = RID.lower()
REGENERATE = f"{PATH}/regeneratekey"


def results(world: World) -> list[dict[str, object]]:
    return [e for e in world.audit() if e["kind"] == "result"]


def test_async_patch_is_verified_from_the_pollers_final_read(make_world) -> None:
    world: World = make_world([account("aoai-a", **OPEN)], lro="async")
    world.deliver(write_event(RID))

    # The read, the PATCH, ARM's operation monitor, the poller's final GET; no second GET of the account.
    assert calls(world) == [("GET", PATH), ("PATCH", PATH), ("GET", POLL), ("GET", PATH)]
    assert [r.status for r in world.requests()] == [200, 202, 200, 200]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    [result] = results(world)
    assert (result["controlId"], result["outcome"]) == ("network.public-access", "remediated")


def test_drift_left_in_the_final_read_is_not_verified(make_world) -> None:
    world: World = make_world([account("aoai-a", **OPEN)], lro="async")
    gets: list[int] = []

    def reopen_before_the_final_read() -> None:
        # The account's second GET is the poller's final read: someone re-opens the account just before it.
        gets.append(1)
        if len(gets) == 2:
            world.runtime.ports.accounts.patch_account(RID, {"publicNetworkAccess": "Enabled"})

    world.emulator.on_request("GET", "/accounts/aoai-a$", reopen_before_the_final_read, count=2)
    world.deliver(write_event(RID))

    # Warden's read, PATCH and poll; the other writer's PATCH, poll and final GET (served inside the hook);
    # then the poller's final read, which warden verifies from: nothing is read after it.
    assert calls(world) == [
        ("GET", PATH),
        ("PATCH", PATH),
        ("GET", POLL),
        ("PATCH", PATH),
        ("GET", POLL),
        ("GET", PATH),
        ("GET", PATH),
    ]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"
    [result] = results(world)
    assert result["outcome"] == "not-verified"
    assert "public network access is open" in str(result["error"])


@pytest.mark.parametrize("schema", ["eventgrid", "cloud"])
def test_sync_patch_keeps_its_verifying_get(make_world, schema: str) -> None:
    world: World = make_world([account("aoai-a", **OPEN)])
    world.deliver(write_event(RID, schema=schema))

    # ARM answered the PATCH 200: the SDK follows the operation it names, and warden still re-reads.
    assert calls(world) == [("GET", PATH), *patched(PATH), ("GET", PATH)]
    assert world.requests()[1].status == 200
    [result] = results(world)
    assert result["outcome"] == "remediated"


def test_a_step_after_the_patch_is_verified_from_a_read_made_after_it(make_world) -> None:
    world: World = make_world(
        [account("aoai-a", **OPEN, disableLocalAuth=False)],
        baseline_text(extra="  identity.local-auth:\n"),
        lro="async",
    )
    world.deliver(write_event(RID))

    # The poller's read precedes the key regenerations, so the verifying GET comes after them.
    assert calls(world) == [
        ("GET", PATH),
        ("PATCH", PATH),
        ("GET", POLL),
        ("GET", PATH),
        ("POST", REGENERATE),
        ("POST", REGENERATE),
        ("GET", PATH),
    ]
    assert sorted(str(r["outcome"]) for r in results(world)) == ["remediated", "remediated"]


def test_only_the_account_is_seeded_and_only_by_its_own_read(make_world) -> None:
    world: World = make_world([account("aoai-a", **OPEN), account("aoai-b", **OPEN)])
    ports = world.runtime.ports
    facts = LazyFacts(RID, ports, Scope(now=datetime.now(UTC)))
    read = ports.accounts.read_account(RID)
    world.emulator.clear_requests()

    facts.seed_account(read)
    assert facts.account is read
    assert world.requests() == []  # taken, not read
    with pytest.raises(ValueError, match="cannot stand for"):
        facts.seed_account(ports.accounts.read_account(account_id("aoai-b")))
    facts.forget()
    facts.seed_account(None)  # no read to take: the next use reads
    assert facts.account.resource_id.lower() == PATH
    assert [m for m, _ in calls(world)] == ["GET", "GET"]

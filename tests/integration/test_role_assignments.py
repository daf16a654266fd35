"""identity.role-assignments end to end: the real authorization SDK against the emulator, counted from its
request log. A user's Owner at the account is the one DELETE; an allowed pipeline, warden's own assignment and
an inherited subscription Owner are never touched; a group-level event fans out to that group's accounts only."""

from __future__ import annotations

from typing import Any

from emulator.access_builders import role_assignment
from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, account_id
from tests.integration.conftest import WARDEN_OID, World, baseline_text, calls, write_event
from warden.azure import functions_host
from warden.azure.worker_events import to_functions_event

RID = account_id("aoai-a")
GROUP = f"/subscriptions/{SUB}/resourceGroups/ai-prod"
USER = "aaaaaaaa-1111-4111-8111-000000000001"
PIPELINE = "bbbbbbbb-2222-4222-8222-000000000002"
ADMIN = "dddddddd-4444-4444-8444-000000000004"
WRITE = "Microsoft.Authorization/roleAssignments/write"
LIST = "/providers/microsoft.authorization/roleassignments"

USER_OWNER = role_assignment(RID, "Owner", USER)
PIPELINE_CONTRIBUTOR = role_assignment(RID, "Contributor", PIPELINE, "ServicePrincipal")
WARDEN_OWN = role_assignment(GROUP, "Contributor", WARDEN_OID, "ServicePrincipal")
SUB_OWNER = role_assignment(f"/subscriptions/{SUB}", "Owner", ADMIN)
SUB_USER_OWNER = role_assignment(f"/subscriptions/{SUB}", "Owner", USER)


def baseline(mode: str = "enforce", allowed: tuple[str, ...] = (PIPELINE, ADMIN)) -> str:
    entry = f"  identity.role-assignments:\n    mode: {mode}\n    allowed_principals: [{', '.join(allowed)}]\n"
    return baseline_text(extra=entry)


def world_of(make_world: Any, *assignments: dict[str, Any], mode: str = "enforce", **accounts: str) -> World:
    resources = [account("aoai-a"), *(account(n) | {"id": rid} for n, rid in accounts.items()), *assignments]
    return make_world(resources, baseline(mode))


def assignment_event(assignment: dict[str, Any], event_id: str = "ra-1", **kw: Any) -> dict[str, Any]:
    return write_event(assignment["id"], event_id=event_id, operation=WRITE, **kw)


def writes(world: World) -> list[tuple[str, str]]:
    return [c for c in calls(world) if c[0] != "GET"]


def left(world: World) -> set[str]:
    return {r["id"] for r in world.emulator.dump_state()["resources"] if "/roleAssignments/" in r["id"]}


def outcomes(world: World) -> list[tuple[str, str, str]]:
    return [(e["kind"], e.get("controlId") or "", e.get("outcome") or "") for e in world.audit()]


def test_enforce_deletes_only_the_users_owner_and_says_who_it_was(make_world) -> None:
    world = world_of(make_world, USER_OWNER, PIPELINE_CONTRIBUTOR, WARDEN_OWN, SUB_OWNER)
    world.deliver(assignment_event(USER_OWNER))

    listing = f"{RID.lower()}{LIST}"
    assert calls(world) == [
        ("GET", RID.lower()),
        ("GET", listing),  # the detector's list (atScope(): the account and everything above it)
        ("GET", listing),  # the step's re-check right before the DELETE
        ("DELETE", USER_OWNER["id"].lower()),
        ("GET", RID.lower()),  # the verifying re-read: every fact afresh
        ("GET", listing),
    ]
    assert {r.query.get("$filter") for r in world.requests() if r.path.lower() == listing} == {"atScope()"}
    assert left(world) == {PIPELINE_CONTRIBUTOR["id"], WARDEN_OWN["id"], SUB_OWNER["id"]}
    result = next(e for e in world.audit() if e["kind"] == "result")
    assert result["outcome"] == "remediated"
    intent = next(e for e in world.audit() if e["kind"] == "intent")
    assert intent["observed"]["role"] == "Owner (8e3af657-a8ff-443c-a75c-2fe8c4bcb635)"
    assert (intent["observed"]["principalId"], intent["observed"]["principalType"]) == (USER, "User")
    assert intent["steps"][0]["change"] == {
        "roleAssignment": {
            "before": f"Owner (8e3af657-a8ff-443c-a75c-2fe8c4bcb635) for User {USER}",
            "after": "deleted",
        }
    }


def test_dry_run_deletes_nothing_and_says_what_it_would(make_world) -> None:
    world = world_of(make_world, USER_OWNER, PIPELINE_CONTRIBUTOR, SUB_OWNER, mode="dry-run")
    world.deliver(assignment_event(USER_OWNER))
    assert writes(world) == []
    assert ("decision", "identity.role-assignments", "would-remediate") in outcomes(world)


def test_the_top_level_enforce_alone_keeps_it_in_dry_run(make_world) -> None:
    entry = f"  identity.role-assignments:\n    allowed_principals: [{ADMIN}]\n"
    world = make_world([account("aoai-a"), USER_OWNER, SUB_OWNER], baseline_text(extra=entry))  # mode: enforce
    world.deliver(assignment_event(USER_OWNER))
    assert writes(world) == []
    decision = next(e for e in world.audit() if e["kind"] == "decision")
    assert decision["outcome"] == "would-remediate"
    assert "runs in dry-run until controls.identity.role-assignments.mode says otherwise" in decision["reason"]


def test_an_inherited_subscription_owner_is_reported_with_reads_only(make_world) -> None:
    world = world_of(make_world, SUB_OWNER, SUB_USER_OWNER)
    world.deliver(assignment_event(role_assignment(RID, "Cognitive Services OpenAI User", PIPELINE), "ra-2"))
    assert {m for m, _ in calls(world)} == {"GET"}
    human = [e for e in world.audit() if e.get("outcome") == "needs-human"]
    assert len(human) == 1
    assert f"inherited from /subscriptions/{SUB}" in human[0]["reason"] + human[0].get("summary", "")
    assert human[0]["observed"]["scope"] == f"/subscriptions/{SUB}"
    assert left(world) == {SUB_OWNER["id"], SUB_USER_OWNER["id"]}


def test_the_last_owner_is_kept_even_when_the_detector_counted_on_another(make_world) -> None:
    # Two users own the group, nobody owns anything above it: removing both would leave no Owner at all.
    first, second = role_assignment(GROUP, "Owner", USER), role_assignment(RID, "Owner", "cccccccc-3333-4333-8333-3")
    world = make_world([account("aoai-a"), first, second], baseline("enforce", ()))
    world.deliver(assignment_event(first))
    assert writes(world) == []
    assert [e["outcome"] for e in world.audit() if e["kind"] == "decision"] == ["needs-human", "needs-human"]


def test_a_group_level_event_fans_out_to_the_in_scope_accounts_of_that_group_only(make_world) -> None:
    in_group = account_id("aoai-b")
    elsewhere = account_id("aoai-c", rg="ai-lab")
    broad = role_assignment(GROUP, "Contributor", USER)
    world = make_world(
        [
            account("aoai-a"),
            account("aoai-b") | {"id": in_group},
            account("lang-a", kind="TextAnalytics"),
            account("aoai-c") | {"id": elsewhere},
            broad,
            SUB_OWNER,
        ],
        baseline(),
    )
    world.deliver(assignment_event(broad))
    group_list = f"{GROUP.lower()}/providers/microsoft.cognitiveservices/accounts"
    listed = {RID.lower(): f"{RID.lower()}{LIST}", in_group.lower(): f"{in_group.lower()}{LIST}"}
    seen = calls(world)
    assert seen[0] == ("GET", group_list)  # one list of the group's accounts
    evaluated = list(dict.fromkeys(p for m, p in seen if m == "GET" and p in listed))
    assert evaluated == [RID.lower(), in_group.lower()]  # the OpenAI accounts of the group, not lang-a or aoai-c
    assert writes(world) == [("DELETE", broad["id"].lower())]  # once: the second account no longer has it
    assert not any(elsewhere.lower() in p or "lang-a" in p for _, p in seen)
    # The group list; aoai-a: GET, list, re-check, DELETE, GET, list; aoai-b: GET, list (compliant by then).
    assert len(seen) == 1 + 6 + 2
    results = [(e["resourceId"], e["outcome"]) for e in world.audit() if e["kind"] in ("result", "evaluation")]
    assert results == [(RID, "remediated"), (in_group, "compliant")]


def test_warden_s_own_echo_and_a_subscription_level_event_cost_no_call(make_world) -> None:
    world = world_of(make_world, USER_OWNER, SUB_OWNER)
    world.deliver(assignment_event(USER_OWNER, oid=WARDEN_OID))
    world.deliver(assignment_event(SUB_USER_OWNER, "ra-sub"))
    assert calls(world) == []
    reasons = [e.get("reason", "") for e in world.audit()]
    assert any("warden's own identity" in r for r in reasons)


def test_an_owner_left_alone_since_it_was_judged_is_kept_at_the_last_moment(make_world) -> None:
    # The detector counted on the subscription's Owner; it is removed between the detector's list and the
    # step's re-check, so the user's Owner at the account is now the last one and must stay.
    world = world_of(make_world, USER_OWNER, SUB_OWNER)

    def remove_the_other_owner_on_the_next_list() -> None:
        world.emulator.on_request("GET", "roleAssignments$", lambda: world.emulator.remove_resource(SUB_OWNER["id"]))

    world.emulator.on_request("GET", "roleAssignments$", remove_the_other_owner_on_the_next_list)
    world.deliver(assignment_event(USER_OWNER))
    assert writes(world) == []
    result = next(e for e in world.audit() if e["kind"] == "result")
    assert result["outcome"] == "failed"
    assert "it is the last Owner assignment over" in result["error"]
    assert USER_OWNER["id"] in left(world)


def test_an_assignment_on_the_subscription_or_another_resource_is_dropped_with_its_reason(make_world) -> None:
    world = world_of(make_world, SUB_OWNER)
    vault = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-1"
    said = {
        scope: functions_host.on_event(
            to_functions_event(assignment_event(role_assignment(scope, "Owner", USER))), world.runtime
        )
        # (A management group's or the root's assignment is no subscription event: the parser rejects its id.)
        for scope in (f"/subscriptions/{SUB}", vault)
    }
    reasons = {scope: result.reason for scope, result in said.items() if result is not None and not result.accepted}
    assert reasons == {
        f"/subscriptions/{SUB}": "a role assignment above a resource group: reported by the sweep, never changed",
        vault: "not under a Cognitive Services account or its resource group",
    }
    assert calls(world) == []

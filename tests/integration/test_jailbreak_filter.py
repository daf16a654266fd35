"""ai.jailbreak-filter end to end with the real management SDK over the emulator: one copy of a policy, each
deployment re-pointed by a PUT that keeps every other field, counted from the request log."""

from __future__ import annotations

import json
from typing import Any

import requests

from emulator.builders import account, account_id
from emulator.deployment_builders import default_policies, deployment, rai_policy
from tests.integration.conftest import baseline_text, write_event
from tests.integration.kv_world import records, writes
from warden.rai import COPY_PREFIX

RID = account_id("aoai-chat")
JAILBREAK = "  ai.jailbreak-filter:\n"
DEPLOYMENT_WRITE = "Microsoft.CognitiveServices/accounts/deployments/write"
NEWER = {"deploymentState": "Running", "serviceTier": "Priority", "versionUpgradeOption": "NoAutoUpgrade"}


def tenant(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        account("aoai-chat"),
        *default_policies(RID),
        rai_policy(RID, "loose", jailbreak=(True, False)),
        rai_policy(RID, "strict"),
        deployment(RID, "chat", policy="loose", sku=("Standard", 120), currentCapacity=120, **NEWER),
        deployment(RID, "embed", model="text-embedding-3-large", version="1", policy="loose"),
        deployment(RID, "safe", policy="strict"),
        *extra,
    ]


def raw(world: Any, name: str) -> dict[str, Any]:
    state = world.emulator.dump_state()["resources"]
    return json.loads(json.dumps(next(r for r in state if r["id"].lower() == f"{RID}/deployments/{name}".lower())))


def without_policy(body: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(body))
    for key in ("etag", "systemData"):
        out.pop(key, None)
    out["properties"].pop("raiPolicyName", None)
    return out


def test_two_deployments_on_a_loose_policy_get_one_copy_and_two_puts_keeping_every_field(make_world) -> None:
    world = make_world(tenant(), baseline_text(extra=JAILBREAK), lro="async")
    before = {name: raw(world, name) for name in ("chat", "embed", "safe")}
    world.deliver(write_event(f"{RID}/deployments/chat", operation=DEPLOYMENT_WRITE))

    [(put, policy_path), *deployment_puts] = writes(world)
    assert put == "PUT" and policy_path.startswith(f"{RID}/raipolicies/{COPY_PREFIX}".lower())
    assert deployment_puts == [("PUT", f"{RID}/deployments/chat".lower()), ("PUT", f"{RID}/deployments/embed".lower())]
    copy = policy_path.rsplit("/", 1)[-1]
    state = world.emulator.dump_state()["resources"]
    made = next(r for r in state if r["name"].lower() == copy)
    assert made["properties"]["type"] == "UserManaged" and made["tags"] == {"warden-copy-of": "loose"}
    loose = next(r for r in state if r["name"] == "loose")["properties"]
    jail = [f for f in made["properties"]["contentFilters"] if f["name"] == "Jailbreak"]
    assert jail == [{"name": "Jailbreak", "blocking": True, "source": "Prompt", "enabled": True}]
    others = [f for f in made["properties"]["contentFilters"] if f["name"] != "Jailbreak"]
    assert others == [f for f in loose["contentFilters"] if f["name"] != "Jailbreak"]  # every other filter kept
    assert loose["contentFilters"] != made["properties"]["contentFilters"]  # the source itself is untouched

    for name in ("chat", "embed"):
        after = raw(world, name)
        assert after["properties"]["raiPolicyName"].lower() == copy
        assert without_policy(after) == without_policy(before[name])  # sku, model, newer fields: identical
    assert raw(world, "safe") == before["safe"]
    for request in (r for r in world.requests() if r.method == "PUT" and "/deployments/" in r.path):
        assert request.headers.get("If-Match"), request.path
        assert request.body["properties"].get("serviceTier", "Priority") == "Priority"
    results = records(world, "ai.jailbreak-filter", "result")
    assert sorted(r["observed"]["deployment"] for r in results) == ["chat", "embed"]  # one record per deployment
    assert {r["outcome"] for r in results} == {"remediated"}
    assert [s["step"] for s in results[0]["steps"]] == ["rai-policy.copy", "deployment.rai-policy"]

    # A deployment made later on the same policy reuses the copy: its event brings one deployment PUT only.
    human_put(world, deployment(RID, "late", policy="loose"))
    world.emulator.clear_requests()
    world.deliver(write_event(f"{RID}/deployments/late", operation=DEPLOYMENT_WRITE, event_id="e-late"))
    assert writes(world) == [("PUT", f"{RID}/deployments/late".lower())]
    assert raw(world, "late")["properties"]["raiPolicyName"].lower() == copy


def human_put(world: Any, resource: dict[str, Any]) -> None:
    """A deployment created by someone else, as ARM receives it (then settled by the emulator's clock)."""
    body = {k: v for k, v in resource.items() if k in ("sku", "properties")}
    body["properties"] = {k: v for k, v in body["properties"].items() if k != "provisioningState"}
    url = f"{world.emulator.endpoint}{resource['id']}?api-version=2025-09-01"
    answer = requests.put(
        url, json=body, headers={"Authorization": "Bearer t"}, verify=world.emulator.ca_path, timeout=10
    )
    assert answer.status_code in (200, 201), answer.text
    world.emulator.clock.advance(60)


def test_once_fixed_another_deployment_event_makes_no_write(make_world) -> None:
    world = make_world(tenant(), baseline_text(extra=JAILBREAK))
    world.deliver(write_event(f"{RID}/deployments/chat", operation=DEPLOYMENT_WRITE, event_id="e-1"))
    world.emulator.clear_requests()
    world.deliver(write_event(f"{RID}/deployments/embed", operation=DEPLOYMENT_WRITE, event_id="e-2"))
    assert writes(world) == []
    assert [r["outcome"] for r in records(world, "ai.jailbreak-filter", "evaluation")][-1] == "compliant"


def test_a_deleted_policy_re_points_its_deployment_at_the_compliant_default(make_world) -> None:
    world = make_world(
        [account("aoai-chat"), *default_policies(RID), deployment(RID, "orphan", policy="gone")],
        baseline_text(extra=JAILBREAK),
    )
    world.deliver(
        write_event(
            f"{RID}/raiPolicies/gone",
            operation="Microsoft.CognitiveServices/accounts/raiPolicies/delete",
            event_type="Microsoft.Resources.ResourceDeleteSuccess",
        )
    )
    assert writes(world) == [("PUT", f"{RID}/deployments/orphan".lower())]
    assert raw(world, "orphan")["properties"]["raiPolicyName"] == "Microsoft.DefaultV2"


def test_dry_run_writes_nothing(make_world) -> None:
    world = make_world(tenant(), baseline_text(mode="dry-run", extra=JAILBREAK))
    world.deliver(write_event(f"{RID}/deployments/chat", operation=DEPLOYMENT_WRITE))
    assert writes(world) == []
    would = records(world, "ai.jailbreak-filter")
    assert sorted(r["observed"]["deployment"] for r in would if r["outcome"] == "would-remediate") == ["chat", "embed"]


def test_deployments_are_read_past_the_first_page(make_world) -> None:
    many = [deployment(RID, f"d{i:03}", policy="strict") for i in range(149)]
    world = make_world(
        [
            account("aoai-chat"),
            *default_policies(RID),
            rai_policy(RID, "strict"),
            rai_policy(RID, "loose", jailbreak=None),
            *many,
            deployment(RID, "z-last", policy="loose"),
        ],
        baseline_text(extra=JAILBREAK),
    )
    world.deliver(write_event(f"{RID}/deployments/d000", operation=DEPLOYMENT_WRITE))
    lists = [r for r in world.requests() if r.method == "GET" and r.path.lower().endswith("/deployments")]
    assert len(lists) == 2 * 2  # two pages, read for the judgement and again for the verification
    [(_, policy_path), deployment_put] = writes(world)
    assert policy_path.startswith(f"{RID}/raipolicies/warden-".lower())
    assert deployment_put == ("PUT", f"{RID}/deployments/z-last".lower())
    # Policies are read once each per evaluation, however many deployments use them.
    reads = [r.path.rsplit("/", 1)[-1] for r in world.requests() if r.method == "GET" and "/raiPolicies/" in r.path]
    assert reads.count("strict") == 2  # the judgement, and the verifying re-read

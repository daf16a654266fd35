"""warden's deployment adapter (CognitiveDeployments, the DeploymentPort) against the emulator with the real SDK
client: the exact requests it makes, the PUT bodies it builds from what it read, and the errors it raises."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulator import Emulator
from emulator.builders import account, account_id
from emulator.deployment_builders import default_policies, deployment, rai_policy
from tests.conftest import reference_dir
from warden.ai_model import Deployment
from warden.azure.clients import ClientFactory
from warden.azure.credentials import StaticTokenCredential
from warden.azure.deployments import (
    DEPLOYMENT_READ_ONLY,
    RAI_POLICY_READ_ONLY_PROPERTIES,
    CognitiveDeployments,
)
from warden.errors import AzureError, ConflictError, OutcomeUnknownError, ReplyLostError, ResourceGoneError
from warden.ids import deployment_parts
from warden.settings import RetryOptions

ACC = account_id("aoai-prod")
CHAT = f"{ACC}/deployments/chat"
STRICT = f"{ACC}/raiPolicies/strict"
GHOST = account_id("aoai-ghost")


def rich_chat() -> dict[str, Any]:
    """A deployment as a real GET shows one: read-only fields at every depth, tags, systemData, the 2026-09-01
    fields and one no API version declares yet."""
    found = deployment(
        ACC,
        "chat",
        policy="Microsoft.DefaultV2",
        versionUpgradeOption="OnceNewDefaultVersionAvailable",
        currentCapacity=10,
        capabilities={"chatCompletion": "true", "maxContextToken": "128000"},
        rateLimits=[{"key": "request", "renewalPeriod": 10, "count": 10}],
        callRateLimit={"count": 10, "renewalPeriod": 10},
        dynamicThrottlingEnabled=False,
        scaleSettings={"scaleType": "Standard", "capacity": 10, "activeCapacity": 10},
        deploymentState="Running",
        serviceTier="Priority",
        futureSetting={"nested": [1, {"two": None}]},
    )
    found["properties"]["model"]["callRateLimit"] = {"count": 10}
    found["systemData"] = {"createdBy": "someone@example.com", "createdAt": "2026-01-01T00:00:00Z"}
    found["tags"] = {"team": "ai"}
    return found


def strict_policy() -> dict[str, Any]:
    """A UserManaged policy carrying fields the swagger does not declare (a pre-GA filter key, a new knob)."""
    found = rai_policy(ACC, "strict", jailbreak=(True, False))
    found["properties"]["futureKnob"] = {"level": 3}
    found["properties"]["contentFilters"][0]["allowedContentLevel"] = "Low"
    found["tags"] = {"owner": "sec"}
    return found


@pytest.fixture
def emu() -> Iterator[Emulator]:
    others = [deployment(ACC, f"d{i}", policy="strict") for i in range(3)]
    scenario = {
        "resources": [account("aoai-prod"), rich_chat(), *others, strict_policy(), *default_policies(ACC)],
    }
    with Emulator(scenario) as running:
        yield running


@pytest.fixture
def adapter(emu: Emulator) -> CognitiveDeployments:
    retry = RetryOptions(total=2, backoff_factor=0.01, backoff_max=0.05, max_retry_after=1)
    factory = ClientFactory(StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path, retry=retry)
    return CognitiveDeployments(factory, polling_interval=0.01, lro_timeout=10)


def stored(emu: Emulator, resource_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(r for r in emu.dump_state()["resources"] if r["id"].lower() == resource_id.lower()))


def calls(emu: Emulator) -> list[tuple[str, str, int, str]]:
    return [(r.method, r.path, r.status, r.kind) for r in emu.requests]


# --- the read-only list is the swagger's ---------------------------------------------------------------
def swagger_read_only(doc: dict[str, Any], definition: str, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every readOnly path under `definition` of the vendored slice, through local $refs and allOf; the ARM
    common-types resource (outside the slice) marks id, name and type readOnly."""
    schema = doc["definitions"][definition]
    found: set[tuple[str, ...]] = set()
    for part in schema.get("allOf", []):
        ref = part.get("$ref", "")
        if ref.startswith("#/definitions/"):
            found |= swagger_read_only(doc, ref.rsplit("/", 1)[-1], prefix)
        elif ref.endswith(("/ProxyResource", "/Resource")):
            found |= {(*prefix, name) for name in ("id", "name", "type")}
    for name, spec in schema.get("properties", {}).items():
        ref = spec.get("$ref", "")
        if spec.get("readOnly"):
            found.add((*prefix, name))
        elif ref.startswith("#/definitions/"):
            found |= swagger_read_only(doc, ref.rsplit("/", 1)[-1], (*prefix, name))
    return found


def test_the_read_only_list_is_derived_from_the_swagger() -> None:
    path = reference_dir() / "cognitiveservices" / "2025-09-01" / "cognitiveservices.slice.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert swagger_read_only(doc, "Deployment") == set(DEPLOYMENT_READ_ONLY)
    assert len(DEPLOYMENT_READ_ONLY) == len(set(DEPLOYMENT_READ_ONLY))
    policy = {p[1:] for p in swagger_read_only(doc, "RaiPolicy") if p[0] == "properties"}
    assert policy == {(name,) for name in RAI_POLICY_READ_ONLY_PROPERTIES}


def expected_put(read: dict[str, Any], policy: str) -> dict[str, Any]:
    """The GET body with every swagger-readOnly path removed and raiPolicyName changed, worked out here on its
    own (not with the adapter's code)."""
    body = copy.deepcopy(read)
    for path in swagger_read_only(
        json.loads(
            (reference_dir() / "cognitiveservices/2025-09-01/cognitiveservices.slice.json").read_text(encoding="utf-8")
        ),
        "Deployment",
    ):
        node = body
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    body["properties"]["raiPolicyName"] = policy
    return body


# --- list_deployments -------------------------------------------------------------------------------
def test_list_deployments_reads_every_page(emu: Emulator, adapter: CognitiveDeployments) -> None:
    emu.set_options(page_size=2)
    found = adapter.list_deployments(ACC)
    assert [d.name for d in found] == ["chat", "d0", "d1", "d2"]
    assert [r.path for r in emu.requests] == [f"{ACC}/deployments"] * 2
    assert found[0] == Deployment(
        resource_id=CHAT,
        name="chat",
        rai_policy_name="Microsoft.DefaultV2",
        model_name="gpt-4o",
        model_format="OpenAI",
        model_version="2024-11-20",
        etag=stored(emu, CHAT)["etag"],
        provisioning_state="Succeeded",
    )
    assert found[1].rai_policy_name == "strict"
    with pytest.raises(ResourceGoneError):
        adapter.list_deployments(GHOST)


# --- RAI policies ----------------------------------------------------------------------------------
def test_read_rai_policy_keeps_the_properties_as_read(emu: Emulator, adapter: CognitiveDeployments) -> None:
    policy = adapter.read_rai_policy(ACC, "strict")
    want = stored(emu, STRICT)
    assert policy is not None
    assert (policy.resource_id, policy.name, policy.type, policy.etag) == (
        STRICT,
        "strict",
        "UserManaged",
        want["etag"],
    )
    assert policy.properties == want["properties"]  # unknown keys included, at every depth
    assert policy.properties["futureKnob"] == {"level": 3}
    assert dict(policy.tags) == {"owner": "sec"}
    jailbreak = next(f for f in policy.content_filters if f.name == "Jailbreak")
    assert (jailbreak.enabled, jailbreak.blocking, jailbreak.source) == (True, False, "Prompt")
    system = adapter.read_rai_policy(ACC, "Microsoft.DefaultV2")
    assert system is not None and system.system_managed
    assert calls(emu) == [("GET", STRICT, 200, "arm"), ("GET", f"{ACC}/raiPolicies/Microsoft.DefaultV2", 200, "arm")]


def test_read_rai_policy_of_a_missing_name_is_none(emu: Emulator, adapter: CognitiveDeployments) -> None:
    assert adapter.read_rai_policy(ACC, "never-made") is None
    assert calls(emu) == [("GET", f"{ACC}/raiPolicies/never-made", 404, "arm")]
    with pytest.raises(ResourceGoneError) as gone:  # no account at all is not "no such policy"
        adapter.read_rai_policy(GHOST, "strict")
    assert gone.value.code == "ParentResourceNotFound"
    with pytest.raises(ValueError):
        adapter.read_rai_policy(ACC, "../strict")
    assert len(emu.requests) == 2


def test_unknown_fields_survive_read_then_put(emu: Emulator, adapter: CognitiveDeployments) -> None:
    read = adapter.read_rai_policy(ACC, "strict")
    assert read is not None
    emu.clear_requests()
    etag = adapter.put_rai_policy(ACC, "strict-warden", read.properties, {"owner": "sec", "managedBy": "warden"})
    assert calls(emu) == [
        ("GET", f"{ACC}/raiPolicies/strict-warden", 404, "arm"),  # the SystemManaged guard
        ("PUT", f"{ACC}/raiPolicies/strict-warden", 201, "arm"),  # no operation to poll: not long-running
    ]
    sent = emu.requests[1].body
    # Exactly what was read, less the read-only `type` the service sets.
    want = {k: v for k, v in stored(emu, STRICT)["properties"].items() if k != "type"}
    assert sent == {"properties": want, "tags": {"owner": "sec", "managedBy": "warden"}}
    assert sent["properties"]["futureKnob"] == {"level": 3}
    assert sent["properties"]["contentFilters"][0]["allowedContentLevel"] == "Low"
    made = stored(emu, f"{ACC}/raiPolicies/strict-warden")
    assert etag == made["etag"] and made["properties"]["type"] == "UserManaged"


def test_put_rai_policy_never_writes_a_system_managed_one(emu: Emulator, adapter: CognitiveDeployments) -> None:
    before = stored(emu, f"{ACC}/raiPolicies/Microsoft.DefaultV2")
    with pytest.raises(AzureError) as refused:
        adapter.put_rai_policy(ACC, "Microsoft.DefaultV2", {"mode": "Blocking", "contentFilters": []}, {})
    assert refused.value.code == "OperationNotAllowed"
    assert [r.method for r in emu.requests] == ["GET"]
    assert stored(emu, f"{ACC}/raiPolicies/Microsoft.DefaultV2") == before


# --- repoint_deployment -----------------------------------------------------------------------------
def test_repoint_puts_the_deployment_as_read_with_only_the_policy_changed(
    emu: Emulator, adapter: CognitiveDeployments
) -> None:
    read = stored(emu, CHAT)
    etag = adapter.repoint_deployment(CHAT, "strict-warden", etag=read["etag"])

    log = emu.requests
    assert calls(emu) == [
        ("GET", CHAT, 200, "arm"),
        ("PUT", CHAT, 200, "arm"),
        ("GET", log[2].path, 200, "operation-status"),  # final-state-via azure-async-operation
        ("GET", CHAT, 200, "arm"),  # then the resource itself
    ]
    assert log[1].headers.get("If-Match") == read["etag"]
    assert log[1].body == expected_put(read, "strict-warden")
    # Spelled out: what was dropped is exactly the read-only fields; the unknown ones went back as read.
    props, read_props = log[1].body["properties"], read["properties"]
    assert set(read_props) - set(props) == {
        "provisioningState",
        "capabilities",
        "callRateLimit",
        "rateLimits",
        "dynamicThrottlingEnabled",
    }
    assert props["model"] == {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}
    assert props["scaleSettings"] == {"scaleType": "Standard", "capacity": 10}
    for kept in ("futureSetting", "deploymentState", "serviceTier", "versionUpgradeOption", "currentCapacity"):
        assert props[kept] == read_props[kept]
    assert (log[1].body["tags"], log[1].body["sku"]) == (read["tags"], read["sku"])
    assert not {"id", "name", "type", "etag", "systemData"} & set(log[1].body)
    after = stored(emu, CHAT)
    assert etag == after["etag"] != read["etag"]
    assert after["properties"]["raiPolicyName"] == "strict-warden"


def test_repoint_in_async_mode_follows_the_operation(emu: Emulator, adapter: CognitiveDeployments) -> None:
    emu.set_lro_mode("async", 5)
    read_etag = stored(emu, CHAT)["etag"]
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(etag=adapter.repoint_deployment(CHAT, "strict", etag=None)))
    worker.start()
    deadline = time.monotonic() + 10
    while not any(r.kind == "operation-status" for r in emu.requests):
        assert time.monotonic() < deadline, "the adapter never polled"
        time.sleep(0.01)
    assert stored(emu, CHAT)["properties"]["raiPolicyName"] == "Microsoft.DefaultV2"  # not yet
    emu.clock.advance(5)
    worker.join(10)
    assert not worker.is_alive()
    log = calls(emu)
    assert log[:2] == [("GET", CHAT, 200, "arm"), ("PUT", CHAT, 200, "arm")]
    assert emu.requests[1].headers.get("If-Match") == read_etag
    polls = log[2:-1]
    assert polls and all(kind == "operation-status" and method == "GET" for method, _, _, kind in polls)
    assert log[-1] == ("GET", CHAT, 200, "arm")
    after = stored(emu, CHAT)
    assert result["etag"] == after["etag"] and after["properties"]["raiPolicyName"] == "strict"


def test_a_stale_etag_is_a_conflict_and_nothing_is_put(emu: Emulator, adapter: CognitiveDeployments) -> None:
    before = stored(emu, CHAT)
    with pytest.raises(ConflictError) as stale:
        adapter.repoint_deployment(CHAT, "strict", etag='"an-older-etag"')
    assert stale.value.status == 412
    assert [r.method for r in emu.requests] == ["GET"]
    assert stored(emu, CHAT) == before


def test_a_change_between_get_and_put_is_a_conflict(emu: Emulator, adapter: CognitiveDeployments) -> None:
    """If-Match carries the etag just read: a write landing in between is not overwritten."""
    emu.set_options(if_match="honoured")
    other = {"sku": {"name": "GlobalStandard", "capacity": 20}, "properties": {"model": {"name": "gpt-4o"}}}
    emu.on_request("PUT", "/deployments/chat$", lambda: _raw_put(emu, CHAT, other))
    with pytest.raises(ConflictError) as lost:
        adapter.repoint_deployment(CHAT, "strict", etag=None)
    assert lost.value.status == 412
    assert stored(emu, CHAT)["sku"]["capacity"] == 20  # the other writer's change stands
    assert [(r.method, r.status) for r in emu.requests][-2:] == [("PUT", 412), ("GET", 200)]


def _raw_put(emu: Emulator, resource_id: str, body: dict[str, Any]) -> None:
    reply = requests.put(
        f"{emu.endpoint}{resource_id}",
        params={"api-version": "2025-09-01"},
        headers={"Authorization": "Bearer emulator-token"},
        json=body,
        verify=emu.ca_path,
        timeout=10,
    )
    assert reply.status_code == 200


def test_a_412_with_an_unchanged_etag_retries_without_if_match(emu: Emulator, adapter: CognitiveDeployments) -> None:
    """As for accounts: the deployment is unchanged, yet the precondition failed: If-Match not honoured."""
    emu.add_fault("PUT", r"/deployments/chat$", "precondition-failed")
    adapter.repoint_deployment(CHAT, "strict", etag=None)
    puts = [r for r in emu.requests if r.method == "PUT"]
    assert [(p.status, "If-Match" in p.headers) for p in puts] == [(412, True), (200, False)]
    assert stored(emu, CHAT)["properties"]["raiPolicyName"] == "strict"


def test_repoint_to_the_policy_in_use_changes_nothing(emu: Emulator, adapter: CognitiveDeployments) -> None:
    read = stored(emu, f"{ACC}/deployments/d0")
    assert adapter.repoint_deployment(f"{ACC}/deployments/d0", "strict", etag=read["etag"]) == read["etag"]
    assert [r.method for r in emu.requests] == ["GET"]


def test_a_failed_operation_is_an_azure_error(emu: Emulator, adapter: CognitiveDeployments) -> None:
    emu.add_fault("PUT", r"/deployments/chat$", "lro-failed")
    before = stored(emu, CHAT)
    with pytest.raises(AzureError) as failed:
        adapter.repoint_deployment(CHAT, "strict", etag=None)
    assert type(failed.value) is AzureError and "ended Failed" in str(failed.value)
    assert stored(emu, CHAT) == before


def test_an_operation_not_finished_in_time_has_an_unknown_outcome(emu: Emulator) -> None:
    emu.set_lro_mode("async", 600)
    factory = ClientFactory(StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path)
    slow = CognitiveDeployments(factory, polling_interval=0.01, lro_timeout=0.3)
    with pytest.raises(OutcomeUnknownError, match="not finished"):
        slow.repoint_deployment(CHAT, "strict", etag=None)


def test_a_lost_put_answer_is_reply_lost(emu: Emulator, adapter: CognitiveDeployments) -> None:
    emu.add_fault("PUT", r"/deployments/chat$", "server-error", count=5)
    with pytest.raises(ReplyLostError):
        adapter.repoint_deployment(CHAT, "strict", etag=None)


def test_a_missing_deployment_is_gone(emu: Emulator, adapter: CognitiveDeployments) -> None:
    with pytest.raises(ResourceGoneError):
        adapter.repoint_deployment(f"{ACC}/deployments/nope", "strict", etag=None)


def test_deployment_ids_are_checked_before_any_call(emu: Emulator, adapter: CognitiveDeployments) -> None:
    sub = ACC.split("/")[2]
    assert deployment_parts(CHAT.lower() + "/") == (sub, "ai-prod", "aoai-prod", "chat")
    for bad in (ACC, f"{ACC}/raiPolicies/chat", f"{ACC}/deployments/", f"{ACC}/deployments/chat/extra", "chat"):
        with pytest.raises(ValueError):
            deployment_parts(bad)
    with pytest.raises(ValueError):
        adapter.repoint_deployment(CHAT, "no spaces", etag=None)
    assert emu.requests == []

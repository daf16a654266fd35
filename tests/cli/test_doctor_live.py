"""`warden doctor` end to end, as an admin runs it: the real SDK clients against the emulator (permissions API,
Event Grid system topics, Storage management, Resource Graph) and Azurite, read-only; an all-ok deployment, then one
with a permission missing and one with its event subscription missing, each named with its fix."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from emulator.access_builders import role_assignment
from emulator.doctor_builders import (
    blob_container,
    blob_container_id,
    custom_role,
    event_subscription,
    immutability_policy,
    storage_account,
    storage_account_id,
    system_topic,
    system_topic_id,
)
from tests.azurite import new_container
from tests.test_cli import DEMO, warden
from warden.infra_files import event_filters_document, permissions_document

SUB = "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c"
WARDEN_OID = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"
ROLE_GUID = "5f0c3a1e-7b2d-4c9e-8a6f-1d3e5b7c9a20"
APP = f"/subscriptions/{SUB}/resourceGroups/rg-warden/providers/Microsoft.Web/sites/func-warden"
TOPIC = system_topic_id(SUB, "rg-warden", "warden-subscription-events")
LACKING = "Microsoft.CognitiveServices/accounts/write"
VAULT = f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.KeyVault/vaults/kv-contoso-cmk"
VAULT_TOPIC = system_topic_id(SUB, "ai-prod", "kv-contoso-cmk-events")


@dataclass
class Deployment:
    emu: Emulator
    env: dict[str, str]


def deployed_scenario(
    audit_container: str, *, without_action: str = "", with_event_subscription: bool = True, vault_topic: bool = True
) -> dict[str, Any]:
    """The demo tenant plus what infra/ deploys for warden: its custom role assigned to its identity on the
    subscription, the subscription's system topic and event subscriptions (from the generated filters), and the
    audit container (on Azurite's account name) with a locked immutability policy."""
    scenario = json.loads((DEMO / "tenant.json").read_text())
    role = permissions_document()["customRole"]
    assert isinstance(role, dict)
    actions = [a for a in role["actions"] if a != without_action]
    scenario["roleDefinitions"] = [
        custom_role(ROLE_GUID, str(role["roleName"]), actions, data_actions=role["dataActions"])
    ]
    account = storage_account_id(SUB, "rg-warden", "devstoreaccount1")
    container = blob_container_id(account, audit_container)
    resources = [
        role_assignment(f"/subscriptions/{SUB}", ROLE_GUID, WARDEN_OID, principal_type="ServicePrincipal"),
        system_topic(SUB, "rg-warden", "warden-subscription-events"),
        storage_account(SUB, "rg-warden", "devstoreaccount1"),
        blob_container(account, audit_container),
        immutability_policy(container, 365),
    ]
    if with_event_subscription:
        for entry in event_filters_document()["subscriptionEvents"]:  # type: ignore[union-attr]
            assert isinstance(entry, dict)
            resources.append(
                event_subscription(
                    TOPIC,
                    entry["name"],
                    f"{APP}/functions/resource_event",
                    entry["includedEventTypes"],
                    entry["operationNames"],
                )
            )
    if vault_topic:  # infra/events/key-vault-topic.bicep: the CMK vault's key events, filtered by type only
        key_events = event_filters_document()["keyVaultEventTypes"]
        assert isinstance(key_events, list)
        to_warden = event_subscription(
            VAULT_TOPIC, "warden-key-events", f"{APP}/functions/resource_event", key_events, []
        )
        del to_warden["properties"]["filter"]["advancedFilters"]
        topic = system_topic(
            SUB, "ai-prod", "kv-contoso-cmk-events", source=VAULT, topicType="Microsoft.KeyVault.vaults"
        )
        resources += [topic, to_warden]
    scenario["resources"] = [*scenario["resources"], *resources]
    return scenario


@pytest.fixture
def deployment(azurite: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    options = getattr(request, "param", {})
    audit, state = new_container(azurite, "audit"), new_container(azurite, "state")
    with Emulator(deployed_scenario(audit, **options)) as emu:
        yield Deployment(
            emu,
            {
                **{k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")},
                "WARDEN_BASELINE": str(DEMO / "baseline.yaml"),
                "WARDEN_ARM_ENDPOINT": emu.endpoint,
                "WARDEN_ARM_CA_BUNDLE": emu.ca_path,
                "WARDEN_CREDENTIAL": "static",
                "WARDEN_SELF_OBJECT_IDS": WARDEN_OID,
                "WARDEN_AUDIT_CONNECTION_STRING": azurite,
                "WARDEN_AUDIT_CONTAINER": audit,
                "WARDEN_STATE_CONNECTION_STRING": azurite,
                "WARDEN_STATE_CONTAINER": state,
            },
        )


def doctor(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    return warden("doctor", "--function-app", APP, "--key-vault", VAULT, *args, env=deployment.env)


def levels(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {f"{c['area']} {c['subject']}": c["level"] for c in json.loads(done.stdout)}


def test_a_sound_deployment_is_all_ok_and_doctor_only_reads(deployment: Deployment) -> None:
    done = doctor(deployment)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert all(line.startswith("ok ") for line in lines[:-1]), done.stdout
    assert lines[-1] == f"{len(lines) - 1} ok, 0 warn, 0 fail"
    assert any(f"object id {WARDEN_OID}" in line and "warden's own identity" in line for line in lines)
    assert any("1 subscription(s) deliver every routed event" in line for line in lines)
    assert any("1 key vault(s) deliver every routed event" in line for line in lines)
    assert any("Locked time-based retention of 365 day(s)" in line for line in lines)
    # Read-only: GETs, and Resource Graph's query (a POST that reads).
    writes = [(r.method, r.path) for r in deployment.emu.requests if r.method != "GET"]
    assert all(path.endswith("/providers/Microsoft.ResourceGraph/resources") for _, path in writes), writes


@pytest.mark.parametrize("deployment", [{"without_action": LACKING}], indirect=True)
def test_a_missing_permission_fails_the_controls_that_need_it(deployment: Deployment) -> None:
    done = doctor(deployment)
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("fail")]
    assert failed and all(f"lacks {LACKING} on /subscriptions/{SUB}" in line for line in failed)
    assert "fix: assign the custom role 'warden remediator'" in done.stdout
    by_check = levels(doctor(deployment, "--json"))
    assert by_check["permissions network.public-access"] == "fail"
    assert by_check["permissions identity.role-assignments"] == "ok"  # it needs no account write


@pytest.mark.parametrize("deployment", [{"with_event_subscription": False}], indirect=True)
def test_a_missing_event_subscription_is_named_with_its_fix(deployment: Deployment) -> None:
    done = doctor(deployment)
    assert done.returncode == 1
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("fail")]
    assert f"subscription {SUB}: not delivered to warden (its event subscriptions: none)" in line
    assert ": Microsoft.Authorization/roleAssignments/write (ResourceWriteSuccess), " in line  # sorted, 5 shown
    assert line.endswith(" and 5 more")  # 10 (event type, operation) pairs: one per operation of the filters
    assert "fix: run `azd hooks run postdeploy`" in done.stdout


def test_event_subscriptions_deleted_after_deployment_are_seen(deployment: Deployment) -> None:
    for entry in event_filters_document()["subscriptionEvents"]:  # type: ignore[union-attr]
        assert isinstance(entry, dict)
        assert deployment.emu.remove_resource(f"{TOPIC}/eventSubscriptions/{entry['name']}")
    by_check = levels(doctor(deployment, "--json"))
    assert by_check[f"events subscription {SUB}"] == "fail"
    assert by_check["events Microsoft.KeyVault.vaults"] == "ok"  # the vault's topic is untouched


@pytest.mark.parametrize("deployment", [{"vault_topic": False}], indirect=True)
def test_a_cmk_vault_without_its_topic_is_named_with_its_fix(deployment: Deployment) -> None:
    done = doctor(deployment)
    assert done.returncode == 1
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("fail")]
    assert "key vault kv-contoso-cmk: no Event Grid system topic (Microsoft.KeyVault.vaults)" in line
    assert "fix: add the vault to WARDEN_KEY_VAULT_IDS" in done.stdout

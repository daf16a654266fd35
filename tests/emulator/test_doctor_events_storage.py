"""Event Grid system topics and event subscriptions, and storage accounts, containers and immutability policies, in
the emulator through the real azure-mgmt-eventgrid and azure-mgmt-storage clients (what `warden doctor` reads and
what infra writes), seeded with emulator/doctor_builders.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.eventgrid import EventGridManagementClient
from azure.mgmt.eventgrid import models as eg
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as st

from emulator import Emulator
from emulator.doctor_builders import (
    blob_container,
    blob_container_id,
    event_subscription,
    immutability_policy,
    storage_account,
    storage_account_id,
    system_topic,
    system_topic_id,
)
from tests.emulator.conftest import OTHER_SUB, SUB, arm_client

RG = "rg-warden"
FUNCTION = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Web/sites/warden-fn/functions/resource_event"
WRITE = "Microsoft.Resources.ResourceWriteSuccess"
OPERATIONS = ["Microsoft.CognitiveServices/accounts/write", "Microsoft.KeyVault/vaults/write"]
AUDIT = storage_account_id(SUB, RG, "stwardenaudit")


def _scenario() -> dict[str, Any]:
    topic = system_topic_id(SUB, RG, "warden-sub-events")
    return {
        "resources": [
            system_topic(SUB, RG, "warden-sub-events"),
            system_topic(SUB, "rg-second", "second-topic"),
            system_topic(OTHER_SUB, RG, "not-listed-here"),
            event_subscription(topic, "warden-accounts", FUNCTION, [WRITE], OPERATIONS),
            storage_account(SUB, RG, "stwardenaudit"),
            blob_container(AUDIT, "audit"),
            immutability_policy(blob_container_id(AUDIT, "audit"), 365),
            blob_container(AUDIT, "state"),
        ]
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(_scenario()) as running:
        yield running


@pytest.fixture
def events(emu: Emulator) -> Iterator[EventGridManagementClient]:
    with arm_client(EventGridManagementClient, emu) as client:
        yield client


@pytest.fixture
def storage(emu: Emulator) -> Iterator[StorageManagementClient]:
    with arm_client(StorageManagementClient, emu) as client:
        yield client


def test_system_topics_are_listed_by_subscription_and_by_group(events: EventGridManagementClient) -> None:
    assert sorted(t.name for t in events.system_topics.list_by_subscription()) == ["second-topic", "warden-sub-events"]
    assert [t.name for t in events.system_topics.list_by_resource_group(RG)] == ["warden-sub-events"]
    topic = events.system_topics.get(RG, "warden-sub-events")
    assert (topic.location, topic.source, topic.topic_type) == (
        "global",
        f"/subscriptions/{SUB}",
        "Microsoft.Resources.Subscriptions",
    )


def test_event_subscriptions_deserialize_destination_and_filters(events: EventGridManagementClient) -> None:
    found = list(events.system_topic_event_subscriptions.list_by_system_topic(RG, "warden-sub-events"))
    assert [s.name for s in found] == ["warden-accounts"]
    destination, flt = found[0].destination, found[0].filter
    assert isinstance(destination, eg.AzureFunctionEventSubscriptionDestination)
    assert destination.resource_id == FUNCTION
    assert flt is not None and flt.included_event_types == [WRITE]
    assert flt.advanced_filters is not None
    (advanced,) = flt.advanced_filters
    assert isinstance(advanced, eg.StringInAdvancedFilter)
    assert (advanced.key, advanced.values) == ("data.operationName", OPERATIONS)


def test_a_topic_and_subscription_written_by_the_sdk_read_back(
    emu: Emulator, events: EventGridManagementClient
) -> None:
    topic = eg.SystemTopic(
        location="global", source=f"/subscriptions/{SUB}", topic_type="Microsoft.Resources.Subscriptions"
    )
    created = events.system_topics.begin_create_or_update("rg-new", "t-new", topic).result()
    assert created.provisioning_state == "Succeeded"
    sub = eg.EventSubscription(
        destination=eg.AzureFunctionEventSubscriptionDestination(resource_id=FUNCTION, max_events_per_batch=1),
        filter=eg.EventSubscriptionFilter(
            included_event_types=[WRITE],
            advanced_filters=[eg.StringInAdvancedFilter(key="data.operationName", values=OPERATIONS[:1])],
        ),
    )
    events.system_topic_event_subscriptions.begin_create_or_update("rg-new", "t-new", "s-new", sub).result()
    read = events.system_topic_event_subscriptions.get("rg-new", "t-new", "s-new")
    assert isinstance(read.destination, eg.AzureFunctionEventSubscriptionDestination)
    assert read.destination.resource_id == FUNCTION
    assert read.topic == f"/subscriptions/{SUB}"
    assert {r.query.get("api-version") for r in emu.requests if "systemTopics" in r.path} == {"2025-02-15"}
    events.system_topic_event_subscriptions.begin_delete("rg-new", "t-new", "s-new").result()
    assert list(events.system_topic_event_subscriptions.list_by_system_topic("rg-new", "t-new")) == []
    with pytest.raises(ResourceNotFoundError):
        events.system_topic_event_subscriptions.get("rg-new", "t-new", "s-new")


def test_a_seeded_locked_policy_shows_on_the_policy_and_the_container(storage: StorageManagementClient) -> None:
    policy = storage.blob_containers.get_immutability_policy(RG, "stwardenaudit", "audit")
    assert (policy.state, policy.immutability_period_since_creation_in_days) == ("Locked", 365)
    assert policy.allow_protected_append_writes is True
    audit = storage.blob_containers.get(RG, "stwardenaudit", "audit")
    assert audit.has_immutability_policy is True
    assert audit.immutability_policy is not None
    assert audit.immutability_policy.state == "Locked"
    assert audit.immutability_policy.immutability_period_since_creation_in_days == 365
    assert storage.blob_containers.get(RG, "stwardenaudit", "state").has_immutability_policy is False


def test_a_container_without_a_policy_answers_state_deleted(storage: StorageManagementClient) -> None:
    policy = storage.blob_containers.get_immutability_policy(RG, "stwardenaudit", "state")
    assert (policy.state, policy.immutability_period_since_creation_in_days) == ("Deleted", 0)
    with pytest.raises(ResourceNotFoundError) as err:
        storage.blob_containers.get_immutability_policy(RG, "stwardenaudit", "nosuch")
    assert err.value.error is not None and err.value.error.code == "ContainerNotFound"


def test_create_then_lock_a_policy(storage: StorageManagementClient) -> None:
    body = st.ImmutabilityPolicy(properties=st.ImmutabilityPolicyProperty(immutability_period_since_creation_in_days=7))
    created = storage.blob_containers.create_or_update_immutability_policy(RG, "stwardenaudit", "state", body)
    assert (created.state, created.immutability_period_since_creation_in_days) == ("Unlocked", 7)
    assert created.etag
    with pytest.raises(HttpResponseError) as stale:
        storage.blob_containers.lock_immutability_policy(
            RG, "stwardenaudit", "state", etag='"stale"', match_condition=MatchConditions.IfNotModified
        )
    assert stale.value.status_code == 412
    locked = storage.blob_containers.lock_immutability_policy(
        RG, "stwardenaudit", "state", etag=created.etag, match_condition=MatchConditions.IfNotModified
    )
    assert locked.state == "Locked" and locked.etag != created.etag
    assert storage.blob_containers.get_immutability_policy(RG, "stwardenaudit", "state").state == "Locked"
    with pytest.raises(HttpResponseError) as refused:
        storage.blob_containers.create_or_update_immutability_policy(RG, "stwardenaudit", "state", body)
    assert refused.value.status_code == 409


def test_accounts_and_containers_written_by_the_sdk(storage: StorageManagementClient) -> None:
    params = st.StorageAccountCreateParameters(sku=st.Sku(name="Standard_LRS"), kind="StorageV2", location="eastus")
    account = storage.storage_accounts.begin_create("rg-new", "stnew", params).result()
    assert account.provisioning_state == "Succeeded"
    storage.blob_containers.create("rg-new", "stnew", "logs", st.BlobContainer())
    assert [c.name for c in storage.blob_containers.list("rg-new", "stnew")] == ["logs"]
    assert storage.blob_services.get_service_properties("rg-new", "stnew").name == "default"
    assert [a.name for a in storage.storage_accounts.list_by_resource_group(RG)] == ["stwardenaudit"]

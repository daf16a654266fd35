"""What `warden doctor` reads, through the real SDK clients and read calls only: who the credential is, the
permissions API per resource group, the Event Grid system topics and their subscriptions, the storage containers
and the audit container's immutability policy (warden/doctor*.py judge them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from azure.core.credentials import TokenCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.eventgrid import EventGridManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest
from azure.mgmt.storage import StorageManagementClient

from warden.azure.clients import ClientFactory, container_client
from warden.azure.credentials import who_am_i
from warden.azure.errors import classified_errors
from warden.doctor_access import PermissionSet
from warden.doctor_events import EventSubscription
from warden.doctor_storage import Immutability
from warden.errors import ConfigurationError, ResourceGoneError
from warden.identity import Identity
from warden.pipeline import OPENAI_KINDS
from warden.settings import Settings

_ACCOUNT_NAME = re.compile(r"(?:^|;)\s*AccountName=([^;]+)", re.IGNORECASE)
_GRAPH_VERSION = "2024-04-01"


class AzureDoctorReads:
    """Doctor's reads of one deployment (its settings) as the given credential; never writes."""

    def __init__(self, settings: Settings, credential: TokenCredential) -> None:
        self._settings = settings
        self._credential = credential
        self._clients = ClientFactory(
            credential,
            base_url=settings.arm_endpoint,
            connection_verify=settings.arm_ca_bundle or True,
            retry=settings.retry,
        )
        # Each subscription's system topics, listed once: its own topic and its CMK vaults' are all in that list.
        self._topics: dict[str, list[Any]] = {}

    def identity(self) -> Identity:
        return who_am_i(self._credential, self._settings.arm_endpoint + "/.default")

    def account_groups(self, subscription: str) -> Sequence[str]:
        with classified_errors(f"list the Azure OpenAI accounts of subscription {subscription}"):
            accounts = self._clients.arm(CognitiveServicesManagementClient, subscription).accounts.list()
            ids = [str(a.id) for a in accounts if (a.kind or "").lower() in OPENAI_KINDS and a.id]
        return sorted({_group_id(i) for i in ids})

    def permissions(self, scope: str) -> Sequence[PermissionSet]:
        subscription, group = _sub_and_group(scope)
        with classified_errors(f"read the permissions at {scope}"):
            client = self._clients.arm(AuthorizationManagementClient, subscription)
            found = list(client.permissions.list_for_resource_group(group))
        return [
            PermissionSet(
                tuple(p.actions or ()),
                tuple(p.not_actions or ()),
                tuple(p.data_actions or ()),
                tuple(p.not_data_actions or ()),
            )
            for p in found
        ]

    def event_subscriptions(self, source: str, topic_type: str) -> Sequence[EventSubscription] | None:
        subscription = source.strip("/").split("/")[1]
        with classified_errors(f"read the Event Grid system topics of subscription {subscription}"):
            client = self._clients.arm(EventGridManagementClient, subscription)
            if subscription.lower() not in self._topics:
                self._topics[subscription.lower()] = list(client.system_topics.list_by_subscription())
            topics = [
                t
                for t in self._topics[subscription.lower()]
                if (t.topic_type or "").lower() == topic_type.lower()
                and (t.source or "").lower().rstrip("/") == source.lower().rstrip("/")
            ]
            if not topics:
                return None
            return [
                _subscription(each)
                for topic in topics
                for each in client.system_topic_event_subscriptions.list_by_system_topic(
                    _sub_and_group(str(topic.id))[1], str(topic.name)
                )
            ]

    def reach(self, store: str) -> str:
        url, connection, container = self._location(store)
        client = container_client(url, connection, container, self._credential, purpose=f"the {store} container")
        with classified_errors(f"read the {store} container {container}"):
            client.get_container_properties()
        return f"container {container} on account {_account_name(url, connection)}"

    def immutability(self, store: str) -> Immutability | None:
        url, connection, container = self._location(store)
        account = _account_name(url, connection)
        account_id = self._storage_account_id(account)
        subscription, group = _sub_and_group(account_id)
        with classified_errors(f"read the immutability policy of container {container} on account {account}"):
            client = self._clients.arm(StorageManagementClient, subscription)
            try:
                policy = client.blob_containers.get_immutability_policy(group, account, container)
            except ResourceGoneError:
                return None
        state = str(getattr(policy.state, "value", policy.state) or "")
        if not state or state.lower() == "deleted":
            return None
        days = int(policy.immutability_period_since_creation_in_days or 0)
        return Immutability(state, days, bool(policy.allow_protected_append_writes))

    def _storage_account_id(self, account: str) -> str:
        query = (
            "resources | where type =~ 'microsoft.storage/storageaccounts' and name =~ '"
            + account.replace("'", "")
            + "' | project id"
        )
        with classified_errors(f"find storage account {account} with Resource Graph"):
            graph = self._clients.tenant(ResourceGraphClient, api_version=_GRAPH_VERSION)
            answer: Any = graph.resources(QueryRequest(query=query))
        rows = answer.data if isinstance(answer.data, list) else []
        ids = [str(r["id"]) for r in rows if isinstance(r, dict) and r.get("id")]
        if not ids:
            raise ResourceGoneError(f"storage account {account} is not visible to this identity (Resource Graph)")
        return ids[0]

    def _location(self, store: str) -> tuple[str | None, str | None, str]:
        s = self._settings
        if store == "audit":
            return s.audit_account_url, s.audit_connection_string, s.audit_container
        return s.state_account_url, s.state_connection_string, s.state_container


def _subscription(subscription: Any) -> EventSubscription:
    destination = subscription.destination
    target = getattr(destination, "resource_id", None) or str(getattr(destination, "endpoint_type", "") or "")
    event_filter = subscription.filter
    operations: set[str] | None = None
    for advanced in (event_filter.advanced_filters if event_filter else None) or []:
        if (advanced.key or "").lower() == "data.operationname" and advanced.operator_type == "StringIn":
            operations = (operations or set()) | set(getattr(advanced, "values", None) or [])
    types = frozenset((event_filter.included_event_types if event_filter else None) or [])
    found = None if operations is None else frozenset(operations)
    return EventSubscription(str(subscription.name), str(target), types, found)


def _sub_and_group(resource_id: str) -> tuple[str, str]:
    """The subscription id and resource group name of an id under a resource group."""
    parts = resource_id.strip("/").split("/")
    if len(parts) < 4 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        raise ConfigurationError(f"not an id under a resource group: {resource_id!r}")
    return parts[1], parts[3]


def _group_id(resource_id: str) -> str:
    subscription, group = _sub_and_group(resource_id)
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


def _account_name(url: str | None, connection: str | None) -> str:
    if connection:
        found = _ACCOUNT_NAME.search(connection)
        if found is None:
            raise ConfigurationError("the storage connection string names no AccountName")
        return found[1].strip()
    host = (url or "").split("://", 1)[-1].split("/", 1)[0]
    return host.split(".", 1)[0]

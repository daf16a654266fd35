"""The two Microsoft.EventGrid management types warden's deployment creates (infra/events/subscription-topic.bicep)
and `warden doctor` reads: `systemTopics` (top level, location `global` for subscription events) and
`systemTopics/eventSubscriptions`.

No swagger slice is vendored, so bodies are stored as PUT (`swagger=None`: no validation, no pruning); the RP
adds `provisioningState: Succeeded`, a system topic's `metricResourceId` and an event subscription's `topic`
(its system topic's source). Writes are long-running, as the SDK's `begin_*` methods expect. The api-versions are
azure-mgmt-eventgrid 10.4.0's default (2025-02-15), infra's (2022-06-15) and two older stable ones.
"""

from __future__ import annotations

import uuid

from emulator.arm import ids
from emulator.arm.plane import Arm
from emulator.arm.types import Hooks, Resource, ResourceType

NAMESPACE = "Microsoft.EventGrid"
SYSTEM_TOPICS_TYPE = f"{NAMESPACE}/systemTopics"
EVENT_SUBSCRIPTIONS_TYPE = f"{SYSTEM_TOPICS_TYPE}/eventSubscriptions"
VERSIONS = ("2025-02-15", "2022-06-15", "2021-12-01", "2020-06-01")
_WRITES = frozenset({"PUT", "PATCH", "DELETE"})


def _topic_created(arm: Arm, resource: Resource) -> Resource:
    props = dict(resource.get("properties") or {})
    props["provisioningState"] = "Succeeded"
    props.setdefault("metricResourceId", str(uuid.uuid5(uuid.NAMESPACE_URL, str(resource["id"]).lower())))
    return {**resource, "properties": props}


def _subscription_created(arm: Arm, resource: Resource) -> Resource:
    props = dict(resource.get("properties") or {})
    props["provisioningState"] = "Succeeded"
    topic = arm.store.get(ids.parent_id(str(resource["id"]))) or {}
    source = (topic.get("properties") or {}).get("source")
    if isinstance(source, str):
        props.setdefault("topic", source)
    return {**resource, "properties": props}


SYSTEM_TOPICS = ResourceType(
    type=SYSTEM_TOPICS_TYPE,
    api_versions=VERSIONS,
    long_running=_WRITES,
    requires_location=True,
    hooks=Hooks(created=_topic_created),
)
EVENT_SUBSCRIPTIONS = ResourceType(
    type=EVENT_SUBSCRIPTIONS_TYPE,
    api_versions=VERSIONS,
    long_running=_WRITES,
    create_only=(),
    hooks=Hooks(created=_subscription_created),
)

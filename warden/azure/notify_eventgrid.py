"""Notifications to an Event Grid custom topic (docs/notifications.md): the Notifier's publish function, with the
Event Grid SDK's EventGridPublisherClient and azure-core CloudEvents, authenticated with warden's credential."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from azure.core.credentials import TokenCredential

from warden.azure.clients import environment_ca
from warden.notify import Notice, Notifier
from warden.settings import Settings

if TYPE_CHECKING:
    from azure.eventgrid import EventGridPublisherClient

#: The SDK's basic-topic client drops the options given to its constructor (azure-eventgrid 4.22: only the endpoint,
#: credential and api-version reach it), so the transport options go with each send. Retries are the Notifier's
#: (counted there): azure-core's own are off. Timeouts keep a silent endpoint from pinning the worker.
SEND_OPTIONS: dict[str, Any] = {"retry_total": 0, "connection_timeout": 10, "read_timeout": 30}
#: Per-send options reach the SDK's event model too, which logs a WARNING per option and event ("... is not a known
#: attribute ... and will be ignored"); only those lines, for these option names, are dropped.
_MODEL_LOGGER = "azure.eventgrid._legacy._generated._serialization"


_OPTION_NAMES = frozenset({*SEND_OPTIONS, "connection_verify"})


class _SendOptionsNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("is not a known attribute" in message and message.split(" ", 1)[0] in _OPTION_NAMES)


_NOISE = _SendOptionsNoise()


def source_of(settings: Settings) -> str:
    """The CloudEvents `source`: /warden, and the function app's name when hosted (stable across instances)."""
    return f"/warden/{settings.site_name}" if settings.site_name else "/warden"


class EventGridPublish:
    """Publishes a batch of notices as CloudEvents 1.0 to one custom topic (input schema CloudEventSchemaV1_0);
    raises what the SDK raises (the Notifier counts and retries)."""

    def __init__(self, client: EventGridPublisherClient, connection_verify: str | bool = True) -> None:
        self._client = client
        self._options = {**SEND_OPTIONS, "connection_verify": environment_ca(connection_verify)}
        logging.getLogger(_MODEL_LOGGER).addFilter(_NOISE)

    def __call__(self, notices: Sequence[Notice]) -> None:
        from azure.core.messaging import CloudEvent

        events = [
            CloudEvent(source=n.source, type=n.type, id=n.id, subject=n.subject, time=n.time, data=dict(n.data))
            for n in notices
        ]
        self._client.send(events, **self._options)


def build_notifier(settings: Settings, credential: TokenCredential, **options: Any) -> Notifier | None:
    """The Notifier publishing to WARDEN_NOTIFY_TOPIC_ENDPOINT, or None when it is not set. `options` go to the
    Notifier (tests pass a quick backoff)."""
    if not settings.notify_topic_endpoint:
        return None
    # Imported here: only an app with a topic pays for the SDK's import (cold start).
    from azure.eventgrid import EventGridPublisherClient

    client = EventGridPublisherClient(settings.notify_topic_endpoint, credential)
    publish = EventGridPublish(client, settings.arm_ca_bundle or True)
    return Notifier(publish, source=source_of(settings), **options)

"""The Functions worker's Event Grid objects: decoded once into a ResourceEvent (or a rejection), and built
from raw payloads with the worker's own decoder for tests and replay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import azure.functions as func
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum

from warden.azure.event_raw import reduce_raw
from warden.azure.eventgrid import MAX_ID_CHARS, MAX_MESSAGE_CHARS, RejectedEvent, event_id_of, parse_item
from warden.errors import InvalidEventError
from warden.model import Json, ResourceEvent
from warden.redact import bounded_text

# The envelope attributes of the worker's event objects (azure/functions/_eventgrid.py): key -> attribute.
_WORKER_CLOUD = ("id", "source", "type", "specversion", "time", "subject", "datacontenttype", "dataschema")
_WORKER_GRID = {"id": "id", "topic": "topic", "subject": "subject", "eventType": "event_type"}
_WORKER_GRID |= {"eventTime": "event_time", "dataVersion": "data_version"}


def decode_worker_event(event: func.EventGridEvent | func.CloudEvent) -> ResourceEvent | RejectedEvent:
    """What the worker hands the trigger, read once: its envelope and data become one raw event, parsed once
    by the same rules as parse_events; a rejection keeps that raw event (claims reduced) for the audit. Never
    raises: whatever fails in reading the worker's object is a rejection too (a raise is retried for 24 hours)."""
    if not isinstance(event, func.CloudEvent | func.EventGridEvent):
        return RejectedEvent(0, "", "(event)", f"not a Functions Event Grid event: {type(event).__name__}", None)
    try:
        return _decode(event)
    except Exception as exc:  # parse_item never raises; this is the worker object's own accessors
        event_id = bounded_text(str(getattr(event, "id", "") or ""), MAX_ID_CHARS)
        message = bounded_text(
            f"event (id {event_id}): could not be read ({type(exc).__name__}: {exc})", MAX_MESSAGE_CHARS
        )
        return RejectedEvent(0, event_id, "(event)", message, None)


def _decode(event: func.EventGridEvent | func.CloudEvent) -> ResourceEvent | RejectedEvent:
    raw = functions_event_raw(event)
    if isinstance(event, func.EventGridEvent) and event.event_type is None and event.topic is None:
        # The worker tells CloudEvents apart only by the key `specversion`; a camelCase `specVersion`
        # payload therefore arrives here as an EventGridEvent with every envelope field empty.
        event_id = bounded_text(str(event.id or ""), MAX_ID_CHARS)
        message = (
            f"event (id {event_id}): eventType and topic are missing; a CloudEvent sent with camelCase "
            "'specVersion' decodes this way (Event Grid sends lowercase 'specversion')"
        )
        return RejectedEvent(0, event_id, "eventType", message, reduce_raw(raw))
    return parse_item(raw, index=None)


def from_functions_event(event: func.EventGridEvent | func.CloudEvent) -> ResourceEvent:
    """decode_worker_event, raising InvalidEventError (naming the field at fault) instead of a rejection."""
    decoded = decode_worker_event(event)
    if isinstance(decoded, RejectedEvent):
        raise InvalidEventError(decoded.message, field=decoded.field, where=decoded.event_id)
    return decoded


def functions_event_raw(event: func.EventGridEvent | func.CloudEvent) -> dict[str, Json]:
    """The worker's event object back as a raw event: every envelope attribute it has (None when the payload
    had none; CloudEvents extension attributes included), times as ISO strings, and `data`."""
    if isinstance(event, func.CloudEvent):
        item = {**event.extension_attrs, **{k: getattr(event, k) for k in _WORKER_CLOUD}}
    elif isinstance(event, func.EventGridEvent):
        item = {k: getattr(event, a) for k, a in _WORKER_GRID.items()}
    else:
        return {}
    raw: dict[str, Json] = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in item.items()}
    raw["data"] = event.get_json()
    return raw


def to_functions_event(raw: Mapping[str, Json]) -> func.EventGridEvent | func.CloudEvent:
    """What the Functions worker would hand the trigger for this raw event, built by the worker's own
    decoder (EventGridEventInConverter.decode on a JSON Datum) so that tests and replay use the real path."""
    try:
        text = json.dumps(raw)
    except RecursionError as err:  # deeper than the worker's own JSON decoder could read either
        raise InvalidEventError(
            "the Functions worker cannot decode the event: it nests too deeply", field="(event)", where=event_id_of(raw)
        ) from err
    try:
        decoded = EventGridEventInConverter.decode(Datum(text, "json"), trigger_metadata={})
    except (ValueError, TypeError) as err:  # its time parser: an unreadable string, or not a string at all
        where = "time" if "specversion" in raw else "eventTime"
        raise InvalidEventError(
            f"the Functions worker cannot decode the event: {where} is {raw.get(where)!r} ({err})",
            field=where,
            where=event_id_of(raw),
        ) from err
    return decoded

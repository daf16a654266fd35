"""Self-caused echoes recognised on the worker's event object, before the full decode: a strict reading that
accepts only what the full path (worker_events, eventgrid, intake.triage) would also call self-caused.

Anything unusual (a field of another type, deep or unexpected data, a non-GUID object id, a subclass of the
worker's classes) is answered None, and the caller takes the full path: the difference is only cost.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import azure.functions as func

from warden.azure.event_raw import APPID_CLAIMS, OID_CLAIMS
from warden.azure.eventgrid import MAX_ID_CHARS, _subscription_of
from warden.echo_trace import Echo
from warden.ids import IdRuleError, check_arm_id, is_guid
from warden.intake import Triage, triage
from warden.model import Caller, EventSchema, ResourceEvent
from warden.runtime import Runtime

#: JSON scalars as the worker's decoder builds them (exact types: a subclass goes the full path).
_SCALARS = frozenset({str, int, float, bool, type(None)})
_ARM_FAMILY = "microsoft.resources."
#: What eventgrid._bounded_id refuses in an id, as one character class: a control character or a lone surrogate.
_NOT_IN_AN_ID = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


@lru_cache(maxsize=4096)
def _checked_id(value: str) -> tuple[str, str] | None:
    """The id as check_arm_id returns it and its subscription, or None when it breaks a rule. An echo's resource
    repeats (warden changes few accounts), so the ~30 µs check runs once per id: check_arm_id is pure."""
    try:
        resource_id = check_arm_id(value)
    except IdRuleError:
        return None
    return resource_id, _subscription_of(resource_id)


@lru_cache(maxsize=64)
def _lowered(ids: frozenset[str]) -> frozenset[str]:
    """triage's own folding of warden's ids (strip, then lower), done once per set instead of per event."""
    return frozenset(v.strip().lower() for v in ids)


def _plain(*values: object) -> bool:
    """Envelope attributes the fast path does not read: only None or text (depth 0 for the full path's check)."""
    return all(v is None or type(v) is str for v in values)


def _fits_an_id(value: str) -> bool:
    """What eventgrid._bounded_id lets through: at most MAX_ID_CHARS, no control character, no lone surrogate."""
    return len(value) <= MAX_ID_CHARS and _NOT_IN_AN_ID.search(value) is None


def _shallow(data: dict[Any, Any]) -> bool:
    """`data` nests at most 3 levels of JSON containers (a real ARM event's does: data.authorization.evidence),
    so it is far inside the full path's MAX_DEPTH; anything deeper or not plain JSON goes the full path."""
    for value in data.values():
        kind = type(value)
        if kind in _SCALARS:
            continue
        if kind is not dict and kind is not list:
            return False
        for inner in value.values() if kind is dict else value:
            kind = type(inner)
            if kind in _SCALARS:
                continue
            if kind is not dict and kind is not list:
                return False
            if not all(type(leaf) in _SCALARS for leaf in (inner.values() if kind is dict else inner)):
                return False
    return True


def _claim(claims: dict[Any, Any], keys: tuple[str, ...]) -> str | None:
    """The first truthy claim of `keys` as the full path picks it; None when it is not text (the full path
    rejects that event), "" when there is none."""
    value = next((v for k in keys if (v := claims.get(k))), "")
    return value if type(value) is str else None


class _Envelope(NamedTuple):
    """What the fast path reads of the worker's object, each attribute already as the full path requires."""

    event_id: str
    event_type: str
    schema: EventSchema
    when: datetime | None
    subject: str | None
    data: Any


def _envelope(event: object) -> _Envelope | None:
    """The envelope of an object of the worker's own classes when every attribute the full path checks is as it
    requires; None otherwise."""
    when: datetime | None
    if type(event) is func.EventGridEvent:
        if not _plain(event.topic, event.data_version) or event.event_time is None:
            return None
        schema, event_type, when = EventSchema.EVENT_GRID, event.event_type, event.event_time
    elif type(event) is func.CloudEvent:
        if event.specversion != "1.0" or not _plain(event.source, event.datacontenttype, event.dataschema):
            return None
        if not all(type(v) in _SCALARS for v in event.extension_attrs.values()):
            return None
        schema, event_type, when = EventSchema.CLOUD_EVENT, event.type, event.time
    else:
        return None
    event_id, subject = event.id, event.subject
    if type(event_id) is not str or type(event_type) is not str or not event_id or not event_type:
        return None
    # The full path parses the time's isoformat() again; an aware datetime always reads back (and a naive one
    # is rejected there).
    if when is not None and (type(when) is not datetime or when.utcoffset() is None):
        return None
    if not _plain(subject):
        return None
    return _Envelope(event_id, event_type, schema, when, subject, event.get_json())


def recognise(event: object, rt: Runtime) -> Echo | None:
    """The echo (with triage's reason) when the event is self-caused by the full path's rules; None to take that
    path. Its tenant, status, time and schema are read only as the full path checks them: the trace keeps none."""
    envelope = _envelope(event)
    if envelope is None:
        return None
    data = envelope.data
    if type(data) is not dict or not envelope.event_type.lower().startswith(_ARM_FAMILY):
        return None
    claims = data.get("claims")
    if type(claims) is not dict:
        return None
    object_id, app_id = _claim(claims, OID_CLAIMS), _claim(claims, APPID_CLAIMS)
    if object_id is None or app_id is None or (object_id and not is_guid(object_id)):
        return None  # the full path rejects it, or records the object id as unknown (with a warning)
    ours = object_id and object_id.lower() in _lowered(rt.self_object_ids)
    if not ours and not (app_id and app_id.lower() in _lowered(rt.self_app_ids)):
        return None  # the common case for anyone else's event: a few dictionary reads
    return _checked(envelope, data, Caller(object_id or None, app_id or None), rt)


def _checked(envelope: _Envelope, data: dict[Any, Any], caller: Caller, rt: Runtime) -> Echo | None:
    """The rest of the full path's checks of an ARM event (eventgrid._arm_event), then triage itself."""
    operation, uri = data.get("operationName"), data.get("resourceUri")
    claimed, tenant, status = data.get("subscriptionId"), data.get("tenantId"), data.get("status")
    correlation = data.get("correlationId")
    if type(operation) is not str or not operation or not _plain(claimed, tenant, correlation, status):
        return None
    target = uri if uri is not None else envelope.subject
    if type(target) is not str or not target:
        return None
    checked = _checked_id(target)
    if checked is None or not _shallow(data):
        return None
    resource_id, subscription = checked
    if claimed and claimed.lower() != subscription.lower():
        return None
    if not _fits_an_id(envelope.event_id) or (correlation and not _fits_an_id(correlation)):
        return None
    said = (envelope.event_type, operation, resource_id, subscription, caller)
    verdict = _triage(said, (rt.baseline.subscriptions, rt.self_object_ids, rt.self_app_ids, rt.active_controls()))
    if not verdict.self_caused:
        return None
    return Echo(envelope.event_id, resource_id, operation, correlation or "", caller, verdict.reason)


@lru_cache(maxsize=4096)
def _triage(
    said: tuple[str, str, str, str, Caller],
    config: tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]],
) -> Triage:
    """intake.triage itself, once per distinct input: it reads only these fields of an event and the runtime's
    scope, ids and controls (all in the key), and it is pure, so a repeated echo gets the same verdict."""
    event_type, operation, resource_id, subscription, caller = said
    event = ResourceEvent(
        event_id="",
        event_type=event_type,
        schema=EventSchema.EVENT_GRID,
        resource_id=resource_id,
        operation_name=operation,
        subscription_id=subscription,
        tenant_id="",
        correlation_id="",
        caller=caller,
        event_time=None,
    )
    subscriptions, object_ids, app_ids, controls = config
    return triage(
        event,
        subscriptions=subscriptions,
        self_object_ids=object_ids,
        self_app_ids=app_ids,
        implemented_controls=controls,
    )

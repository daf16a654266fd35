"""Event Grid intake: raw payloads and Functions trigger events -> typed ResourceEvents, or precise rejects.

Both schemas (EventGridEvent, CloudEvents 1.0). Claims are reduced to the caller's object and app ids here,
so no name, UPN or IP address travels further than this module. Any failure to read one item, however hostile
the item, ends as a RejectedEvent; what a rejection keeps of the item is bounded (warden/azure/event_raw.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from warden.azure.event_raw import (
    APPID_CLAIMS,
    MAX_DEPTH,
    OID_CLAIMS,
    nesting_depth,
    reduce_raw,
)
from warden.errors import InvalidEventError
from warden.ids import IdRuleError, check_arm_id, is_guid
from warden.model import Caller, EventSchema, Json, ResourceEvent
from warden.redact import bounded_text, for_log

log = logging.getLogger(__name__)

#: Longest event id or correlation id kept: Event Grid's are GUIDs, and these travel into every audit record.
MAX_ID_CHARS = 256
#: Longest rejection message kept (it quotes the field at fault, which a hostile event can make huge).
MAX_MESSAGE_CHARS = 2048

_KEY_VAULT_FIELDS = ("Id", "VaultName", "ObjectType", "ObjectName", "Version", "NBF", "EXP")
_KEY_EVENTS = frozenset(f"microsoft.keyvault.key{n}" for n in ("nearexpiry", "expired", "newversioncreated"))
_STORAGE_FIELDS = ("url", "api")
# ASCII only: under Unicode IGNORECASE a long s (U+017F) would match `s` in `subscriptions` (warden/ids.py).
_ARM_ID = re.compile(r"^/subscriptions/([^/]+)", re.ASCII | re.IGNORECASE)
_FRACTION = re.compile(r"(\.\d{6})\d+")
_JSON_TYPES: tuple[tuple[Any, str], ...] = ((bool, "boolean"), (int | float, "number"), (str, "string"))
_JSON_TYPES += ((Mapping, "object"), (Sequence, "array"))


@dataclass(frozen=True)
class RejectedEvent:
    """A malformed item of a payload, kept (claims reduced) so that it is audited, never lost silently."""

    index: int
    event_id: str
    field: str
    message: str
    raw: Json


class _RejectError(Exception):
    """Internal: one item is malformed; `field` names the JSON path at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}" if field else problem)
        self.field = field


def parse_events(
    payload: str | bytes | Mapping[str, Json] | Sequence[Json],
) -> tuple[list[ResourceEvent], list[RejectedEvent]]:
    """Parse one event or a batch in either schema (layouts: `event_items`). InvalidEventError when the whole
    payload is unusable; a malformed item becomes a RejectedEvent and the others still parse."""
    events: list[ResourceEvent] = []
    rejected: list[RejectedEvent] = []
    for index, item in enumerate(event_items(payload)):
        parsed = parse_item(item, index)
        if isinstance(parsed, RejectedEvent):
            rejected.append(parsed)
        else:
            events.append(parsed)
    return events, rejected


def event_items(payload: str | bytes | Mapping[str, Json] | Sequence[Json]) -> list[Json]:
    """The items of a payload in stream order: one event, a batch (JSON array), or a mapping holding only
    `events` (and `_`-prefixed notes), the layout of the reference fixtures. Raises InvalidEventError when
    the whole payload is unusable (invalid JSON or UTF-8, a scalar top level)."""
    doc: Json = payload
    if isinstance(doc, bytes):
        try:
            doc = doc.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise InvalidEventError(f"Event Grid payload is not UTF-8: {err}", field="(payload)") from err
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as err:
            where = f"line {err.lineno} column {err.colno}"
            raise InvalidEventError(
                f"Event Grid payload is not valid JSON: {err.msg} at {where}", field="(payload)", where=where
            ) from err
        except RecursionError as err:  # the decoder recurses once per level: about 1000 levels end it
            raise InvalidEventError(
                f"Event Grid payload nests too deeply to decode (an event may nest {MAX_DEPTH} levels)",
                field="(payload)",
            ) from err
    if isinstance(doc, Mapping):
        wrapped = doc.get("events")
        if isinstance(wrapped, list) and all(isinstance(k, str) and (k == "events" or k.startswith("_")) for k in doc):
            return list(wrapped)
        return [doc]
    if isinstance(doc, Sequence) and not isinstance(doc, str | bytes):
        return list(doc)
    raise InvalidEventError(
        f"Event Grid payload must be a JSON object or array, not {_json_type(doc)}", field="(payload)"
    )


def parse_item(item: Json, index: int | None = 0) -> ResourceEvent | RejectedEvent:
    """One item of a payload (`index` is its position in the payload, for the message; None for an event
    delivered alone): its ResourceEvent, or its rejection with the claim-reduced raw item. Never raises: an
    item that fails in any other way is rejected too (a raise would make Event Grid retry it for 24 hours)."""
    event_id = bounded_text(event_id_of(item), MAX_ID_CHARS)
    try:
        if not isinstance(item, Mapping):
            raise _RejectError("", f"the item is a JSON {_json_type(item)}, not an event object")
        _check_depth(item)
        return _parse_item(item)
    except _RejectError as bad:
        field, problem = bad.field, str(bad)
    except Exception as exc:  # hostile input ends as an audited rejection, whatever it breaks
        field, problem = "", f"could not be read ({type(exc).__name__}: {exc})"
    label = f"id {event_id}" if event_id else "no id"
    try:
        raw = reduce_raw(item) if isinstance(item, Mapping) else None
    except Exception:  # a mapping that fails even to be copied: the message still says what failed
        raw = None
    message = bounded_text(f"{'event' if index is None else f'event {index}'} ({label}): {problem}", MAX_MESSAGE_CHARS)
    return RejectedEvent(index or 0, event_id, field, message, raw)


def _check_depth(item: Mapping[str, Json]) -> None:
    """Rejected before it is read: a field nested deeper than any real event is hostile, and deep enough it
    would exhaust the stack of whatever walks it next."""
    for key, value in item.items():
        if nesting_depth(value, MAX_DEPTH) > MAX_DEPTH:
            raise _RejectError(bounded_text(str(key), 64), f"nests deeper than {MAX_DEPTH} levels")


# -- one item -------------------------------------------------------------------------------------------


def _parse_item(item: Mapping[str, Json]) -> ResourceEvent:
    schema = _schema_of(item)
    cloud = schema is EventSchema.CLOUD_EVENT
    type_key, time_key, topic_key = ("type", "time", "source") if cloud else ("eventType", "eventTime", "topic")
    event_id = _bounded_id(_str(item, "id", required=True), "id")
    event_type = _str(item, type_key, required=True)
    if cloud and item.get("specversion") != "1.0":
        raise _RejectError("specversion", f"is {item.get('specversion')!r}; Event Grid sends CloudEvents '1.0'")
    if not cloud and item.get(time_key) is None:
        raise _RejectError(time_key, "is missing")
    event_time = _parse_time(item.get(time_key), time_key)
    family = event_type.lower()
    common = _Envelope(event_id=event_id, event_type=event_type, schema=schema, event_time=event_time)

    if family.startswith("microsoft.resources."):
        return _arm_event(item, common)
    details: dict[str, Json] = {}
    if family.startswith(("microsoft.keyvault.", "microsoft.storage.")):
        # The topic is the vault or storage account: the resource these events point at.
        resource_id = _arm_id(item.get(topic_key), topic_key)
        data = _data_object(item)
        if family.startswith("microsoft.keyvault."):
            details = _key_vault_details(data, require_name=family in _KEY_EVENTS)
        else:
            details = {k: _str(data, k, f"data.{k}") for k in _STORAGE_FIELDS if k in data}
    else:
        # Any other type (subscription validation included) points at its topic and nothing more: triage
        # drops it by type. Its data is not read, so a validation code is never kept.
        topic = item.get(topic_key)
        resource_id = topic if isinstance(topic, str) else ""
    return ResourceEvent(
        **common,
        resource_id=resource_id,
        operation_name=event_type,
        subscription_id=_subscription_of(resource_id),
        tenant_id="",
        correlation_id="",
        caller=Caller(),
        details=details,
    )


def _schema_of(item: Mapping[str, Json]) -> EventSchema:
    if "specversion" in item:
        return EventSchema.CLOUD_EVENT
    odd = next((k for k in item if k.lower() == "specversion"), None)
    if odd is not None:
        raise _RejectError(
            odd,
            "is not a CloudEvents attribute: names are lowercase, Event Grid sends lowercase 'specversion' "
            "(the Functions worker would decode this event as an EventGridEvent with empty fields)",
        )
    if "eventType" in item:
        return EventSchema.EVENT_GRID
    if any(k in item for k in ("source", "type", "time")):
        raise _RejectError("specversion", "is missing (the event has CloudEvents attributes but no 'specversion')")
    raise _RejectError(
        "eventType",
        "is missing: the object is neither an EventGridEvent (no 'eventType') nor a CloudEvent (no 'specversion')",
    )


class _Envelope(TypedDict):
    """The envelope fields every ResourceEvent takes, whatever its family."""

    event_id: str
    event_type: str
    schema: EventSchema
    event_time: datetime | None


def _arm_event(item: Mapping[str, Json], common: _Envelope) -> ResourceEvent:
    data = _data_object(item)
    operation = _str(data, "operationName", "data.operationName", required=True)
    if data.get("resourceUri") is not None:
        resource_id = _arm_id(data["resourceUri"], "data.resourceUri")
    else:
        resource_id = _arm_id(item.get("subject"), "subject")
    subscription = _subscription_of(resource_id)
    claimed = _str(data, "subscriptionId", "data.subscriptionId")
    # The resource id decides what warden re-reads and which scope applies; an event whose own fields
    # disagree on the subscription is not trusted to pick either.
    if claimed and claimed.lower() != subscription.lower():
        raise _RejectError(
            "data.subscriptionId", f"is {claimed!r} but the resource id is in subscription {subscription!r}"
        )
    return ResourceEvent(
        **common,
        resource_id=resource_id,
        operation_name=operation,
        subscription_id=subscription,
        tenant_id=_str(data, "tenantId", "data.tenantId"),
        correlation_id=_bounded_id(_str(data, "correlationId", "data.correlationId"), "data.correlationId"),
        status=_str(data, "status", "data.status"),
        caller=_caller(data.get("claims")),
    )


def _caller(claims: Json) -> Caller:
    if claims is None:
        return Caller()
    # Every example carries an object; a string (as an old swagger typed it) would hide who the caller is,
    # and the loop guard depends on knowing that.
    if not isinstance(claims, Mapping):
        raise _RejectError("data.claims", f"is a JSON {_json_type(claims)}, not an object")
    object_id = next((_str(claims, k, "data.claims." + k) for k in OID_CLAIMS if claims.get(k)), "")
    app_id = next((_str(claims, k, "data.claims." + k) for k in APPID_CLAIMS if claims.get(k)), "")
    if object_id and not is_guid(object_id):
        # Entra object ids are GUIDs; anything else is not recorded as given (it could be any text). warden's
        # own changes always carry its GUID, so the loop guard never depends on an id dropped here.
        log.warning("event caller: object id claim %s is not a GUID; recorded as unknown", for_log(object_id, 80))
        object_id = ""
    return Caller(object_id=object_id or None, app_id=app_id or None)


def _bounded_id(value: str, where: str) -> str:
    """An id that goes into every audit record and state key: bounded, and text a person can read."""
    if len(value) > MAX_ID_CHARS:
        raise _RejectError(where, f"is {len(value)} characters long; warden takes at most {MAX_ID_CHARS}")
    odd = next((c for c in value if 0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 or ord(c) == 0x7F), None)
    if odd is not None:
        # A lone surrogate is no Unicode text (no UTF-8 encodes it), a control character no id Event Grid sends.
        kind = "a lone surrogate" if ord(odd) >= 0xD800 else "a control character"
        raise _RejectError(where, f"holds {kind} (U+{ord(odd):04X})")
    return value


def _key_vault_details(data: Mapping[str, Json], *, require_name: bool) -> dict[str, Json]:
    # The examples use PascalCase keys, an old schema lowercase ones: look up case-insensitively and
    # hand on the examples' spelling.
    by_lower = {k.lower(): k for k in data}
    details: dict[str, Json] = {}
    for name in _KEY_VAULT_FIELDS:
        key = by_lower.get(name.lower())
        if key is None or data[key] is None:
            continue
        value = data[key]
        if name in ("NBF", "EXP"):
            details[name] = _epoch_seconds(value, f"data.{key}")
        elif isinstance(value, str):
            details[name] = value
        else:
            raise _RejectError(f"data.{key}", f"is a JSON {_json_type(value)}, not a string")
    if require_name and not details.get("ObjectName"):
        raise _RejectError("data.ObjectName", "is missing")
    return details


def _epoch_seconds(value: Json, where: str) -> int:
    """NBF/EXP: strings in the examples, numbers in the documentation table; both are epoch seconds."""
    if isinstance(value, bool):
        raise _RejectError(where, "is a boolean, not epoch seconds")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            pass
    raise _RejectError(where, f"is {value!r}, not epoch seconds")


# -- field helpers --------------------------------------------------------------------------------------


def _data_object(item: Mapping[str, Json]) -> Mapping[str, Json]:
    data = item.get("data")
    if data is None:
        raise _RejectError("data", "is missing")
    if not isinstance(data, Mapping):
        raise _RejectError("data", f"is a JSON {_json_type(data)}, not an object")
    return data


def _str(obj: Mapping[str, Json], key: str, where: str = "", *, required: bool = False) -> str:
    """A string field; null and absent read as "" unless required (then "" is missing too)."""
    value = obj.get(key)
    if value is None or (required and value == ""):
        if required:
            raise _RejectError(where or key, "is missing")
        return ""
    if not isinstance(value, str):
        raise _RejectError(where or key, f"is a JSON {_json_type(value)}, not a string")
    return value


def _arm_id(value: Json, where: str) -> str:
    """An id warden may act on: ASCII, ARM's naming rules met (warden/ids.py); else the item is rejected."""
    if value is None or value == "":
        raise _RejectError(where, "is missing")
    if not isinstance(value, str):
        raise _RejectError(where, f"is {value!r}, not an ARM resource id (/subscriptions/...)")
    try:
        return check_arm_id(value)
    except IdRuleError as exc:
        raise _RejectError(where, str(exc)) from None


def _subscription_of(resource_id: str) -> str:
    match = _ARM_ID.match(resource_id)
    return match.group(1) if match else ""


def _parse_time(value: Json, where: str) -> datetime | None:
    """RFC 3339 with an offset; Event Grid writes 7 fractional digits, which are cut to Python's 6."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _RejectError(where, f"is a JSON {_json_type(value)}, not a time string")
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        raise _RejectError(where, f"is {value!r}, not an RFC 3339 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _RejectError(where, f"is {value!s}, a time without a UTC offset")
    return parsed


def event_id_of(item: Json) -> str:
    """The event's own `id` when it is a string, else "" (a malformed event may have none)."""
    try:
        value = item.get("id") if isinstance(item, Mapping) else None
    except Exception:  # a hostile mapping: its rejection says what failed, with no id
        return ""
    return value if isinstance(value, str) else ""


def _json_type(value: Json) -> str:
    """The JSON name of a value's type, for messages (bool before number: bool is an int in Python)."""
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), type(value).__name__)

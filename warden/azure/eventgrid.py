"""Event Grid intake: raw payloads and Functions trigger events -> typed ResourceEvents, or precise rejects.

Both schemas (EventGridEvent, CloudEvents 1.0). Claims are reduced to the caller's object and app ids here,
so no name, UPN or IP address travels further than this module.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from warden.errors import InvalidEventError
from warden.model import Caller, EventSchema, Json, ResourceEvent

OID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
APPID_CLAIMS = ("appid", "azp")
_KEPT_CLAIMS = frozenset(OID_CLAIMS + APPID_CLAIMS)

_KEY_VAULT_FIELDS = ("Id", "VaultName", "ObjectType", "ObjectName", "Version", "NBF", "EXP")
_KEY_EVENTS = frozenset(f"microsoft.keyvault.key{n}" for n in ("nearexpiry", "expired", "newversioncreated"))
_STORAGE_FIELDS = ("url", "api")
_ARM_ID = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
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
    if isinstance(doc, Mapping):
        wrapped = doc.get("events")
        if isinstance(wrapped, list) and all(k == "events" or k.startswith("_") for k in doc):
            return list(wrapped)
        return [doc]
    if isinstance(doc, Sequence) and not isinstance(doc, str | bytes):
        return list(doc)
    raise InvalidEventError(
        f"Event Grid payload must be a JSON object or array, not {_json_type(doc)}", field="(payload)"
    )


def parse_item(item: Json, index: int | None = 0) -> ResourceEvent | RejectedEvent:
    """One item of a payload (`index` is its position in the payload, for the message; None for an event
    delivered alone): its ResourceEvent, or its rejection with the claim-reduced raw item."""
    event_id = event_id_of(item)
    try:
        if not isinstance(item, Mapping):
            raise _RejectError("", f"the item is a JSON {_json_type(item)}, not an event object")
        return _parse_item(item)
    except _RejectError as bad:
        label = f"id {event_id}" if event_id else "no id"
        raw = reduce_raw(item) if isinstance(item, Mapping) else None
        where = "event" if index is None else f"event {index}"
        return RejectedEvent(index or 0, event_id, bad.field, f"{where} ({label}): {bad}", raw)


def reduce_claims(claims: Json) -> dict[str, Json]:
    """Only the caller's object id and app id survive; names, UPNs, IP addresses and token ids are dropped.

    Claims that are not an object (an old swagger typed them as a string) are dropped whole."""
    if not isinstance(claims, Mapping):
        return {}
    return {k: v for k, v in claims.items() if k in _KEPT_CLAIMS}


def reduce_raw(item: Mapping[str, Json]) -> dict[str, Json]:
    """A copy of a raw event safe to audit: claims reduced, the client IP address removed."""
    raw = copy.deepcopy(dict(item))
    data = raw.get("data")
    if isinstance(data, dict):
        if "claims" in data:
            data["claims"] = reduce_claims(data["claims"])
        http = data.get("httpRequest")
        if isinstance(http, dict):
            http.pop("clientIpAddress", None)
    return raw


# -- one item -------------------------------------------------------------------------------------------


def _parse_item(item: Mapping[str, Json]) -> ResourceEvent:
    schema = _schema_of(item)
    cloud = schema is EventSchema.CLOUD_EVENT
    type_key, time_key, topic_key = ("type", "time", "source") if cloud else ("eventType", "eventTime", "topic")
    event_id = _str(item, "id", required=True)
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
        correlation_id=_str(data, "correlationId", "data.correlationId"),
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
    return Caller(object_id=object_id or None, app_id=app_id or None)


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
    if value is None or value == "":
        raise _RejectError(where, "is missing")
    if not isinstance(value, str) or not _ARM_ID.match(value):
        raise _RejectError(where, f"is {value!r}, not an ARM resource id (/subscriptions/...)")
    return value


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
    value = item.get("id") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else ""


def _json_type(value: Json) -> str:
    """The JSON name of a value's type, for messages (bool before number: bool is an int in Python)."""
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), type(value).__name__)

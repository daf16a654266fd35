"""Key rotation policies: the answer for a key nobody set one on, and the checks Key Vault makes on a PUT.

The checks (400 BadParameter): every lifetime action has one trigger, `timeAfterCreate` or
`timeBeforeExpiry`, of at least P7D; `attributes.expiryTime` is at least P28D; a `timeBeforeExpiry` trigger
needs an `expiryTime`; an action is `Rotate` or `Notify` (at most one of each) and `Notify` only fires before
expiry. The messages are the emulator's own (docs/emulator.md "Key Vault").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from . import durations
from .errors import bad_parameter

MIN_TRIGGER_DAYS = 7
MIN_EXPIRY_DAYS = 28
_ACTIONS = {"rotate": "Rotate", "notify": "Notify"}
_TRIGGERS = ("timeAfterCreate", "timeBeforeExpiry")


def default() -> dict[str, Any]:
    """What Key Vault answers for a key without a policy: no id, and a notification 30 days before expiry."""
    return {
        "id": None,
        "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
        "attributes": {},
    }


def _duration(text: Any, where: str, minimum: int, since: datetime) -> str:
    if not isinstance(text, str):
        raise bad_parameter(f"{where} must be an ISO 8601 duration string.")
    try:
        long_enough = durations.at_least(text, minimum, since)
    except ValueError as err:
        raise bad_parameter(f"{where}: {err}.") from None
    if not long_enough:
        raise bad_parameter(f"{where} '{text}' is too short: the minimum is P{minimum}D.")
    return text


def _action(raw: Any, index: int, since: datetime) -> dict[str, Any]:
    where = f"lifetimeActions[{index}]"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("trigger"), Mapping):
        raise bad_parameter(f"{where} needs a 'trigger' object.")
    action = raw.get("action")
    kind = action.get("type") if isinstance(action, Mapping) else None
    if not isinstance(kind, str) or kind.lower() not in _ACTIONS:
        raise bad_parameter(f"{where}.action.type must be 'Rotate' or 'Notify'.")
    given = {k: v for k, v in raw["trigger"].items() if k in _TRIGGERS and v is not None}
    if len(given) != 1:
        raise bad_parameter(f"{where}.trigger must have exactly one of timeAfterCreate and timeBeforeExpiry.")
    ((name, value),) = given.items()
    trigger = {name: _duration(value, f"{where}.trigger.{name}", MIN_TRIGGER_DAYS, since)}
    if _ACTIONS[kind.lower()] == "Notify" and name != "timeBeforeExpiry":
        raise bad_parameter(f"{where}: a Notify action can only be triggered by timeBeforeExpiry.")
    return {"trigger": trigger, "action": {"type": _ACTIONS[kind.lower()]}}


def validated(body: Any, now: datetime) -> dict[str, Any]:
    """The policy a PUT stores (without id and times), or 400 BadParameter naming what is wrong."""
    if not isinstance(body, Mapping):
        raise bad_parameter("The rotation policy must be a JSON object.")
    raw_actions = body.get("lifetimeActions") or []
    if not isinstance(raw_actions, list):
        raise bad_parameter("lifetimeActions must be a list.")
    actions = [_action(raw, index, now) for index, raw in enumerate(raw_actions)]
    kinds = [a["action"]["type"] for a in actions]
    if len(kinds) != len(set(kinds)):
        raise bad_parameter("A rotation policy has at most one Rotate and one Notify action.")
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise bad_parameter("attributes must be an object.")
    expiry = attributes.get("expiryTime")
    out_attributes: dict[str, Any] = {}
    if expiry is not None:
        out_attributes["expiryTime"] = _duration(expiry, "attributes.expiryTime", MIN_EXPIRY_DAYS, now)
    elif any("timeBeforeExpiry" in a["trigger"] for a in actions):
        raise bad_parameter("A timeBeforeExpiry trigger needs attributes.expiryTime to be set.")
    return {"lifetimeActions": actions, "attributes": out_attributes}


def expiry_of(policy: Mapping[str, Any] | None) -> str | None:
    """The policy's `attributes.expiryTime` (what a rotation's new version expires after), if any."""
    attributes = policy.get("attributes") if policy is not None else None
    found = attributes.get("expiryTime") if isinstance(attributes, Mapping) else None
    return found if isinstance(found, str) else None


def unix(when: datetime) -> int:
    return int(when.astimezone(UTC).timestamp())

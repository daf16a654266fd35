"""The `exemptions:` section of the baseline: each entry read and checked, and said in words for check-baseline.

An exemption is a way to switch a control off, so one that reaches further than a resource group (`*`, a whole
subscription, every subscription) is refused unless it says so (`acknowledge_broad: true`) and comes back to
someone within MAX_BROAD_DAYS (docs/baseline.md, "Broad exemptions").
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from typing import TypeVar

from yaml.nodes import Node

from warden.baseline_yaml import TAG, NodeReader, suggest
from warden.model import Exemption
from warden.registry import CONTROL_IDS

T = TypeVar("T")

#: The expiry of `expires: 9999-12-31` ("never"): the end of that day is past the last representable instant.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
#: The key by which an admin says that an exemption reaching past one resource group is meant.
ACKNOWLEDGE = "acknowledge_broad"
#: A broad exemption must expire within this many days of the day the file is read: it switches a control off
#: for much of the tenant, so it must come back to its owner (a narrow one may say "never", 9999-12-31).
MAX_BROAD_DAYS = 365

# Required keys with what to write when one is missing.
_REQUIRED = {
    "resource": "the ARM id or pattern it exempts, /subscriptions/<id>/resourceGroups/<name>/...",
    "control": "a control id, or '*' for every control",
    "reason": "why the resource may keep its drift",
    "owner": "who answers for it",
    "expires": "a date, YYYY-MM-DD",
}
_KEYS = (*_REQUIRED, ACKNOWLEDGE)
_GLOB = re.compile(r"[*?\[]")  # fnmatch's wildcards
# Two made-up resources that share nothing: a pattern matching both matches every resource (of a subscription).
_PROBES = (
    ("f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b", "zz-probe-rg", "zz-probe"),
    ("09182736-4554-4637-a829-1a0b9c8d7e6f", "qq.other_rg", "q1"),
)


def reach(pattern: str) -> str | None:
    """What a resource pattern reaches past one resource group, in words; None when it names a subscription and a
    resource group literally (`/subscriptions/<id>/resourceGroups/<name>`, then anything), which bounds it, or
    has no wildcard at all (it names one resource)."""
    if not _GLOB.search(pattern):
        return None
    segments = [s for s in pattern.lower().split("/") if s]  # matching ignores doubled and trailing slashes
    literal = [not _GLOB.search(s) for s in segments[:4]]
    names_sub = len(segments) >= 2 and segments[0] == "subscriptions" and all(literal[:2])
    if names_sub and len(segments) >= 4 and segments[2] == "resourcegroups" and all(literal[:4]):
        return None
    normalized = "/" + "/".join(segments) if pattern.startswith("/") else "/".join(segments)
    sub = segments[1] if names_sub else None
    every = all(
        fnmatch.fnmatchcase(
            f"/subscriptions/{sub or s}/resourcegroups/{rg}/providers/microsoft.cognitiveservices/accounts/{name}",
            normalized,
        )
        for s, rg, name in _PROBES
    )
    if sub is None:
        return "every resource" if every else "resources in every subscription"
    return f"every resource of subscription {sub}" if every else f"resources in every resource group of {sub}"


def when(instant: datetime, *, say_never: bool = False) -> str:
    """An expiry as the admin wrote it: a date-only expiry is stored as the next midnight UTC. `say_never` adds
    that `9999-12-31` never expires (check-baseline's description spells it out; audit reasons do not)."""
    utc = instant.astimezone(UTC)
    if utc == END_OF_TIME:  # `expires: 9999-12-31`, capped at the last representable instant
        return f"{utc.date().isoformat()} (end of day UTC{'; never expires' if say_never else ''})"
    if utc.time() == time(0):
        return f"{(utc - timedelta(days=1)).date().isoformat()} (end of day UTC)"
    return utc.isoformat()


def describe(exemption: Exemption) -> str:
    """What an exemption switches off, where and until when, as check-baseline prints it."""
    controls = "EVERY control" if exemption.control_id == "*" else exemption.control_id
    broad = reach(exemption.resource_pattern)
    where = f"{broad.upper()} ({exemption.resource_pattern!r}, acknowledged as broad)" if broad else None
    until = when(exemption.expires, say_never=True)
    return f"exempts {where or exemption.resource_pattern} from {controls} until {until}; owner {exemption.owner}"


def read_exemptions(reader: NodeReader, node: Node, now: datetime) -> tuple[Exemption, ...]:
    """Every entry of `exemptions:`; `now` (aware) is when the file is read, which bounds a broad expiry. Each
    entry, and each of its fields, is read on its own, so that every problem in them is found."""
    out: list[Exemption] = []
    for i, item in enumerate(reader.sequence(node, "exemptions")):
        exemption = reader.attempt(None, _exemption, reader, item, f"exemptions[{i}]", now)
        if exemption is not None:
            out.append(exemption)
    return tuple(out)


def _exemption(reader: NodeReader, node: Node, path: str, now: datetime) -> Exemption | None:
    fields = reader.mapping(node, path, _KEYS, required=_REQUIRED)

    def read(key: str, parse: Callable[[NodeReader, Node, str], T]) -> T | None:
        return reader.attempt(None, parse, reader, fields[key][1], f"{path}.{key}") if key in fields else None

    resource = read("resource", _resource)
    control = read("control", _control)
    reason = read("reason", NodeReader.string)
    owner = read("owner", NodeReader.string)
    expires = read("expires", expiry)
    acknowledged = read(ACKNOWLEDGE, NodeReader.boolean) if ACKNOWLEDGE in fields else False
    if resource is None or control is None or reason is None or owner is None or expires is None:
        return None  # each problem is recorded; how far it reaches is judged only on a complete entry
    if acknowledged is None:
        return None
    exemption = Exemption(resource_pattern=resource, control_id=control, reason=reason, owner=owner, expires=expires)
    _check_reach(reader, fields, path, exemption, acknowledged=acknowledged, now=now)
    return exemption


def _resource(reader: NodeReader, node: Node, path: str) -> str:
    resource = reader.string(node, path)
    if not (resource.lower().startswith("/subscriptions/") or resource.startswith("*")):
        # A pattern that cannot match an ARM id would exempt nothing, silently.
        reader.at(node, path, f"{resource!r} must be an ARM id or glob starting with /subscriptions/ (or *)")
    return resource


def _control(reader: NodeReader, node: Node, path: str) -> str:
    control = reader.string(node, path)
    if control != "*" and control not in CONTROL_IDS:
        reader.at(node, path, f"unknown control id {control!r}{suggest(control, CONTROL_IDS)}")
    return control


def _check_reach(
    reader: NodeReader,
    fields: dict[str, tuple[Node, Node]],
    path: str,
    exemption: Exemption,
    *,
    acknowledged: bool,
    now: datetime,
) -> None:
    broad = reach(exemption.resource_pattern)
    controls = "every control" if exemption.control_id == "*" else exemption.control_id
    if broad is not None and not acknowledged:
        problem = (
            f"{exemption.resource_pattern!r} exempts {broad} from {controls}; name a subscription and a resource "
            f"group (/subscriptions/<id>/resourceGroups/<name>/...), or, if that is meant, add "
            f"'{ACKNOWLEDGE}: true' and an expiry within {MAX_BROAD_DAYS} days"
        )
        reader.at(fields["resource"][1], f"{path}.resource", problem)
    if broad is None and acknowledged:
        # An acknowledgement put on every entry out of habit would mean nothing on the one that needs it.
        problem = "not needed: the exemption stays within one resource group (or names one resource); remove it"
        reader.at(fields[ACKNOWLEDGE][1], f"{path}.{ACKNOWLEDGE}", problem)
    latest_day = now.astimezone(UTC).date() + timedelta(days=MAX_BROAD_DAYS)
    if broad is not None and exemption.expires > datetime.combine(latest_day + timedelta(days=1), time(0), UTC):
        problem = (
            f"exempts {broad} from {controls}, so it must expire within {MAX_BROAD_DAYS} days "
            f"(by {latest_day.isoformat()}), got {when(exemption.expires)}"
        )
        reader.at(fields["expires"][1], f"{path}.expires", problem)


def expiry(reader: NodeReader, node: Node, path: str) -> datetime:
    """A date means the end of that day UTC (the returned instant is the next midnight, exclusive); the end
    of 9999-12-31 ("never"), or a later instant in UTC, is past what a datetime holds: END_OF_TIME."""
    wanted = "a date (YYYY-MM-DD) or an ISO datetime with a zone"
    if node.tag not in (TAG + "timestamp", TAG + "str"):
        reader.at(node, path, f"expected {wanted}, got {reader.kind(node)}")
    value = reader.value(node, path)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            reader.at(node, path, f"{text!r} is not {wanted}", cause=exc)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            reader.at(node, path, f"{node.value!r} has no time zone (add Z or +00:00, or give a date)")
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            if value.year == MAXYEAR:
                return END_OF_TIME
            # 0001-01-01T00:00+01:00 is before the first representable instant in UTC.
            reader.at(node, path, f"{node.value!r} is out of range (before 0001-01-01 in UTC)", cause=exc)
    assert isinstance(value, date)
    if value == date.max:  # 9999-12-31: its end is one microsecond after END_OF_TIME
        return END_OF_TIME
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)

"""Which events point at which controls, derived from the controls' declared routes (detectors/).

Pure: no Azure SDK, no network. Infra filters and triage both read these tables, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from detectors import CONTROLS
from warden.ids import ascii_lower
from warden.model import ResourceEvent

#: The event types warden acts on: only those some control routes (a failed write changed nothing).
RELEVANT_EVENT_TYPES: frozenset[str] = frozenset(r.event_type for c in CONTROLS for r in c.routes)


def _by_operation() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for control in CONTROLS:
        for route in control.routes:
            table.setdefault(ascii_lower(route.operation), set()).add(control.id)
    return {op: frozenset(ids) for op, ids in table.items()}


#: Lower-cased ARM operation names and Key Vault event types -> the controls they point at.
CONTROLS_BY_OPERATION: Mapping[str, frozenset[str]] = _by_operation()


def provider_of(operation_name: str) -> str:
    """The resource provider namespace of an ARM operation (`A.B/x/write`) or event type (`A.B.Event`)."""
    if "/" in operation_name:
        return operation_name.split("/", 1)[0]
    return operation_name.rsplit(".", 1)[0]


#: Lower-cased providers that some operation in the table belongs to; everything else is out of scope.
PROVIDERS_IN_SCOPE: frozenset[str] = frozenset(provider_of(op) for op in CONTROLS_BY_OPERATION)

_RELEVANT_LOWER = frozenset(ascii_lower(t) for t in RELEVANT_EVENT_TYPES)


def is_relevant_event_type(event_type: str) -> bool:
    """Whether warden acts on this event type at all. Case-insensitive on ASCII letters only: str.lower()
    folds the Kelvin sign (U+212A) to `k`, so a look-alike spelling of a Key Vault event type would pass."""
    return ascii_lower(event_type) in _RELEVANT_LOWER


def controls_for(event: ResourceEvent) -> frozenset[str]:
    """The controls to re-check for an event's operation; empty when the operation points at none."""
    return CONTROLS_BY_OPERATION.get(ascii_lower(event.operation_name.strip()), frozenset())

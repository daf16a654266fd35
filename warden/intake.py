"""Triage of parsed events: keep the ones that point at an implemented control in scope, drop the rest.

Pure: no network, clock or environment; every drop happens here before any Azure call, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from warden.model import ResourceEvent
from warden.routing import PROVIDERS_IN_SCOPE, controls_for, is_relevant_event_type, provider_of


@dataclass(frozen=True)
class Triage:
    """The intake decision for one event; `controls` is non-empty exactly when `accepted`."""

    accepted: bool
    reason: str
    self_caused: bool = False
    controls: frozenset[str] = frozenset()


def _drop(reason: str, *, self_caused: bool = False) -> Triage:
    return Triage(accepted=False, reason=reason, self_caused=self_caused)


def _lower(values: frozenset[str]) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values)


def triage(
    event: ResourceEvent,
    *,
    subscriptions: frozenset[str],
    self_object_ids: frozenset[str],
    self_app_ids: frozenset[str],
    implemented_controls: frozenset[str],  # the controls that run: implemented and listed in the baseline
) -> Triage:
    """Decide whether to evaluate an event, and which controls it points at.

    `subscriptions` is the configured scope; an empty set puts no subscription in scope (never "all").
    Ids compare case-insensitively. The self-caused check comes after routing, so the events reported as
    self-caused are exactly the echoes of warden's own changes that would otherwise have been re-checked.
    """
    if not is_relevant_event_type(event.event_type):
        return _drop(f"event type {event.event_type or '(none)'} is not handled")

    provider = provider_of(event.operation_name)
    if provider.lower() not in PROVIDERS_IN_SCOPE:
        return _drop(f"provider {provider or '(none)'} is out of scope")

    # Empty scope means nothing is in scope: a missing setting must never widen what warden may change.
    if not event.subscription_id or event.subscription_id.lower() not in _lower(subscriptions):
        return _drop(f"subscription {event.subscription_id or '(none)'} is outside the configured scope")

    routed = controls_for(event)
    if not routed:
        return _drop(f"operation {event.operation_name} on {event.resource_id} points at no control")

    caller = event.caller
    if caller.object_id and caller.object_id.lower() in _lower(self_object_ids):
        return _drop(f"caused by warden's own identity (oid {caller.object_id})", self_caused=True)
    if caller.app_id and caller.app_id.lower() in _lower(self_app_ids):
        return _drop(f"caused by warden's own identity (appid {caller.app_id})", self_caused=True)

    controls = routed & implemented_controls
    if not controls:
        return _drop(
            f"operation {event.operation_name} points only at controls not running: "
            + ", ".join(sorted(routed))
            + " (implemented, but not listed in the baseline's controls)"
        )
    return Triage(
        accepted=True,
        reason=f"operation {event.operation_name} points at " + ", ".join(sorted(controls)),
        controls=controls,
    )

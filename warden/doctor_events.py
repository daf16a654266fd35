"""`warden doctor`'s Event Grid checks, pure: each watched source (a subscription in scope, a CMK vault) has its
system topic, and its event subscriptions deliver every event the active controls route to warden's resource_event
function (docs/events.md, docs/cli.md "warden doctor")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from warden.control import Control
from warden.doctor import SHOWN, Check, Level, unreadable
from warden.errors import AzureError

SUBSCRIPTION_TOPIC = "Microsoft.Resources.Subscriptions"
VAULT_TOPIC = "Microsoft.KeyVault.vaults"
_FIX = "run `azd hooks run postdeploy` (infra/hooks/subscribe_events.py deploys infra/events.bicep); docs/deploy.md"
_VAULT_FIX = "add the vault to WARDEN_KEY_VAULT_IDS (`azd env set`), then " + _FIX.removeprefix("run ")


@dataclass(frozen=True)
class EventSubscription:
    """One event subscription on a system topic, as read."""

    name: str
    destination: str  # the function's resource id for an AzureFunction destination, else the endpoint type
    event_types: frozenset[str]  # as given (compared case-insensitively); empty: every type
    operations: frozenset[str] | None  # the StringIn values on data.operationName; None: no such filter


@dataclass(frozen=True)
class Topic:
    """A source whose system topic must deliver `expected` (event type, operation) pairs to warden."""

    subject: str  # "subscription <id>", "key vault <name>"
    source: str  # the topic's source: a subscription's or a vault's id
    topic_type: str
    expected: tuple[tuple[str, str], ...]


class EventReads(Protocol):
    def event_subscriptions(self, source: str, topic_type: str) -> Sequence[EventSubscription] | None:
        """The event subscriptions of the source's system topic of that type; None when it has none."""
        ...


def topics_to_check(
    controls: Sequence[Control[Any]], subscriptions: Iterable[str], vaults: Iterable[str]
) -> list[Topic]:
    """The subscriptions' topics with the ARM events the controls route, and the vaults' with their key events.
    A Key Vault event's operation is its type (warden/control.py KEY_EVENTS)."""
    routes = sorted({(r.event_type, r.operation) for c in controls for r in c.routes})
    arm = tuple(r for r in routes if r[0].startswith("Microsoft.Resources."))
    keys = tuple(r for r in routes if r[0].startswith("Microsoft.KeyVault."))
    topics = [Topic(f"subscription {s}", f"/subscriptions/{s}", SUBSCRIPTION_TOPIC, arm) for s in subscriptions]
    if keys:
        for vault in vaults:
            name = vault.rstrip("/").rsplit("/", 1)[-1]
            topics.append(Topic(f"key vault {name}", vault, VAULT_TOPIC, keys))
    return topics


def unchecked_vaults(controls: Sequence[Control[Any]], vaults: Sequence[str]) -> list[Check]:
    """A warning when a control routes Key Vault events but no vault was named: their topics go unchecked."""
    if vaults or not any(r.event_type.startswith("Microsoft.KeyVault.") for c in controls for r in c.routes):
        return []
    detail = "Key Vault event topics not checked: no vault named"
    fix = "pass --key-vault with each CMK vault's id, or set WARDEN_KEY_VAULT_IDS as for the deployment"
    return [Check("events", VAULT_TOPIC, Level.WARN, detail, fix)]


def event_checks(reads: EventReads, topics: Sequence[Topic], function_app: str) -> list[Check]:
    """A failed check per topic missing or short of an event; one ok line per kind of topic that delivers all.
    Without `function_app`, any app's resource_event function counts, with a warning."""
    out: list[Check] = []
    good: dict[str, int] = {}
    for topic in topics:
        try:
            found = reads.event_subscriptions(topic.source, topic.topic_type)
        except AzureError as exc:
            out.append(unreadable("events", topic.subject, exc))
            continue
        fix = _VAULT_FIX if topic.topic_type == VAULT_TOPIC else _FIX
        if found is None:
            detail = f"no Event Grid system topic ({topic.topic_type}): its changes never reach warden"
            out.append(Check("events", topic.subject, Level.FAIL, detail, fix))
            continue
        ours = [s for s in found if _delivers_to(s.destination, function_app)]
        lacking = sorted(_label(t, op) for t, op in topic.expected if not any(_covers(s, t, op) for s in ours))
        if lacking:
            names = ", ".join(s.name for s in ours) or "none"
            shown = ", ".join(lacking[:SHOWN]) + (f" and {len(lacking) - SHOWN} more" if len(lacking) > SHOWN else "")
            detail = f"not delivered to warden (its event subscriptions: {names}): {shown}"
            out.append(Check("events", topic.subject, Level.FAIL, detail, fix))
        else:
            good[topic.topic_type] = good.get(topic.topic_type, 0) + 1
    target = function_app or "a resource_event function"
    for topic_type, count in good.items():
        kind = "subscription(s)" if topic_type == SUBSCRIPTION_TOPIC else "key vault(s)"
        out.append(Check("events", topic_type, Level.OK, f"{count} {kind} deliver every routed event to {target}"))
    if good and not function_app:
        out.append(
            Check(
                "events",
                "function app",
                Level.WARN,
                "the destination app was not named, so any app's resource_event function counted",
                "pass --function-app with the app's resource id (azd env get-value AZURE_FUNCTION_APP_ID)",
            )
        )
    return out


def _label(event_type: str, operation: str) -> str:
    short = event_type.rsplit(".", 1)[-1]
    return short if operation == event_type else f"{operation} ({short})"


def _delivers_to(destination: str, function_app: str) -> bool:
    target = destination.lower().rstrip("/")
    if function_app:
        return target == f"{function_app.lower().rstrip('/')}/functions/resource_event"
    return target.endswith("/functions/resource_event")


def _covers(subscription: EventSubscription, event_type: str, operation: str) -> bool:
    types = {t.lower() for t in subscription.event_types}
    operations = subscription.operations
    return (not types or event_type.lower() in types) and (
        operations is None or operation.lower() in {o.lower() for o in operations}
    )

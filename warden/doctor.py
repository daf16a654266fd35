"""`warden doctor`'s judgement, pure: from what was read of a deployment (through `DoctorReads`), one check per
question an admin asks (docs/cli.md "warden doctor"), each ok, warn or fail, with the fix when it is not ok.

Reading is the adapter's (warden/azure/doctor_reads.py); nothing here changes anything anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from warden.baseline import Baseline
from warden.control import Control
from warden.doctor_access import PermissionSet, missing_permissions
from warden.errors import AzureError, NoCredentialError, PermissionDeniedError
from warden.identity import Identity
from warden.permissions import ROLE_NAME

#: How many subscriptions a failed check names before "and N more".
SHOWN = 5


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    area: str  # identity | permissions | events | storage | baseline
    subject: str  # what was checked: a control, a subscription, a container
    level: Level
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class EventRoute:
    """One Event Grid event subscription on a subscription's system topic, as read."""

    name: str
    destination: str  # the function's resource id for an AzureFunction destination, else the endpoint type
    event_types: frozenset[str]  # as given (compared case-insensitively); empty: every type
    operations: frozenset[str] | None  # the StringIn values on data.operationName; None: no such filter


class DoctorReads(Protocol):
    """What doctor reads; every method raises the warden error tree (AzureError, NoCredentialError)."""

    def identity(self) -> Identity: ...

    def account_groups(self, subscription: str) -> Sequence[str]:
        """The resource groups (ids) that hold an Azure OpenAI account in the subscription."""
        ...

    def permissions(self, scope: str) -> Sequence[PermissionSet]:
        """The signed-in identity's permissions at a scope (ARM's permissions API)."""
        ...

    def event_routes(self, subscription: str) -> Sequence[EventRoute] | None:
        """The event subscriptions of the subscription's Microsoft.Resources.Subscriptions system topic; None
        when it has no such topic."""
        ...


def identity_check(identity: Identity, self_object_ids: frozenset[str], self_app_ids: frozenset[str]) -> Check:
    who = identity.describe()
    if not (self_object_ids or self_app_ids):
        return Check(
            "identity",
            "signed in",
            Level.WARN,
            f"{who}; the loop guard's ids are not set, so warden's own changes come back as events",
            "set WARDEN_SELF_OBJECT_IDS to the app identity's principal id (infra/main.bicep sets it)",
        )
    if identity.object_id in self_object_ids or (identity.app_id and identity.app_id in self_app_ids):
        return Check("identity", "signed in", Level.OK, f"{who}: warden's own identity (the loop guard's ids)")
    return Check(
        "identity",
        "signed in",
        Level.WARN,
        f"{who}: not warden's identity (WARDEN_SELF_OBJECT_IDS), so the permission checks are for this sign-in",
        "to check warden's own rights, run doctor as its identity (AZURE_CLIENT_ID with its credential)",
    )


def permission_checks(
    reads: DoctorReads, controls: Sequence[Control[Any]], subscriptions: Sequence[str], who: str
) -> list[Check]:
    """One check per control: whether the identity holds every permission the control declares at each resource
    group with an Azure OpenAI account, in each subscription. The API answers for a group or a resource, not a
    subscription: a subscription without an account is reported once, as not checked."""
    missing: dict[str, dict[str, list[str]]] = {c.id: {} for c in controls}  # control -> subscription -> lacking
    checked: list[str] = []
    out: list[Check] = []
    for subscription in subscriptions:
        try:
            groups = reads.account_groups(subscription)
            held = {group: reads.permissions(group) for group in groups}
        except AzureError as exc:
            out.append(_unreadable("permissions", f"subscription {subscription}", exc))
            continue
        if not groups:
            out.append(
                Check(
                    "permissions",
                    f"subscription {subscription}",
                    Level.WARN,
                    "no Azure OpenAI account: ARM's permissions API answers per resource group, so nothing to check",
                )
            )
            continue
        checked.append(subscription)
        for control in controls:
            lacking = sorted({p for sets in held.values() for p in missing_permissions(sets, control.permissions)})
            if lacking:
                missing[control.id][subscription] = lacking
    for control in controls:
        failed = missing[control.id]
        if not failed:
            if checked:
                count = len(control.permissions)
                detail = f"{who} holds its {count} permission(s) on {len(checked)} subscription(s)"
                out.append(Check("permissions", control.id, Level.OK, detail))
            continue
        where = "; ".join(f"{', '.join(lacking)} on /subscriptions/{sub}" for sub, lacking in _first(failed.items()))
        out.append(
            Check(
                "permissions",
                control.id,
                Level.FAIL,
                f"{who} lacks {where}{_more(failed)}",
                f"assign the custom role '{ROLE_NAME}' to this identity on each of those subscriptions "
                "(infra/main.bicep does; `warden permissions` lists its actions)",
            )
        )
    return out


def event_checks(
    reads: DoctorReads, subscriptions: Sequence[str], expected: Sequence[tuple[str, frozenset[str]]], function_app: str
) -> list[Check]:
    """Per subscription: its system topic delivers every (event type, operation) warden routes to warden's
    resource_event function (`function_app`'s when given). `expected`: (event type, operations) pairs."""
    out: list[Check] = []
    good = 0
    fix = "run `azd hooks run postdeploy` (infra/hooks/subscribe_events.py deploys infra/events.bicep); docs/deploy.md"
    for subscription in subscriptions:
        subject = f"subscription {subscription}"
        try:
            routes = reads.event_routes(subscription)
        except AzureError as exc:
            out.append(_unreadable("events", subject, exc))
            continue
        if routes is None:
            detail = "no Event Grid system topic (Microsoft.Resources.Subscriptions): no change reaches warden"
            out.append(Check("events", subject, Level.FAIL, detail, fix))
            continue
        ours = [r for r in routes if _delivers_to(r.destination, function_app)]
        lacking = sorted(
            f"{op} ({event_type.rsplit('.', 1)[-1]})"
            for event_type, operations in expected
            for op in operations
            if not any(_covers(r, event_type, op) for r in ours)
        )
        if lacking:
            names = ", ".join(r.name for r in ours) or "none"
            shown = ", ".join(lacking[:SHOWN]) + (f" and {len(lacking) - SHOWN} more" if len(lacking) > SHOWN else "")
            detail = f"not delivered to warden (its event subscriptions: {names}): {shown}"
            out.append(Check("events", subject, Level.FAIL, detail, fix))
        else:
            good += 1
    if good:
        target = function_app or "a resource_event function"
        detail = f"{good} subscription(s) deliver every routed operation to {target}"
        out.append(Check("events", "event subscriptions", Level.OK, detail))
    if not function_app and good:
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


def baseline_check(path: str, baseline: Baseline | None, problems: Sequence[str]) -> Check:
    if baseline is not None:
        detail = f"valid; mode {baseline.mode.value}, {len(baseline.subscriptions)} subscription(s)"
        return Check("baseline", path, Level.OK, detail)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Check(
        "baseline", path, Level.FAIL, f"{problems[0]}{more}", f"`warden check-baseline {path}` shows every problem"
    )


def sign_in_failed(exc: NoCredentialError) -> Check:
    return Check("identity", "signed in", Level.FAIL, "no Azure credential: nothing in Azure was checked", str(exc))


def exit_code(checks: Iterable[Check]) -> int:
    """0 when nothing failed (warnings allowed), 1 otherwise (warden/exit_codes.py)."""
    return 1 if any(c.level is Level.FAIL for c in checks) else 0


def _unreadable(area: str, subject: str, exc: AzureError) -> Check:
    if isinstance(exc, PermissionDeniedError):
        fix = f"grant read on it (the custom role '{ROLE_NAME}' includes what doctor reads)"
        return Check(area, subject, Level.FAIL, f"cannot read: {exc}", fix)
    return Check(area, subject, Level.FAIL, f"cannot read: {exc}", "run doctor again; -v logs each request")


def _delivers_to(destination: str, function_app: str) -> bool:
    target = destination.lower().rstrip("/")
    if function_app:
        return target == f"{function_app.lower().rstrip('/')}/functions/resource_event"
    return target.endswith("/functions/resource_event")


def _covers(route: EventRoute, event_type: str, operation: str) -> bool:
    types_ok = not route.event_types or event_type.lower() in {t.lower() for t in route.event_types}
    ops_ok = route.operations is None or operation.lower() in {o.lower() for o in route.operations}
    return types_ok and ops_ok


def _first(items: Iterable[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    return list(items)[:SHOWN]


def _more(failed: dict[str, list[str]]) -> str:
    return f" and on {len(failed) - SHOWN} more subscription(s)" if len(failed) > SHOWN else ""

"""`warden doctor`'s judgement, pure: from what was read of a deployment (through `DoctorReads`), one check per
question an admin asks (docs/cli.md "warden doctor"), each ok, warn or fail, with the fix when it is not ok: the
identity, permissions and baseline here; Event Grid in doctor_events.py, storage in doctor_storage.py.

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


class DoctorReads(Protocol):
    """What doctor reads; every method raises the warden error tree (AzureError, NoCredentialError)."""

    def identity(self) -> Identity: ...

    def account_groups(self, subscription: str) -> Sequence[str]:
        """The resource groups (ids) that hold an Azure OpenAI account in the subscription."""
        ...

    def permissions(self, scope: str) -> Sequence[PermissionSet]:
        """The signed-in identity's permissions at a scope (ARM's permissions API)."""
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
            out.append(unreadable("permissions", f"subscription {subscription}", exc))
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


def unreadable(area: str, subject: str, exc: AzureError) -> Check:
    if isinstance(exc, PermissionDeniedError):
        fix = f"grant read on it (the custom role '{ROLE_NAME}' includes what doctor reads)"
        return Check(area, subject, Level.FAIL, f"cannot read: {exc}", fix)
    return Check(area, subject, Level.FAIL, f"cannot read: {exc}", "run doctor again; -v logs each request")


def _first(items: Iterable[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    return list(items)[:SHOWN]


def _more(failed: dict[str, list[str]]) -> str:
    return f" and on {len(failed) - SHOWN} more subscription(s)" if len(failed) > SHOWN else ""

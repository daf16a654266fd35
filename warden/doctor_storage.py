"""`warden doctor`'s storage checks, pure: the audit log's and state store's containers reachable, and the audit
container's immutability policy, the one thing that makes the log's tail tamper-evident (docs/audit.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from warden.doctor import Check, Level
from warden.errors import AzureError, PermissionDeniedError
from warden.settings import Settings

_POLICY_FIX = (
    "deploy the audit container's immutability policy (infra/app/warden.bicep auditImmutability; docs/audit.md), "
    "then lock it"
)


@dataclass(frozen=True)
class Immutability:
    """A container's time-based retention policy: `state` Locked or Unlocked, retention in days."""

    state: str
    days: int
    protected_appends: bool


class StorageReads(Protocol):
    def reach(self, store: str) -> str:
        """Read the container of `store` ("audit" or "state"); what it is, e.g. "container x on account y"."""
        ...

    def immutability(self, store: str) -> Immutability | None:
        """The container's immutability policy from the management plane; None when it has none."""
        ...


def storage_checks(reads: StorageReads, settings: Settings) -> list[Check]:
    out: list[Check] = []
    for store, blob, folder in (
        ("audit", settings.audit_account_url or settings.audit_connection_string, settings.audit_dir),
        ("state", settings.state_account_url or settings.state_connection_string, settings.state_dir),
    ):
        if not blob:
            detail = f"a local folder ({folder}): for development; in Azure it is a blob container"
            out.append(Check("storage", store, Level.WARN if store == "audit" else Level.OK, detail))
            continue
        try:
            where = reads.reach(store)
        except AzureError as exc:
            fix = "grant the identity Storage Blob Data Owner on warden's storage account (infra/app/warden.bicep)"
            out.append(Check("storage", store, Level.FAIL, f"unreachable: {exc}", fix))
            continue
        out.append(Check("storage", store, Level.OK, f"reachable: {where}"))
        if store == "audit":
            out.append(_immutability(reads, where))
    return out


def _immutability(reads: StorageReads, where: str) -> Check:
    subject = "audit immutability"
    try:
        policy = reads.immutability("audit")
    except PermissionDeniedError as exc:
        fix = "read it as someone with Reader on the account: `az storage container immutability-policy show`"
        return Check("storage", subject, Level.WARN, f"cannot read the policy: {exc}", fix)
    except AzureError as exc:
        return Check("storage", subject, Level.FAIL, f"cannot read the policy: {exc}", _POLICY_FIX)
    if policy is None:
        detail = f"{where} has no immutability policy: records could be deleted unnoticed"
        return Check("storage", subject, Level.FAIL, detail, _POLICY_FIX)
    appends = "protected appends allowed" if policy.protected_appends else "protected appends NOT allowed"
    detail = f"{policy.state} time-based retention of {policy.days} day(s), {appends}"
    if not policy.protected_appends:
        fix = "set allowProtectedAppendWrites: warden appends to its blobs (infra/app/warden.bicep)"
        return Check("storage", subject, Level.FAIL, detail + ": warden cannot append", fix)
    if policy.state.lower() != "locked":
        fix = "lock it once the retention is right: `az storage container immutability-policy lock` (docs/audit.md)"
        return Check("storage", subject, Level.WARN, detail + ": an unlocked policy can be deleted", fix)
    return Check("storage", subject, Level.OK, detail)

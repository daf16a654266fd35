"""Action kind account.patch: revert account settings with one PATCH carrying only the drifted properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from warden.model import Action, Finding, Json
from warden.ports import AccountPort

KIND = "account.patch"


class AccountPatchRemediator:
    """Merges the `fix` of every setting drift on one account into a single PATCH of `properties`."""

    kind = KIND
    # The PATCH is an accounts/write; the verifying re-read is accounts/read.
    permissions: tuple[str, ...] = (
        "Microsoft.CognitiveServices/accounts/read",
        "Microsoft.CognitiveServices/accounts/write",
    )

    def handles(self, finding: Finding) -> bool:
        return bool(finding.fix)

    def plan(self, resource_id: str, findings: Sequence[Finding]) -> Action:
        payload: dict[str, Json] = {}
        change: dict[str, Json] = {}
        for finding in findings:
            for name, value in finding.fix.items():
                if name in payload and payload[name] != value:
                    raise ValueError(f"findings disagree on property {name!r} of {resource_id}")
                payload[name] = value
                change[name] = {"before": _before(finding.observed, name), "after": value}
        return Action(
            kind=KIND,
            resource_id=resource_id,
            control_ids=tuple(sorted({f.control_id for f in findings})),
            payload=payload,
            change=change,
        )

    def apply(self, action: Action, accounts: AccountPort, *, etag: str | None = None) -> None:
        accounts.patch_account(action.resource_id, action.payload, etag=etag)


def _before(observed: Mapping[str, Json], name: str) -> Json:
    """The observed value of a property, gathering dotted sub-keys (networkAcls.defaultAction) for objects."""
    if name in observed:
        return observed[name]
    prefix = name + "."
    nested = {k[len(prefix) :]: v for k, v in observed.items() if k.startswith(prefix)}
    return nested or None

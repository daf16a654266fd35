"""The contract of a remediation step (DESIGN §3a): one typed change to one target, applied through a port.

A finding's fix is a tuple of steps. The planner merges and orders them; the executor applies them in order,
audits each one, and verifies each as its kind says. Step kinds live in remediators/, one module per kind.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeAlias

from warden.model import AccountSnapshot, Json

if TYPE_CHECKING:
    from warden.ports import Ports

#: What a step's `apply` hands back: the target's new etag (None: the answer carried none), or, for an account
#: PATCH that ARM accepted as an operation, the account as the poller read it once the operation completed.
Written: TypeAlias = AccountSnapshot | str | None


def new_etag(written: Written) -> str | None:
    return written.etag if isinstance(written, AccountSnapshot) else written


class Verify(enum.StrEnum):
    """How an applied step is shown to have worked."""

    # re-read the target and re-run the detectors of the controls it serves; the account's read may be the one the
    # poller made after ARM finished the last step's operation (`Written`, docs/architecture.md)
    REREAD = "re-read"
    RESPONSE = "response"  # the service's own answer is the proof (no read may show it: key values)


class StepStatus(enum.StrEnum):
    """What became of one step, as the audit records list it."""

    PLANNED = "planned"  # in an intent: about to be applied
    WOULD_APPLY = "would-apply"  # dry-run: what enforce would do
    APPLIED = "applied"
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"  # an earlier step failed, so this one was left for the retry
    UNKNOWN = "unknown"  # accepted by Azure, but its operation could not be followed to the end


class Step(Protocol):
    """One change. `kind`, `order`, `permissions`, `merges` and `verify` are the kind's; `target` and `etag`
    (of the target as it was read; None where the change takes no If-Match) are the instance's."""

    kind: ClassVar[str]
    order: ClassVar[int]  # lower first: the account PATCH before key regenerations
    permissions: ClassVar[tuple[str, ...]]  # ARM / data-plane actions apply() needs
    merges: ClassVar[bool]  # steps of this kind on one target combine into one (one PATCH per account)
    verify: ClassVar[Verify]

    @property
    def target(self) -> str: ...

    @property
    def etag(self) -> str | None: ...

    def merge(self, other: Step) -> Step:
        """This step and `other` (same kind and target) as one; ValueError when they contradict each other."""
        ...

    def change(self) -> Mapping[str, Json]:
        """What it changes, for the audit log: {name: {before, after}} or a plain description; never a secret."""
        ...

    def to_json(self) -> dict[str, Json]:
        """Its stored form (a pending step, kept in the state store until it is applied); never a secret."""
        ...

    def apply(self, ports: Ports, etag: str | None) -> Written:
        """Carry it out through a port, only if the target still has `etag` (when given); returns the target's
        new etag when the answer carries one, or the account as read after the write's operation completed
        (its etag included). Raises warden.errors on failure, never returns a bool."""
        ...


def alone_unit(fix: Iterable[Step]) -> str:
    """The target of the first step in `fix` whose kind stands alone (class attribute `alone = True`: one file
    deleted), else "". The planner makes each such step an action of its own, so that each counts against the
    per-run and hourly caps, and has its own outcome; other kinds merge per resource."""
    return next((step.target for step in fix if getattr(type(step), "alone", False)), "")


def stored_key(stored: Json) -> str:
    """A step's identity from its stored form: equal steps (the same key of the same account) share it."""
    return json.dumps(stored, sort_keys=True)


def step_key(step: Step) -> str:
    return stored_key(step.to_json())


def touched(statuses: Iterable[StepStatus]) -> bool:
    """Whether anything may have changed in Azure: a step applied, or accepted with an unknown outcome."""
    return any(s in (StepStatus.APPLIED, StepStatus.UNKNOWN) for s in statuses)


def describe(step: Step, status: StepStatus, error: str = "") -> dict[str, Json]:
    """One step as an audit record lists it."""
    out: dict[str, Json] = {"step": step.kind, "target": step.target, "change": dict(step.change())}
    out["status"] = status.value
    if error:
        out["error"] = error
    return out

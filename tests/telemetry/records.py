"""Audit records of one remediated event and one dry-run finding, as warden's pipeline writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warden.model import AuditRecord, Decision, Mode, Outcome, RecordKind, Trigger

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
ACCOUNT = (
    "/subscriptions/6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c/resourceGroups/rg"
    "/providers/Microsoft.CognitiveServices/accounts/a1"
)
PUBLIC = "network.public-access"
LOCAL_AUTH = "identity.local-auth"


def rec(kind: RecordKind, control: str = PUBLIC, **fields: object) -> AuditRecord:
    base: dict[str, object] = {
        "time": T0 + timedelta(seconds=42),
        "kind": kind,
        "event_id": "ev-1",
        "correlation_id": "corr-1",
        "resource_id": ACCOUNT,
        "control_id": control,
        "mode": Mode.ENFORCE,
        "trigger": Trigger.EVENT,
        "duration_ms": 812.345,
    }
    return AuditRecord(**(base | fields))  # type: ignore[arg-type]


def remediated_event() -> list[AuditRecord]:
    """An event: one control drifted and remediated 42 s after the change, another compliant."""
    return [
        rec(RecordKind.EVALUATION, LOCAL_AUTH, outcome=Outcome.COMPLIANT),
        rec(RecordKind.INTENT, decision=Decision.ENFORCE),
        rec(RecordKind.RESULT, outcome=Outcome.REMEDIATED, event_time=T0),
    ]


def dry_run_finding() -> list[AuditRecord]:
    return [rec(RecordKind.DECISION, mode=Mode.DRY_RUN, decision=Decision.DRY_RUN, outcome=Outcome.WOULD_REMEDIATE)]


def sweep_stop() -> list[AuditRecord]:
    """A sweep-level record: no control, so no telemetry."""
    return [rec(RecordKind.EVENT, control="", outcome=Outcome.FAILED, trigger=Trigger.SWEEP)]

"""Audit records for the report tests, built the way warden builds them (warden.records, the planner) and
written through a real LocalAuditLog: no hand-typed JSON."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from remediators.account_patch import AccountPatch
from warden.audit import LocalAuditLog
from warden.baseline import Baseline, ControlConfig
from warden.model import (
    AuditRecord,
    Decision,
    Exemption,
    Finding,
    Json,
    Limits,
    Mode,
    Outcome,
    PlannedFinding,
    Trigger,
)
from warden.planner import plan
from warden.records import Context, Recorder, result
from warden.registry import control

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SUB = "11111111-2222-3333-4444-555555555555"
SUB2 = "99999999-8888-7777-6666-555555555555"
PUBLIC, LOCAL = "network.public-access", "identity.local-auth"


def account(name: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/{name}"


def finding(resource: str, control_id: str = PUBLIC) -> Finding:
    prop = {PUBLIC: "publicNetworkAccess", LOCAL: "disableLocalAuth"}[control_id]
    value: Json = "Disabled" if control_id == PUBLIC else True
    return Finding(
        control_id=control_id,
        resource_id=resource,
        summary=f"{prop} is not {value}",
        observed={prop: None},
        expected={prop: value},
        fix=(AccountPatch(resource, {prop: value}, {prop: None}, '"e1"'),),
    )


def baseline(exemptions: tuple[Exemption, ...] = ()) -> Baseline:
    configs = {cid: ControlConfig(mode=None, params=control(cid).default_params()) for cid in (PUBLIC, LOCAL)}
    return Baseline(
        version=1,
        mode=Mode.ENFORCE,
        subscriptions=frozenset({SUB, SUB2}),
        limits=Limits(),
        controls=MappingProxyType(configs),
        exemptions=exemptions,
        source="<test>",
    )


@dataclass
class Writer:
    """Writes records to a LocalAuditLog as warden would, each at the time `at` says (hours before NOW)."""

    folder: Path
    log: LocalAuditLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = LocalAuditLog(self.folder)

    def recorder(self, when: datetime) -> Recorder:
        return Recorder(Context(Trigger.SWEEP, event_id="evt-1"), lambda: when, time.monotonic())

    def write(self, *records: AuditRecord) -> None:
        self.log.append(list(records))

    def evaluation(self, when: datetime, resource: str, outcome: Outcome, control_id: str = PUBLIC) -> None:
        self.write(self.recorder(when).evaluation(resource, outcome, control_id=control_id, mode=Mode.ENFORCE))

    def decision(self, when: datetime, resource: str, decision: Decision, control_id: str = PUBLIC) -> None:
        mode = Mode.DRY_RUN if decision is Decision.DRY_RUN else Mode.ENFORCE
        pf = PlannedFinding(finding(resource, control_id), mode, decision, f"decided {decision.value}")
        self.write(self.recorder(when).decision(pf))

    def planned(self, when: datetime, resource: str, base: Baseline, control_id: str = PUBLIC) -> PlannedFinding:
        """The planner's decision for a finding under `base`, written as the pipeline writes it (an intent when
        enforced, else a decision)."""
        (pf,) = plan([finding(resource, control_id)], baseline=base, now=when, history={}).decisions
        rec = self.recorder(when)
        self.write(rec.intent(pf) if pf.decision is Decision.ENFORCE else rec.decision(pf))
        return pf

    def intent(self, when: datetime, resource: str, control_id: str = PUBLIC) -> AuditRecord:
        pf = PlannedFinding(finding(resource, control_id), Mode.ENFORCE, Decision.ENFORCE, "enforce")
        record = self.recorder(when).intent(pf)
        self.write(record)
        return record

    def result(self, intent: AuditRecord, when: datetime, outcome: Outcome, error: str = "") -> None:
        self.write(result(intent, when, outcome, steps=(), error=error))

    def remediation(self, when: datetime, resource: str, outcome: Outcome, control_id: str = PUBLIC) -> None:
        self.result(self.intent(when, resource, control_id), when + timedelta(seconds=5), outcome)

    def entries(self, since: datetime | None = None) -> list[dict[str, Json]]:
        return list(self.log.entries(since=since))


def hours(n: float) -> datetime:
    """n hours before NOW."""
    return NOW - timedelta(hours=n)

"""What warden sends to Application Insights (docs/telemetry.md), declared once: metric names, dimension keys, and
which audit records become which log record and measurements. Pure: warden/azure/telemetry.py sends them, and the
workbook test (tests/telemetry/) checks infra/workbook.json against them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from warden.model import AuditRecord, Outcome, RecordKind

#: The OpenTelemetry logger (instrumentation scope) of the log records: one per audited outcome of a control.
LOGGER_NAME = "warden.telemetry"

REMEDIATIONS = "warden.remediations"
DRIFTS = "warden.drifts"
TIME_TO_COMPLIANT = "warden.time_to_compliant"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str


METRICS: tuple[Metric, ...] = (
    Metric(REMEDIATIONS, "counter", "1", "changes applied and verified by a re-read (result records: remediated)"),
    Metric(DRIFTS, "counter", "1", "findings: drift found, enforced or not (decision and intent records)"),
    Metric(TIME_TO_COMPLIANT, "histogram", "s", "from the event's change to the verified remediation"),
)

# Dimension keys: the audit log's own keys (docs/audit.md) where it has one, so a query reads like the log.
CONTROL = "controlId"
OUTCOME = "outcome"
MODE = "mode"
RESOURCE = "resourceId"
EVENT_ID = "eventId"
CORRELATION_ID = "correlationId"
DURATION_MS = "durationMs"
KIND = "kind"
TRIGGER = "trigger"
TIME_TO_COMPLIANT_S = "timeToCompliantS"  # not in the audit log: the time_to_compliant measurement, per record

#: Custom dimensions of a log record (Application Insights `traces.customDimensions`).
LOG_DIMENSIONS: tuple[str, ...] = (
    CONTROL,
    OUTCOME,
    MODE,
    RESOURCE,
    EVENT_ID,
    CORRELATION_ID,
    DURATION_MS,
    KIND,
    TRIGGER,
    TIME_TO_COMPLIANT_S,
)
#: Dimensions of every metric (`customMetrics.customDimensions`): few values each (controls x outcomes x modes), so
#: the metric series stay few; a resource or event id per series would make one series per resource.
METRIC_DIMENSIONS: tuple[str, ...] = (CONTROL, OUTCOME, MODE)
#: The outcome dimension of a drift that is being enforced (an intent record has no outcome yet: its result follows).
INTENT_OUTCOME = "intent"

Dimension = str | float


@dataclass(frozen=True)
class Point:
    """One measurement of a metric."""

    metric: str
    value: float
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class Signals:
    """What one audit record sends: a log record (None for an intent, which has no outcome) and measurements."""

    message: str | None
    dimensions: Mapping[str, Dimension]
    points: tuple[Point, ...]


def signals(record: AuditRecord) -> Signals | None:
    """The telemetry of one audit record; None for a record without a control (events, rollovers, sweep stops).
    Never a secret: the record holds none, and only ids, names and numbers are taken from it."""
    if not record.control_id:
        return None
    outcome = str(record.outcome) if record.outcome is not None else INTENT_OUTCOME
    mode = str(record.mode) if record.mode is not None else ""
    attributes = {CONTROL: record.control_id, OUTCOME: outcome, MODE: mode}
    points: list[Point] = []
    if record.kind in (RecordKind.DECISION, RecordKind.INTENT):
        points.append(Point(DRIFTS, 1.0, attributes))
    dimensions: dict[str, Dimension] = {
        CONTROL: record.control_id,
        OUTCOME: outcome,
        MODE: mode,
        RESOURCE: record.resource_id,
        EVENT_ID: record.event_id,
        CORRELATION_ID: record.correlation_id,
        KIND: str(record.kind),
        TRIGGER: str(record.trigger) if record.trigger is not None else "",
    }
    if record.duration_ms is not None:
        dimensions[DURATION_MS] = round(record.duration_ms, 1)
    if record.kind is RecordKind.RESULT and record.outcome is Outcome.REMEDIATED:
        points.append(Point(REMEDIATIONS, 1.0, attributes))
        if record.event_time is not None:  # the event's own time of the change; None for a sweep
            # A clock skew between the event's source and warden can make it slightly negative: counted as 0.
            seconds = max(0.0, (record.time - record.event_time).total_seconds())
            points.append(Point(TIME_TO_COMPLIANT, seconds, attributes))
            dimensions[TIME_TO_COMPLIANT_S] = round(seconds, 3)
    message = None if record.outcome is None else f"{record.control_id} {outcome} ({record.kind})"
    return Signals(message, {k: v for k, v in dimensions.items() if v != ""}, tuple(points))


@dataclass(frozen=True)
class EntraAuth:
    """APPLICATIONINSIGHTS_AUTHENTICATION_STRING: send with a managed identity's Entra token (None: system-assigned)."""

    client_id: str | None


def entra_auth(text: str) -> EntraAuth | None:
    """Parse `Authorization=AAD;ClientId=<id>` (either order; ClientId optional). None when unset; ValueError when
    it names another kind of authorization or a malformed pair."""
    if not text.strip():
        return None
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError("a part is not KEY=VALUE")  # never quoted: keep values out of logs
        pairs[key.strip().lower()] = value.strip()
    if pairs.get("authorization", "").upper() != "AAD":
        raise ValueError("only Authorization=AAD (Entra) is supported")
    unknown = sorted(set(pairs) - {"authorization", "clientid"})
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(unknown)}")
    return EntraAuth(pairs.get("clientid") or None)

"""Telemetry (warden/azure/telemetry.py) with the OpenTelemetry SDK's in-memory reader and exporter injected: the
log records and metrics that audit records become; and the Azure Monitor path taken only when the setting is set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from tests.telemetry.records import ACCOUNT, LOCAL_AUTH, PUBLIC, dry_run_finding, remediated_event, sweep_stop
from warden.azure.telemetry import Telemetry, build_telemetry
from warden.settings import Settings
from warden.telemetry_names import DRIFTS, METRIC_DIMENSIONS, REMEDIATIONS, TIME_TO_COMPLIANT, EntraAuth


@dataclass
class Sdk:
    """In-memory providers: what Telemetry would export, readable by the test; never the global ones."""

    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    exporter: InMemoryLogRecordExporter = field(default_factory=InMemoryLogRecordExporter)

    def __post_init__(self) -> None:
        self.meters = MeterProvider(metric_readers=[self.reader])
        self.loggers = LoggerProvider()
        self.loggers.add_log_record_processor(SimpleLogRecordProcessor(self.exporter))

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for data in self.exporter.get_finished_logs():
            record = data.log_record
            out.append({"body": record.body, "severity": record.severity_text, **dict(record.attributes or {})})
        return out

    def points(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Metric name -> [(attributes, point)] of the current collection."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = [(dict(p.attributes or {}), p) for p in metric.data.data_points]
        return found


@pytest.fixture
def sdk() -> Iterator[Sdk]:
    made = Sdk()
    yield made
    made.meters.shutdown()
    made.loggers.shutdown()


def test_a_remediated_event_becomes_log_records_and_metrics(sdk: Sdk) -> None:
    Telemetry(sdk.meters, sdk.loggers).observe(remediated_event())
    logs = sdk.logs()
    # The intent has no outcome yet: a log record for the compliant evaluation and the result only.
    assert [(log["controlId"], log["outcome"], log["kind"]) for log in logs] == [
        (LOCAL_AUTH, "compliant", "evaluation"),
        (PUBLIC, "remediated", "result"),
    ]
    result = logs[1]
    assert result["severity"] == "INFO" and result["body"] == f"{PUBLIC} remediated (result)"
    assert result["resourceId"] == ACCOUNT and result["eventId"] == "ev-1" and result["correlationId"] == "corr-1"
    assert result["durationMs"] == 812.3 and result["mode"] == "enforce" and result["trigger"] == "event"
    assert result["timeToCompliantS"] == 42.0
    points = sdk.points()
    assert set(points) == {REMEDIATIONS, DRIFTS, TIME_TO_COMPLIANT}
    (remediations,) = points[REMEDIATIONS]
    assert remediations[0] == {"controlId": PUBLIC, "outcome": "remediated", "mode": "enforce"}
    assert remediations[1].value == 1
    (drift,) = points[DRIFTS]
    assert drift[0]["outcome"] == "intent" and drift[1].value == 1
    (seconds,) = points[TIME_TO_COMPLIANT]
    assert seconds[1].count == 1 and seconds[1].sum == 42.0


def test_metrics_carry_only_the_low_cardinality_dimensions(sdk: Sdk) -> None:
    telemetry = Telemetry(sdk.meters, sdk.loggers)
    telemetry.observe(remediated_event())
    telemetry.observe(dry_run_finding())
    for series in sdk.points().values():
        for attributes, _ in series:
            assert set(attributes) == set(METRIC_DIMENSIONS)
    drifts = {a["outcome"]: p.value for a, p in sdk.points()[DRIFTS]}
    assert drifts == {"intent": 1, "would-remediate": 1}


def test_a_dry_run_finding_is_a_drift_not_a_remediation(sdk: Sdk) -> None:
    Telemetry(sdk.meters, sdk.loggers).observe(dry_run_finding())
    assert set(sdk.points()) == {DRIFTS}
    assert [log["outcome"] for log in sdk.logs()] == ["would-remediate"]


def test_records_without_a_control_send_nothing(sdk: Sdk) -> None:
    Telemetry(sdk.meters, sdk.loggers).observe(sweep_stop())
    assert sdk.logs() == [] and sdk.points() == {}


class FakeConfigure:
    """Stands for configure_azure_monitor: notes what it was given, returns in-memory providers."""

    def __init__(self, sdk: Sdk) -> None:
        self.sdk = sdk
        self.calls: list[tuple[str, EntraAuth | None]] = []

    def __call__(self, connection: str, auth: EntraAuth | None) -> tuple[Any, Any]:
        self.calls.append((connection, auth))
        return self.sdk.meters, self.sdk.loggers


CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:1/"


def test_no_connection_string_no_telemetry_and_nothing_configured(sdk: Sdk) -> None:
    configure = FakeConfigure(sdk)
    assert build_telemetry(Settings(baseline_path=Path("b.yaml")), configure=configure) is None
    assert configure.calls == []


def test_a_connection_string_configures_azure_monitor_with_the_managed_identity(sdk: Sdk) -> None:
    configure = FakeConfigure(sdk)
    settings = Settings(
        baseline_path=Path("b.yaml"),
        telemetry_connection_string=CONNECTION,
        telemetry_authentication_string="ClientId=c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21;Authorization=AAD",
    )
    telemetry = build_telemetry(settings, configure=configure)
    assert telemetry is not None
    assert configure.calls == [(CONNECTION, EntraAuth("c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21"))]
    telemetry.observe(dry_run_finding())
    assert len(sdk.logs()) == 1  # the Telemetry sends through the providers configure returned


def test_the_connection_string_is_never_printed_with_the_settings() -> None:
    settings = Settings(baseline_path=Path("b.yaml"), telemetry_connection_string=CONNECTION)
    assert "InstrumentationKey" not in repr(settings)

"""Telemetry to Application Insights through OpenTelemetry (docs/telemetry.md), only when
APPLICATIONINSIGHTS_CONNECTION_STRING is set. The only module that imports opentelemetry or azure.monitor, and
only when telemetry is on: with the setting unset, none of it is loaded (cold start)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from warden.model import AuditRecord
from warden.settings import Settings
from warden.telemetry_names import LOGGER_NAME, METRICS, EntraAuth, entra_auth, signals

if TYPE_CHECKING:
    from opentelemetry._logs import LoggerProvider
    from opentelemetry.metrics import Counter, Histogram, MeterProvider

log = logging.getLogger(__name__)

#: (connection string, Entra auth or None) -> the meter and logger providers that export there.
Configure = Callable[[str, EntraAuth | None], "tuple[MeterProvider, LoggerProvider]"]


class Telemetry:
    """An audit observer (warden/audit.py): each appended record with a control becomes a log record and metrics.
    Fast and non-blocking: the SDK aggregates metrics in memory and batches log records on its own thread."""

    def __init__(self, meter_provider: MeterProvider, logger_provider: LoggerProvider) -> None:
        from opentelemetry._logs import SeverityNumber

        from warden import __version__

        self._info = SeverityNumber.INFO
        meter = meter_provider.get_meter(LOGGER_NAME, __version__)
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}
        for m in METRICS:
            if m.kind == "counter":
                self._counters[m.name] = meter.create_counter(m.name, unit=m.unit, description=m.description)
            else:
                self._histograms[m.name] = meter.create_histogram(m.name, unit=m.unit, description=m.description)
        self._logger = logger_provider.get_logger(LOGGER_NAME, __version__)

    def observe(self, records: Sequence[AuditRecord]) -> None:
        for record in records:
            sent = signals(record)
            if sent is None:
                continue
            if sent.message is not None:
                self._logger.emit(
                    severity_number=self._info,
                    severity_text="INFO",
                    body=sent.message,
                    attributes=dict(sent.dimensions),
                )
            for point in sent.points:
                if point.metric in self._counters:
                    self._counters[point.metric].add(point.value, dict(point.attributes))
                else:
                    self._histograms[point.metric].record(point.value, dict(point.attributes))


def build_telemetry(settings: Settings, *, configure: Configure | None = None) -> Telemetry | None:
    """None when APPLICATIONINSIGHTS_CONNECTION_STRING is unset (nothing of OpenTelemetry is imported); else a
    Telemetry exporting to Application Insights, configured once per process. `configure` is for tests."""
    connection = settings.telemetry_connection_string
    if not connection:
        return None
    auth = entra_auth(settings.telemetry_authentication_string or "")  # validated by load_settings
    meter_provider, logger_provider = (configure or configure_once)(connection, auth)
    return Telemetry(meter_provider, logger_provider)


_lock = threading.Lock()
_configured: list[tuple[MeterProvider, LoggerProvider]] = []  # at most one: the process's providers
_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
#: Instrumentations the distribution would turn on (their spans are off with tracing; not even loaded).
_INSTRUMENTATIONS = ("azure_sdk", "django", "fastapi", "flask", "httpx", "psycopg2", "requests", "urllib", "urllib3")


def configure_once(connection: str, auth: EntraAuth | None) -> tuple[MeterProvider, LoggerProvider]:
    """configure_azure_monitor the first time (it sets the process's global providers); the same providers after."""
    with _lock:
        if not _configured:
            _configured.append(azure_monitor(connection, auth))
        return _configured[0]


def azure_monitor(connection: str, auth: EntraAuth | None) -> tuple[MeterProvider, LoggerProvider]:
    """Logs and metrics to Application Insights; no tracing, instrumentations, live metrics or performance counters:
    the Functions host already reports invocations and the platform the instance's counters (docs/telemetry.md)."""
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry._logs import get_logger_provider
    from opentelemetry.metrics import get_meter_provider

    credential = None
    if auth is not None:  # local authentication is off on the component (infra/app/warden.bicep): Entra only
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=auth.client_id or None)
    # The distribution reads tracing's switch from OTEL_TRACES_EXPORTER only (its disable_tracing argument is
    # overwritten by that default): without it, a tracer provider, a span exporter and their threads start
    # (tests/telemetry/test_export.py). Set for this call only, then restored.
    previous = os.environ.get(_TRACES_EXPORTER)
    os.environ[_TRACES_EXPORTER] = "none"
    try:
        configure_azure_monitor(
            connection_string=connection,
            credential=credential,
            # Its log handler goes on this Python logger, not on the root: warden's own log lines already reach
            # Application Insights through the Functions host, and would arrive twice.
            logger_name=LOGGER_NAME,
            disable_tracing=True,
            enable_live_metrics=False,
            enable_performance_counters=False,
            instrumentation_options={name: {"enabled": False} for name in _INSTRUMENTATIONS},
        )
    finally:
        if previous is None:
            os.environ.pop(_TRACES_EXPORTER, None)
        else:
            os.environ[_TRACES_EXPORTER] = previous
    log.info("telemetry: exporting logs and metrics to Application Insights (%s)", "Entra" if auth else "key")
    return get_meter_provider(), get_logger_provider()

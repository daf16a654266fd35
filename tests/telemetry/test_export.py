"""Telemetry end to end (docs/telemetry.md): the app, configured by its app settings, handles real events through
its indexed function, and the real azure-monitor-opentelemetry exporter POSTs to a local ingestion endpoint
(tests/telemetry/ingestion.py) the log records and metrics of what the audit log holds, and nothing secret."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from emulator.builders import account, account_id
from tests.telemetry.ingestion import TRACK_PATH, Ingestion, Post, ingestion_endpoint
from tests.test_function_app import app_settings
from warden.telemetry_names import DRIFTS, LOG_DIMENSIONS, METRIC_DIMENSIONS, REMEDIATIONS, TIME_TO_COMPLIANT

REPO = Path(__file__).resolve().parents[2]
PUBLIC = "network.public-access"

# The test's own switches, not warden's settings: the SDK's side channels stay off (statsbeat and SDK stats, the
# OneSettings control plane, the Azure VM resource detector's metadata call) and metrics go out every second.
QUIET = {
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    "APPLICATIONINSIGHTS_SDKSTATS_DISABLED": "true",
    "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
    "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel",
    "OTEL_METRIC_EXPORT_INTERVAL": "1000",
}

# An audit hook in the app's process: a name lookup or a connection to anything but loopback is refused before it
# happens (nothing leaves the machine) and noted in `attempts`, which the summary reports.
GUARD = """
import sys
attempts = []
LOOPBACK = ("127.0.0.1", "localhost", "::1")
def _guard(event, args):
    if event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        if host is not None and host not in LOOPBACK:
            attempts.append(f"lookup {host}")
            raise OSError(f"refused by the test: lookup of {host}")
    elif event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in LOOPBACK:
        attempts.append(f"connect {args[1][0]}")
        raise OSError(f"refused by the test: connect to {args[1][0]}")
sys.addaudithook(_guard)
"""

# The deployed app, as tests/notify/test_wired.py drives it: an event per account given as an argument, delivered
# to the indexed resource_event function; then the audit log read back and the providers flushed.
SCENARIO = (
    GUARD
    + """
import json, threading
from tests.integration.conftest import write_event
from tests.test_function_app import index_like_the_worker
from warden.azure import functions_host
from warden.azure.worker_events import to_functions_event

functions_host.reset_runtime()
resource_event = index_like_the_worker()["resource_event"].get_user_function()
for n, resource in enumerate(sys.argv[1:], 1):
    resource_event(to_functions_event(write_event(resource, event_id=f"e-{n}")))
entries = list(functions_host.get_runtime().audit.entries())

from opentelemetry._logs import get_logger_provider
from opentelemetry.metrics import get_meter_provider
from opentelemetry.trace import get_tracer_provider

flushed = [get_logger_provider().force_flush(), get_meter_provider().force_flush()]
print(json.dumps({
    "entries": entries,
    "flushed": flushed,
    "attempts": attempts,
    "tracer": type(get_tracer_provider()).__name__,
    "threads": sorted(t.name for t in threading.enumerate()),
}))
"""
)


def run(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """`code` in a fresh interpreter (configure_azure_monitor sets process-global providers); its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


@dataclass(frozen=True)
class Exported:
    """What the app's process reported (its audit log read back...) and what reached the ingestion endpoint."""

    summary: dict[str, Any]
    posts: list[Post]
    ingestion: Ingestion
    keys: list[str]

    def properties(self, base_type: str) -> list[dict[str, Any]]:
        return [e["data"]["baseData"] for e in self.ingestion.envelopes(base_type)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """One account remediated, one already compliant: an event each, handled by the app in its own process."""
    tmp = tmp_path_factory.mktemp("export")
    (tmp / "tmp").mkdir()
    open_acls: dict[str, Any] = {
        "publicNetworkAccess": "Enabled",
        "networkAcls": {"defaultAction": "Allow", "ipRules": []},
    }
    scenario = {"resources": [account("aoai-a", **open_acls), account("aoai-b", publicNetworkAccess="Disabled")]}
    with Emulator(scenario) as emu, ingestion_endpoint() as ingestion:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "APPLICATIONINSIGHTS_", "OTEL_"))
        }
        env = inherited | app_settings(emu, tmp) | QUIET
        # The exporter's offline storage (for retries) goes under the temporary folder: this test's own.
        env |= {"APPLICATIONINSIGHTS_CONNECTION_STRING": ingestion.connection_string, "TMPDIR": str(tmp / "tmp")}
        summary = run(SCENARIO, env, account_id("aoai-a"), account_id("aoai-b"))
        keys = [k for pair in emu.dump_state()["accountKeys"].values() for k in pair.values()]
        yield Exported(summary, ingestion.received(), ingestion, keys)


def audited_outcomes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("controlId") and e.get("outcome")]


def test_the_scenario_remediates_one_account_and_finds_the_other_compliant(exported: Exported) -> None:
    outcomes = [(e["eventId"], e["kind"], e["outcome"]) for e in audited_outcomes(exported.summary["entries"])]
    assert ("e-1", "result", "remediated") in outcomes and ("e-2", "evaluation", "compliant") in outcomes
    assert exported.summary["flushed"] == [True, True]


def test_every_audited_outcome_arrives_once_as_a_message_with_its_dimensions(exported: Exported) -> None:
    messages = exported.properties("MessageData")
    audited = audited_outcomes(exported.summary["entries"])
    assert len(messages) == len(audited)  # intents (no outcome yet) and records without a control send none
    for entry in audited:
        [sent] = [
            m
            for m in messages
            if (m["properties"]["eventId"], m["properties"]["kind"]) == (entry["eventId"], entry["kind"])
        ]
        props = sent["properties"]
        assert sent["message"] == f"{entry['controlId']} {entry['outcome']} ({entry['kind']})"
        assert sent["severityLevel"] == 1  # Information
        for key in ("controlId", "outcome", "resourceId", "eventId", "correlationId", "mode", "kind", "trigger"):
            assert props[key] == entry[key], key
        # Application Insights properties are strings: the workbook reads numbers with todouble().
        assert float(props["durationMs"]) == round(entry["durationMs"], 1)
        assert set(props) - {"logger_name"} <= set(LOG_DIMENSIONS)
        assert props["logger_name"] == "warden.telemetry"


def metric_series(exported: Exported) -> dict[tuple[str, str, str, str], list[dict[str, Any]]]:
    """(metric, controlId, outcome, mode) -> its data points, over every export (counters are sent as deltas)."""
    series: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for data in exported.properties("MetricData"):
        props = data["properties"]
        assert set(props) == set(METRIC_DIMENSIONS)  # no resource or event id: few series
        for point in data["metrics"]:
            key = (point["name"], props["controlId"], props["outcome"], props["mode"])
            series.setdefault(key, []).append(point)
    return series


def test_the_metrics_arrive_with_their_dimensions(exported: Exported) -> None:
    series = metric_series(exported)
    assert {name for name, *_ in series} == {REMEDIATIONS, DRIFTS, TIME_TO_COMPLIANT}  # warden's only
    remediations = {k[1:]: sum(p["value"] for p in v) for k, v in series.items() if k[0] == REMEDIATIONS}
    assert remediations == {(PUBLIC, "remediated", "enforce"): 1}
    drifts = {k[1:]: sum(p["value"] for p in v) for k, v in series.items() if k[0] == DRIFTS}
    assert drifts.get((PUBLIC, "intent", "enforce"), 0) >= 1


def test_time_to_compliant_is_measured_once_and_matches_the_log_record(exported: Exported) -> None:
    [points] = [v for k, v in metric_series(exported).items() if k[0] == TIME_TO_COMPLIANT]
    assert sum(p["count"] for p in points) == 1
    [result] = [m for m in exported.properties("MessageData") if m["properties"]["outcome"] == "remediated"]
    assert points[0]["value"] == pytest.approx(float(result["properties"]["timeToCompliantS"]), abs=0.001)
    assert points[0]["min"] == points[0]["max"] == points[0]["value"]


def test_only_ingestion_was_called_and_nothing_left_the_loopback(exported: Exported) -> None:
    assert exported.posts and {(p.method, p.path) for p in exported.posts} == {("POST", TRACK_PATH)}
    assert exported.summary["attempts"] == []
    # Logs and metrics only (docs/telemetry.md): no tracer provider, no span exporter thread.
    assert exported.summary["tracer"] == "ProxyTracerProvider"
    assert not [t for t in exported.summary["threads"] if "Span" in t or "Trace" in t]


def test_nothing_secret_is_posted(exported: Exported) -> None:
    assert len(exported.keys) == 4  # the two accounts' keys, in the emulator's state
    bodies = "\n".join(p.body for p in exported.posts)
    assert not [k for k in exported.keys if k in bodies]
    assert "InstrumentationKey=" not in bodies  # the connection string itself
    names = {n.lower() for e in exported.ingestion.envelopes() for n in e["data"]["baseData"].get("properties", {})}
    assert not [n for n in names if any(w in n for w in ("key", "secret", "token", "password"))]


def test_the_guard_refuses_and_notes_a_non_loopback_connection() -> None:
    """The check above can fail: the same hook, asked for a documentation-range address, refuses and notes it."""
    probe = (
        GUARD
        + "import json, socket\n"
        + "for attempt in (lambda: socket.create_connection(('192.0.2.1', 9), timeout=1),\n"
        + "                lambda: socket.socket().connect(('192.0.2.1', 9))):\n"
        + "    try:\n"
        + "        attempt()\n"
        + "    except OSError:\n"
        + "        pass\n"
        + "print(json.dumps({'attempts': attempts}))\n"
    )
    assert run(probe, dict(os.environ))["attempts"] == ["lookup 192.0.2.1", "connect 192.0.2.1"]


def test_the_endpoint_answers_like_the_service_and_reads_gzip() -> None:
    """The exporter sends plain JSON here; a gzip body (what other SDKs send) is read too."""
    envelope = {"name": "Microsoft.ApplicationInsights.Message", "data": {"baseType": "MessageData", "baseData": {}}}
    with ingestion_endpoint() as ingestion:
        request = urllib.request.Request(
            ingestion.endpoint + TRACK_PATH,
            data=gzip.compress(json.dumps([envelope, envelope]).encode()),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.load(answer) == {"itemsReceived": 2, "itemsAccepted": 2, "errors": []}
        assert ingestion.envelopes("MessageData") == [envelope, envelope]

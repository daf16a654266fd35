"""The function app as the Python worker sees it: indexing, binding JSON, and each function called for real.

Indexing mirrors the worker's loader (import the script, find the one FunctionRegister, get_functions());
the functions run against the local emulator with settings from the environment, as in Azure.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import FunctionRegister
from azure.functions.timer import TimerRequest

from emulator import Emulator
from emulator.builders import account, account_id
from tests.conftest import reference_dir
from tests.integration.conftest import WARDEN_OID, baseline_text, worker_event_as, write_event
from warden.azure import functions_host
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import to_functions_event
from warden.settings import Settings

REPO = Path(__file__).resolve().parents[1]

EXPECTED_BINDINGS = {
    "resource_event": [{"direction": "IN", "type": "eventGridTrigger", "name": "event"}],
    "sweep": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            "schedule": "0 0 * * * *",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    "data_sweep": [
        {
            "direction": "IN",
            "type": "timerTrigger",
            "name": "timer",
            # Resolved by the Functions host from the app setting (docs/ai.md "The data-plane sweep").
            "schedule": "%WARDEN_DATA_SWEEP_SCHEDULE%",
            "runOnStartup": False,
            "useMonitor": True,
        }
    ],
    # The fan-out's work items (docs/scale.md "Fan-out"): queue and connection resolved from app settings.
    "sweep_item": [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "msg",
            "queueName": "%WARDEN_SWEEP_QUEUE%",
            "connection": "WARDEN_SWEEP_QUEUE_STORAGE",
        }
    ],
    "check": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["POST"],
            "authLevel": "FUNCTION",
            "route": "check",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "health": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["GET"],
            "authLevel": "FUNCTION",
            "route": "health",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    "audit": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["GET"],
            "authLevel": "FUNCTION",
            "route": "audit",
        },
        {"direction": "OUT", "type": "http", "name": "$return"},
    ],
    # The admin's pages (docs/review.md), function-key protected like /api/audit.
    **{
        name: [
            {
                "direction": "IN",
                "type": "httpTrigger",
                "name": "req",
                "methods": ["GET"],
                "authLevel": "FUNCTION",
                "route": route,
            },
            {"direction": "OUT", "type": "http", "name": "$return"},
        ]
        for name, route in (("report", "report"), ("audit_page", "audit/page"))
    },
}


@functools.cache
def index_like_the_worker() -> dict[str, Any]:
    """What the worker's loader does, once per process: import function_app, require exactly one app, list its
    functions (get_functions() may be called only once: a second call reports every name as a duplicate)."""
    module = importlib.import_module("function_app")
    apps = [v for v in vars(module).values() if isinstance(v, FunctionRegister)]
    assert len(apps) == 1, "the worker refuses more than one top-level function app"
    return {f.get_function_name(): f for f in apps[0].get_functions()}


def test_indexing_gives_nine_functions_with_exact_bindings() -> None:
    functions = index_like_the_worker()
    assert set(functions) == set(EXPECTED_BINDINGS)
    for name, function in functions.items():
        described = json.loads(function.get_function_json())
        assert described["scriptFile"] == "function_app.py"
        assert described["bindings"] == EXPECTED_BINDINGS[name], name
        assert [json.loads(b) for b in function.get_raw_bindings()] == EXPECTED_BINDINGS[name]


def import_app(code: str = "", **settings: str) -> subprocess.CompletedProcess[str]:
    """`import function_app` in a fresh interpreter, as the worker does at indexing, with only these WARDEN_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")} | settings
    return subprocess.run(
        [sys.executable, "-c", f"import function_app\n{code}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_app_builds_no_client() -> None:
    # Clients are built lazily on the first invocation: import time is cold-start time. A fresh process, so
    # that nothing another test imported can hide an SDK import.
    done = import_app(
        "import sys\n"
        "from warden.azure import functions_host\n"
        "assert functions_host._runtime is None, 'a Runtime was built at import'\n"
        "heavy = ('azure.mgmt.cognitiveservices', 'azure.identity', 'warden.azure.openai_data', 'openai',\n"
        # the admin's pages and notifications load on first use too (docs/review.md, docs/notifications.md)
        "         'warden.posture', 'warden.audit_page', 'warden.notify', 'azure.eventgrid')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, f'imported at indexing: {loaded}'\n"
    )
    assert done.returncode == 0, done.stderr


def test_indexing_fails_on_an_invalid_baseline_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "baseline.yaml"
    broken.write_text(baseline_text().replace("mode: enforce", "mode: enforcing"))
    done = import_app(WARDEN_BASELINE=str(broken))
    assert done.returncode != 0
    assert f"{broken}:2" in done.stderr and "enforcing" in done.stderr
    assert "warden cannot start" in done.stderr  # logged at ERROR before raising (Application Insights)


def test_indexing_fails_on_an_invalid_setting() -> None:
    done = import_app(WARDEN_MODE="enforcing")
    assert done.returncode != 0 and "WARDEN_MODE='enforcing'" in done.stderr


def test_indexing_succeeds_with_a_valid_baseline(tmp_path: Path) -> None:
    valid = tmp_path / "baseline.yaml"
    valid.write_text(baseline_text())
    done = import_app(WARDEN_BASELINE=str(valid))
    assert done.returncode == 0, done.stderr


def app_settings(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    """The app settings of a deployment pointed at `emu`, with a valid baseline written to tmp_path."""
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(baseline_text())
    return {
        "WARDEN_BASELINE": str(baseline),
        "WARDEN_ARM_ENDPOINT": emu.endpoint,
        "WARDEN_ARM_CA_BUNDLE": emu.ca_path,
        "WARDEN_OPENAI_ENDPOINT": emu.openai_endpoint,
        "WARDEN_CREDENTIAL": "static",
        "WARDEN_SELF_OBJECT_IDS": WARDEN_OID,
        "WARDEN_AUDIT_DIR": str(tmp_path / "audit"),
        "WARDEN_STATE_DIR": str(tmp_path / "state"),
        "WARDEN_POLLING_INTERVAL": "0",
    }


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Path]]:
    """The app configured through app settings (environment variables), pointed at the emulator."""
    open_acls = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
    with Emulator(
        {"resources": [account("aoai-a", **open_acls), account("aoai-b", publicNetworkAccess="Disabled")]}
    ) as emu:
        for key, value in app_settings(emu, tmp_path).items():
            monkeypatch.setenv(key, value)
        functions_host.reset_runtime()
        index_like_the_worker()  # indexing checks the baseline: do it while it is valid
        yield emu, tmp_path
        functions_host.reset_runtime()


@pytest.mark.parametrize("schema", ["eventgrid", "cloud"])
def test_event_grid_function_remediates_a_real_payload(deployed: tuple[Emulator, Path], schema: str) -> None:
    emu, _ = deployed
    function = index_like_the_worker()["resource_event"].get_user_function()
    function(to_functions_event(write_event(account_id("aoai-a"), schema=schema)))
    # The read, the PATCH (answered settled: nothing to poll), the verifying read.
    assert [(r.method, r.kind) for r in emu.requests] == [("GET", "arm"), ("PATCH", "arm"), ("GET", "arm")]
    state = {r["name"]: r for r in emu.dump_state()["resources"]}
    assert state["aoai-a"]["properties"]["publicNetworkAccess"] == "Disabled"


@pytest.mark.parametrize("schema", ["eventgrid", "cloud"])
def test_event_grid_function_records_a_malformed_event_with_its_envelope(
    deployed: tuple[Emulator, Path], schema: str
) -> None:
    emu, _ = deployed
    event = write_event(account_id("aoai-a"), schema=schema)
    event["data"]["resourceUri"] = "not-an-arm-id"
    event["subject"] = "not-an-arm-id"
    if schema == "cloud":
        event |= {"datacontenttype": "application/json", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-01"}
    index_like_the_worker()["resource_event"].get_user_function()(to_functions_event(event))
    assert emu.requests == []
    [entry] = functions_host.get_runtime().audit.entries()
    assert entry["outcome"] == "rejected" and entry["eventId"] == "e-1"
    assert "data.resourceUri" in entry["error"]
    raw = entry["observed"]["raw"]
    if schema == "cloud":
        envelope = ("id", "source", "type", "specversion", "subject", "datacontenttype", "traceparent")
        assert raw["time"].startswith(event["time"][:19]) and raw["dataschema"] is None
    else:
        # metadataVersion is not kept: the worker's EventGridEvent has no such attribute.
        envelope = ("id", "topic", "subject", "eventType", "dataVersion")
        assert raw["eventTime"].startswith(event["eventTime"][:19]) and "metadataVersion" not in raw
    assert {k: raw[k] for k in envelope} == {k: event[k] for k in envelope}
    # The payload is kept, with the claims reduced to the caller's ids.
    assert raw["data"]["operationName"] == event["data"]["operationName"]
    assert set(raw["data"]["claims"]) == {"http://schemas.microsoft.com/identity/claims/objectidentifier", "appid"}


def test_timer_function_sweeps_the_scope(deployed: tuple[Emulator, Path]) -> None:
    emu, _ = deployed
    index_like_the_worker()["sweep"].get_user_function()(TimerRequest(past_due=False))
    patched = [r.path for r in emu.requests if r.method == "PATCH"]
    assert [p.rsplit("/", 1)[-1] for p in patched] == ["aoai-a"]
    # The account controls' drift is found by one Resource Graph query over the scope (docs/scale.md).
    assert [r.path.lower() for r in emu.requests if r.method == "POST"] == [
        "/providers/microsoft.resourcegraph/resources"
    ]


def test_the_data_sweep_runs_only_the_data_plane_controls(deployed: tuple[Emulator, Path]) -> None:
    emu, tmp = deployed
    (tmp / "baseline.yaml").write_text(baseline_text(extra="  data.training-files:\n"))
    functions_host.reset_runtime()
    index_like_the_worker()["data_sweep"].get_user_function()(TimerRequest(past_due=False))
    data = [(r.method, r.path) for r in emu.requests if r.kind == "openai"]
    # Both OpenAI accounts' files (two purposes) and jobs are listed; aoai-a's open network is not this sweep's.
    assert sorted(data) == sorted(
        ("GET", f"/{name}/openai/v1/{what}")
        for name in ("aoai-a", "aoai-b")
        for what in ("files", "files", "fine_tuning/jobs")
    )
    assert not [r for r in emu.requests if r.method != "GET"]
    entries = functions_host.get_runtime().audit.entries()
    assert {(e["controlId"], e["outcome"]) for e in entries} == {("data.training-files", "compliant")}


def _post(route: str, **params: str) -> func.HttpRequest:
    return func.HttpRequest("POST", f"http://localhost/api/{route}", params=params, body=b"")


def test_check_route_evaluates_one_account_now(deployed: tuple[Emulator, Path]) -> None:
    emu, _ = deployed
    response = index_like_the_worker()["check"].get_user_function()(_post("check", account=account_id("aoai-a")))
    assert response.status_code == 200, response.get_body()
    assert json.loads(response.get_body()) == {"account": account_id("aoai-a"), "outcomes": ["remediated"]}
    assert [r.path.rsplit("/", 1)[-1] for r in emu.requests if r.method == "PATCH"] == ["aoai-a"]
    [*_, result] = functions_host.get_runtime().audit.entries()
    assert result["trigger"] == "admin" and result["outcome"] == "remediated"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({}, "account: give the account's ARM id"),
        ({"account": "/subscriptions/x/resourceGroups/rg"}, "account: "),
        ({"account": account_id("aoai-a", sub="00000000-0000-4000-8000-000000000000")}, "not in the baseline's scope"),
        ({"account": account_id("aoai-a"), "control": "data.training-file"}, "is not an active control"),
    ],
)
def test_check_route_refuses_a_bad_query_without_any_call(
    deployed: tuple[Emulator, Path], params: dict[str, str], problem: str
) -> None:
    emu, _ = deployed
    response = index_like_the_worker()["check"].get_user_function()(_post("check", **params))
    assert response.status_code == 400
    assert problem in response.get_body().decode()
    assert emu.requests == []


def _get(route: str, **params: str) -> func.HttpRequest:
    return func.HttpRequest("GET", f"http://localhost/api/{route}", params=params, body=b"")


def test_health_reports_the_loaded_baseline(deployed: tuple[Emulator, Path]) -> None:
    response = index_like_the_worker()["health"].get_user_function()(_get("health"))
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["status"] == "ok" and body["controls"] == {"network.public-access": "enforce"}
    assert body["modeOverride"] is None
    assert body["loopGuard"] == {"selfObjectIds": True, "selfAppIds": False}


def test_health_reports_an_invalid_baseline_with_its_line(deployed: tuple[Emulator, Path]) -> None:
    _, tmp = deployed
    (tmp / "baseline.yaml").write_text(baseline_text().replace("mode: enforce", "mode: enforcing"))
    functions_host.reset_runtime()
    response = index_like_the_worker()["health"].get_user_function()(_get("health"))
    assert response.status_code == 503
    error = json.loads(response.get_body())["error"]
    assert "baseline.yaml:2" in error and "enforcing" in error


def test_audit_route_filters_entries(deployed: tuple[Emulator, Path]) -> None:
    event_fn = index_like_the_worker()["resource_event"].get_user_function()
    event_fn(to_functions_event(write_event(account_id("aoai-a"), event_id="e-a")))
    event_fn(to_functions_event(write_event(account_id("aoai-b"), event_id="e-b")))
    audit_fn = index_like_the_worker()["audit"].get_user_function()

    def lines(**params: str) -> list[dict[str, Any]]:
        response = audit_fn(_get("audit", **params))
        assert response.status_code == 200
        return [json.loads(line) for line in response.get_body().decode().splitlines()]

    assert [e["outcome"] for e in lines()] == ["", "remediated", "compliant"]
    assert [e["resourceId"].rsplit("/", 1)[-1] for e in lines(outcome="compliant")] == ["aoai-b"]
    assert len(lines(resource="aoai-a")) == 2
    assert len(lines(limit="1")) == 1
    assert [e["outcome"] for e in lines(limit="2")] == ["remediated", "compliant"]  # the newest
    assert lines(since="2999-01-01T00:00:00Z") == []
    # The same parser as `warden log --since`: ages in s, m, h, d, w.
    assert len(lines(since="1w")) == len(lines(since="30s")) == 3
    assert lines(since="2999-01-01") == []


def test_audit_route_since_reads_only_recent_day_files(deployed: tuple[Emulator, Path]) -> None:
    _, tmp = deployed
    index_like_the_worker()["resource_event"].get_user_function()(
        to_functions_event(write_event(account_id("aoai-a"), event_id="e-a"))
    )
    (tmp / "audit" / "audit-2000-01-01.jsonl").mkdir()  # an old "day file" no read can open
    audit_fn = index_like_the_worker()["audit"].get_user_function()
    response = audit_fn(_get("audit", since="1d"))
    assert response.status_code == 200
    assert [json.loads(line)["eventId"] for line in response.get_body().decode().splitlines()] == ["e-a", "e-a"]
    with pytest.raises(IsADirectoryError):  # without since every day file is read
        audit_fn(_get("audit"))


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"limit": "0"}, "limit: not a positive number: '0'"),
        ({"limit": "-1"}, "limit: not a positive number: '-1'"),
        ({"limit": "ten"}, "limit: not a positive number"),
        ({"since": "bogus"}, "since: not an ISO-8601 time or an age"),
        ({"since": "yesterday"}, "since: not an ISO-8601 time or an age"),
        ({"since": "99999999999d"}, "since: an age reaching before year 1"),
    ],
)
def test_audit_route_refuses_a_bad_query(deployed: tuple[Emulator, Path], params: dict[str, str], problem: str) -> None:
    response = index_like_the_worker()["audit"].get_user_function()(_get("audit", **params))
    assert response.status_code == 400
    assert problem in response.get_body().decode()


class CountingEvent(func.EventGridEvent):
    """The worker's own event type, counting how often its data is read."""

    reads = 0

    def get_json(self) -> Any:
        type(self).reads += 1
        return super().get_json()


@pytest.mark.parametrize("drop_operation", [False, True], ids=["valid", "malformed"])
def test_the_worker_event_is_read_once(tmp_path: Path, drop_operation: bool) -> None:
    raw = json.loads((reference_dir() / "eventgrid" / "derived" / "cognitiveservices_arm_events.json").read_text())
    event = next(e for e in raw["events"] if "eventType" in e)
    if drop_operation:
        del event["data"]["operationName"]
    counting = worker_event_as(CountingEvent, event)
    CountingEvent.reads = 0
    (tmp_path / "baseline.yaml").write_text(baseline_text())  # another subscription: dropped, no Azure call
    settings = Settings(
        baseline_path=tmp_path / "baseline.yaml",
        arm_endpoint="https://127.0.0.1:9",
        credential="static",
        audit_dir=tmp_path / "audit",
        state_dir=tmp_path / "state",
    )
    result = functions_host.on_event(counting, build_runtime(settings))
    assert CountingEvent.reads == 1
    assert (result is None) == drop_operation

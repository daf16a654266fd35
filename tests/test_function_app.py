"""The function app as the Python worker sees it: indexing, binding JSON, and each function called for real.

Indexing mirrors the worker's loader (import the script, find the one FunctionRegister, get_functions());
the functions run against the local emulator with settings from the environment, as in Azure.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import FunctionRegister
from azure.functions.timer import TimerRequest

from emulator import Emulator
from tests.integration.conftest import SUB, WARDEN_OID, account, account_id, baseline_text, write_event
from warden.azure import functions_host
from warden.azure.eventgrid import to_functions_event

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
    "health": [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "methods": ["GET"],
            "authLevel": "ANONYMOUS",
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
}


@functools.cache
def index_like_the_worker() -> dict[str, Any]:
    """What the worker's loader does, once per process: import function_app, require exactly one app, list its
    functions (get_functions() may be called only once: a second call reports every name as a duplicate)."""
    module = importlib.import_module("function_app")
    apps = [v for v in vars(module).values() if isinstance(v, FunctionRegister)]
    assert len(apps) == 1, "the worker refuses more than one top-level function app"
    return {f.get_function_name(): f for f in apps[0].get_functions()}


def test_indexing_gives_four_functions_with_exact_bindings() -> None:
    functions = index_like_the_worker()
    assert set(functions) == set(EXPECTED_BINDINGS)
    for name, function in functions.items():
        described = json.loads(function.get_function_json())
        assert described["scriptFile"] == "function_app.py"
        assert described["bindings"] == EXPECTED_BINDINGS[name], name
        assert [json.loads(b) for b in function.get_raw_bindings()] == EXPECTED_BINDINGS[name]


def test_importing_the_app_builds_no_client() -> None:
    # Clients are built lazily on the first invocation: import time is cold-start time.
    functions_host.reset_runtime()
    index_like_the_worker()
    assert functions_host._runtime is None


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Path]]:
    """The app configured through app settings (environment variables), pointed at the emulator."""
    open_acls = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
    with Emulator(
        {"resources": [account("aoai-a", **open_acls), account("aoai-b", publicNetworkAccess="Disabled")]}
    ) as emu:
        baseline = tmp_path / "baseline.yaml"
        baseline.write_text(baseline_text())
        settings = {
            "WARDEN_BASELINE": str(baseline),
            "WARDEN_ARM_ENDPOINT": emu.endpoint,
            "WARDEN_ARM_CA_BUNDLE": emu.ca_path,
            "WARDEN_CREDENTIAL": "static",
            "WARDEN_SELF_OBJECT_IDS": WARDEN_OID,
            "WARDEN_AUDIT_DIR": str(tmp_path / "audit"),
            "WARDEN_STATE_DIR": str(tmp_path / "state"),
            "WARDEN_POLLING_INTERVAL": "0",
        }
        for key, value in settings.items():
            monkeypatch.setenv(key, value)
        functions_host.reset_runtime()
        yield emu, tmp_path
        functions_host.reset_runtime()


@pytest.mark.parametrize("schema", ["eventgrid", "cloud"])
def test_event_grid_function_remediates_a_real_payload(deployed: tuple[Emulator, Path], schema: str) -> None:
    emu, _ = deployed
    function = index_like_the_worker()["resource_event"].get_user_function()
    function(to_functions_event(write_event(account_id("aoai-a"), schema=schema)))
    assert [r.method for r in emu.requests] == ["GET", "PATCH", "GET"]
    state = {r["name"]: r for r in emu.dump_state()["resources"]}
    assert state["aoai-a"]["properties"]["publicNetworkAccess"] == "Disabled"


def test_event_grid_function_records_a_malformed_event(deployed: tuple[Emulator, Path]) -> None:
    emu, _ = deployed
    event = write_event(account_id("aoai-a"))
    event["data"]["resourceUri"] = "not-an-arm-id"
    event["subject"] = "not-an-arm-id"
    index_like_the_worker()["resource_event"].get_user_function()(to_functions_event(event))
    assert emu.requests == []
    [entry] = functions_host.get_runtime().audit.entries()
    assert entry["outcome"] == "rejected" and entry["eventId"] == "e-1"


def test_timer_function_sweeps_the_scope(deployed: tuple[Emulator, Path]) -> None:
    emu, _ = deployed
    index_like_the_worker()["sweep"].get_user_function()(TimerRequest(past_due=False))
    patched = [r.path for r in emu.requests if r.method == "PATCH"]
    assert [p.rsplit("/", 1)[-1] for p in patched] == ["aoai-a"]
    assert any(
        r.path.lower() == f"/subscriptions/{SUB}/providers/microsoft.cognitiveservices/accounts" for r in emu.requests
    )


def _get(route: str, **params: str) -> func.HttpRequest:
    return func.HttpRequest("GET", f"http://localhost/api/{route}", params=params, body=b"")


def test_health_reports_the_loaded_baseline(deployed: tuple[Emulator, Path]) -> None:
    response = index_like_the_worker()["health"].get_user_function()(_get("health"))
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["status"] == "ok" and body["controls"] == ["network.public-access"]


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
    assert lines(since="2999-01-01T00:00:00Z") == []
    assert audit_fn(_get("audit", since="yesterday")).status_code == 400

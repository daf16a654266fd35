"""Microsoft.Insights diagnostic settings in the emulator, driven by the real azure-mgmt-monitor 6.0.2 client against
a Cognitive Services account: list/get/create_or_update/delete, the categories, the flat errors, the emulator's
rules (known categories, five settings, one category per destination) and the generic ARM behaviour."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.monitor.v2021_05_01_preview.models import DiagnosticSettingsResource, LogSettings, MetricSettings

from emulator import Emulator
from tests.conftest import reference_dir
from tests.emulator.conftest import BEARER, SUB, account_id, arm_client, openai_account, raw
from tests.emulator.swagger import Swagger

API = "2021-05-01-preview"
ACC = account_id("aoai-one")
STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/central"
OTHER_WS = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/second"
SETTINGS = "providers/Microsoft.Insights/diagnosticSettings"
ASSUMED = {
    "Audit": ("Logs", ["audit", "allLogs"]),
    "RequestResponse": ("Logs", ["allLogs"]),
    "Trace": ("Logs", ["allLogs"]),
    "AzureOpenAIRequestUsage": ("Logs", ["allLogs"]),
    "AllMetrics": ("Metrics", None),
}


def storage_account() -> dict[str, Any]:
    """A resource of a type the category table has no row for."""
    return {"id": STORAGE, "name": "stdata", "type": "Microsoft.Storage/storageAccounts", "location": "eastus"}


@pytest.fixture(scope="module")
def slice_() -> Swagger:
    return Swagger(reference_dir() / "monitor" / API / "diagnosticsSettings_API.json")


@pytest.fixture(scope="module")
def categories_slice() -> Swagger:
    return Swagger(reference_dir() / "monitor" / API / "diagnosticsSettingsCategories_API.json")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator({"resources": [openai_account("aoai-one"), storage_account()]}) as running:
        yield running


@pytest.fixture
def monitor(emu: Emulator) -> Iterator[MonitorManagementClient]:
    with arm_client(MonitorManagementClient, emu) as client:
        yield client


def setting(*logs: LogSettings, workspace: str = WS, **more: Any) -> DiagnosticSettingsResource:
    return DiagnosticSettingsResource(workspace_id=workspace, logs=list(logs), **more)


def group(name: str, enabled: bool = True) -> LogSettings:
    return LogSettings(category_group=name, enabled=enabled)


def category(name: str, enabled: bool = True) -> LogSettings:
    return LogSettings(category=name, enabled=enabled)


def error_of(emu: Emulator, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    reply = raw(emu, method, path, params={"api-version": API}, **kwargs)
    body: dict[str, Any] = reply.json()
    return reply.status_code, body


# --- the four operations through the real client ---------------------------------------------------------
def test_create_get_list_delete_with_the_real_client(emu: Emulator, monitor: MonitorManagementClient) -> None:
    assert list(monitor.diagnostic_settings.list(ACC)) == []
    written = monitor.diagnostic_settings.create_or_update(
        ACC, "to-central", setting(group("audit"), metrics=[MetricSettings(category="AllMetrics", enabled=False)])
    )
    assert written.id == f"{ACC}/providers/microsoft.insights/diagnosticSettings/to-central"
    assert (written.name, written.type, written.workspace_id) == (
        "to-central",
        "Microsoft.Insights/diagnosticSettings",
        WS,
    )
    assert [(entry.category_group, entry.enabled) for entry in written.logs] == [("audit", True)]
    got = monitor.diagnostic_settings.get(ACC, "to-central")
    assert got.as_dict() == written.as_dict()
    assert [s.name for s in monitor.diagnostic_settings.list(ACC)] == ["to-central"]
    monitor.diagnostic_settings.delete(ACC, "to-central")
    monitor.diagnostic_settings.delete(ACC, "to-central")
    assert list(monitor.diagnostic_settings.list(ACC)) == []
    with pytest.raises(ResourceNotFoundError) as gone:
        monitor.diagnostic_settings.get(ACC, "to-central")
    assert gone.value.error is not None and gone.value.error.code == "ResourceNotFound"
    assert "to-central" in str(gone.value)
    log = [(r.method, r.path, r.status, r.query["api-version"], r.kind) for r in emu.requests]
    item = f"{ACC}/{SETTINGS}/to-central"
    assert log == [
        ("GET", f"{ACC}/{SETTINGS}", 200, API, "arm"),
        ("PUT", item, 200, API, "arm"),
        ("GET", item, 200, API, "arm"),
        ("GET", f"{ACC}/{SETTINGS}", 200, API, "arm"),
        ("DELETE", item, 200, API, "arm"),
        ("DELETE", item, 204, API, "arm"),
        ("GET", f"{ACC}/{SETTINGS}", 200, API, "arm"),
        ("GET", item, 404, API, "arm"),
    ]


def test_answers_validate_against_the_slice_and_put_echoes_the_properties(emu: Emulator, slice_: Swagger) -> None:
    props = {
        "workspaceId": WS,
        "logs": [{"categoryGroup": "allLogs", "enabled": True}],
        "logAnalyticsDestinationType": "Dedicated",
    }
    put = raw(emu, "PUT", f"{ACC}/{SETTINGS}/s1", params={"api-version": API}, json={"properties": props})
    assert put.status_code == 200 and "etag" not in put.json() and "Azure-AsyncOperation" not in put.headers
    assert put.json() == {
        "id": f"{ACC}/providers/microsoft.insights/diagnosticSettings/s1",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": "s1",
        "properties": props,
    }
    slice_.validate_response("/diagnosticSettings/{name}", "put", 200, put.json())
    listed = raw(emu, "GET", f"{ACC}/{SETTINGS}", params={"api-version": API}).json()
    slice_.validate_response("/diagnosticSettings", "get", 200, listed)
    assert listed == {"value": [put.json()]}  # no nextLink: the list does not page
    with pytest.raises(AssertionError):
        slice_.validate_response("/diagnosticSettings", "get", 200, {"value": [{"properties": {"logs": [{}]}}]})


def test_a_rewrite_keeps_the_id_and_replaces_the_properties(monitor: MonitorManagementClient) -> None:
    monitor.diagnostic_settings.create_or_update(ACC, "S1", setting(group("audit")))
    again = monitor.diagnostic_settings.create_or_update(ACC, "s1", setting(group("allLogs"), workspace=OTHER_WS))
    assert again.id.endswith("/diagnosticSettings/S1") and again.name == "S1"
    assert (again.workspace_id, again.logs[0].category_group) == (OTHER_WS, "allLogs")
    assert len(list(monitor.diagnostic_settings.list(ACC))) == 1


# --- categories ----------------------------------------------------------------------------------------------
def test_categories_of_an_account_are_the_assumed_table(
    emu: Emulator, monitor: MonitorManagementClient, categories_slice: Swagger
) -> None:
    found = list(monitor.diagnostic_settings_category.list(ACC))
    assert {c.name: (c.category_type, c.category_groups) for c in found} == ASSUMED
    one = monitor.diagnostic_settings_category.get(ACC, "Audit")
    assert one.id == f"{ACC}/providers/microsoft.insights/diagnosticSettingsCategories/Audit"
    assert one.type == "microsoft.insights/diagnosticSettingsCategories"
    path = f"{ACC}/providers/Microsoft.Insights/diagnosticSettingsCategories"
    listed = raw(emu, "GET", path, params={"api-version": API}).json()
    categories_slice.validate_response("/diagnosticSettingsCategories", "get", 200, listed)
    with pytest.raises(ResourceNotFoundError):
        monitor.diagnostic_settings_category.get(ACC, "NoSuchCategory")


def test_a_type_without_a_table_lists_no_category_and_accepts_any(monitor: MonitorManagementClient) -> None:
    assert list(monitor.diagnostic_settings_category.list(STORAGE)) == []
    written = monitor.diagnostic_settings.create_or_update(
        STORAGE,
        "any",
        setting(
            category("StorageWrite"), group("whatever"), metrics=[MetricSettings(category="Transaction", enabled=True)]
        ),
    )
    assert [(entry.category, entry.category_group) for entry in written.logs] == [
        ("StorageWrite", None),
        (None, "whatever"),
    ]


# --- errors: flat, and usable through the SDK ------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_missing_target_is_a_flat_404(emu: Emulator, method: str, slice_: Swagger) -> None:
    ghost = account_id("aoai-ghost")
    status, body = error_of(emu, method, f"{ghost}/{SETTINGS}/s1", json={"properties": {}})
    assert (status, set(body), body["code"]) == (404, {"code", "message"}, "ResourceNotFound")
    assert ghost in body["message"]
    assert slice_.response_definition("/diagnosticSettings/{name}", method, "default") == "ErrorResponse"
    assert slice_.errors("ErrorResponse", body) == []
    for path in (f"{ghost}/{SETTINGS}", f"{ghost}/providers/Microsoft.Insights/diagnosticSettingsCategories"):
        assert error_of(emu, "GET", path)[0] == 404


def test_the_sdk_raises_usable_errors_from_the_flat_body(monitor: MonitorManagementClient) -> None:
    with pytest.raises(ResourceNotFoundError) as missing:
        list(monitor.diagnostic_settings.list(account_id("aoai-ghost")))
    assert missing.value.status_code == 404 and missing.value.error is not None
    assert missing.value.error.code == "ResourceNotFound" and "aoai-ghost" in (missing.value.error.message or "")
    with pytest.raises(HttpResponseError) as refused:
        monitor.diagnostic_settings.create_or_update(ACC, "bad", setting(group("security")))
    assert refused.value.status_code == 400 and refused.value.error is not None
    assert refused.value.error.code == "BadRequest" and "'security'" in str(refused.value)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"logs": [{"categoryGroup": "security", "enabled": True}]}, "Category group 'security'"),
        ({"logs": [{"category": "Audit", "enabled": True}, {"category": "Nope", "enabled": True}]}, "logs[1]"),
        ({"logs": [{"category": "AllMetrics", "enabled": True}]}, "Category 'AllMetrics'"),
        ({"metrics": [{"category": "Audit", "enabled": True}]}, "metrics[0]"),
        ({"logs": [{"enabled": True}]}, "neither a category nor a categoryGroup"),
    ],
)
def test_unknown_categories_of_a_known_type_are_400(emu: Emulator, entry: dict[str, Any], words: str) -> None:
    status, body = error_of(emu, "PUT", f"{ACC}/{SETTINGS}/s1", json={"properties": {"workspaceId": WS, **entry}})
    assert (status, body["code"]) == (400, "BadRequest") and words in body["message"]
    assert "error" not in body and emu.dump_state()["resources"][2:] == []


def test_a_body_the_swagger_refuses_is_a_flat_400(emu: Emulator) -> None:
    without_enabled = {"properties": {"logs": [{"categoryGroup": "audit"}]}}
    status, body = error_of(emu, "PUT", f"{ACC}/{SETTINGS}/s1", json=without_enabled)
    assert (status, set(body), body["code"]) == (400, {"code", "message"}, "InvalidRequestContent")
    assert "enabled" in body["message"]
    negative = {
        "properties": {
            "logs": [{"categoryGroup": "audit", "enabled": True, "retentionPolicy": {"enabled": True, "days": -1}}]
        }
    }
    assert error_of(emu, "PUT", f"{ACC}/{SETTINGS}/s1", json=negative)[0] == 400
    assert error_of(emu, "PUT", f"{ACC}/{SETTINGS}/s1", data="not json")[0] == 400


# --- the emulator's rules ---------------------------------------------------------------------------------------
def test_at_most_five_settings_per_resource(monitor: MonitorManagementClient) -> None:
    for n in range(5):
        monitor.diagnostic_settings.create_or_update(ACC, f"s{n}", setting(group("audit"), workspace=f"{WS}{n}"))
    with pytest.raises(HttpResponseError) as sixth:
        monitor.diagnostic_settings.create_or_update(ACC, "s5", setting(group("audit"), workspace=f"{WS}5"))
    assert sixth.value.status_code == 400 and "at most 5" in str(sixth.value)
    monitor.diagnostic_settings.create_or_update(ACC, "S4", setting(group("allLogs"), workspace=f"{WS}4"))  # a rewrite
    monitor.diagnostic_settings.delete(ACC, "s0")
    monitor.diagnostic_settings.create_or_update(ACC, "s5", setting(group("audit"), workspace=f"{WS}5"))
    assert len(list(monitor.diagnostic_settings.list(STORAGE))) == 0  # the limit is per resource


def test_five_concurrent_creates_win_and_the_rest_are_refused(emu: Emulator) -> None:
    emu.set_write_delay(0.02)  # widens the window between the count and the store
    statuses: list[int] = []

    def create(n: int) -> None:
        body = {"properties": {"workspaceId": f"{WS}{n}", "logs": [{"categoryGroup": "audit", "enabled": True}]}}
        statuses.append(raw(emu, "PUT", f"{ACC}/{SETTINGS}/c{n}", params={"api-version": API}, json=body).status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [400] * 3


def test_a_destination_takes_a_category_from_one_setting_only(monitor: MonitorManagementClient) -> None:
    monitor.diagnostic_settings.create_or_update(ACC, "audit", setting(group("audit")))
    with pytest.raises(ResourceExistsError) as clash:
        monitor.diagnostic_settings.create_or_update(ACC, "all", setting(group("allLogs")))  # allLogs holds Audit
    assert clash.value.status_code == 409 and clash.value.error is not None and clash.value.error.code == "Conflict"
    assert "'audit'" in str(clash.value) and "'Audit'" in str(clash.value)
    with pytest.raises(ResourceExistsError):
        monitor.diagnostic_settings.create_or_update(
            ACC, "one", setting(category("audit"))
        )  # compared case-insensitively
    monitor.diagnostic_settings.create_or_update(ACC, "others", setting(category("Trace"), category("RequestResponse")))
    monitor.diagnostic_settings.create_or_update(
        ACC, "off", setting(group("allLogs", enabled=False))
    )  # disabled: no claim
    monitor.diagnostic_settings.create_or_update(ACC, "elsewhere", setting(group("allLogs"), workspace=OTHER_WS))
    monitor.diagnostic_settings.create_or_update(
        ACC, "audit", setting(group("audit"), category("AzureOpenAIRequestUsage"))
    )
    assert len(list(monitor.diagnostic_settings.list(ACC))) == 4


def test_without_a_table_groups_compare_by_name(monitor: MonitorManagementClient) -> None:
    monitor.diagnostic_settings.create_or_update(STORAGE, "all", setting(group("allLogs")))
    monitor.diagnostic_settings.create_or_update(STORAGE, "write", setting(category("StorageWrite")))
    with pytest.raises(ResourceExistsError):
        monitor.diagnostic_settings.create_or_update(STORAGE, "all-again", setting(group("ALLLOGS")))


# --- the generic ARM behaviour ----------------------------------------------------------------------------------
def test_faults_auth_and_api_versions_apply(emu: Emulator, monitor: MonitorManagementClient) -> None:
    emu.add_fault("PUT", "/diagnosticSettings/s1$", "throttle", retry_after=0.01)
    monitor.diagnostic_settings.create_or_update(ACC, "s1", setting(group("audit")))
    assert [(r.method, r.status, r.fault) for r in emu.requests] == [("PUT", 429, "throttle"), ("PUT", 200, None)]
    emu.add_fault("GET", "/diagnosticSettings$", "server-error", count=10)
    with pytest.raises(HttpResponseError) as unavailable:
        list(monitor.diagnostic_settings.list(ACC))
    assert unavailable.value.status_code == 503
    status, body = error_of(emu, "GET", f"{ACC}/{SETTINGS}/s1", headers={})
    assert (status, body["error"]["code"]) == (401, "AuthenticationFailed")  # ARM answers before the provider
    wrong = raw(emu, "GET", f"{ACC}/{SETTINGS}/s1", params={"api-version": "2017-05-01-preview"}, headers=BEARER)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
    assert "2021-05-01-preview" in wrong.json()["error"]["message"]


def test_settings_are_state_and_go_with_their_resource(emu: Emulator, monitor: MonitorManagementClient) -> None:
    monitor.diagnostic_settings.create_or_update(ACC, "s1", setting(group("audit")))
    state = emu.dump_state()
    with Emulator(state) as again:
        reply = raw(again, "GET", f"{ACC}/{SETTINGS}/s1", params={"api-version": API})
        assert reply.status_code == 200 and reply.json()["properties"]["logs"][0]["categoryGroup"] == "audit"
    emu.set_lro_mode("sync")
    raw(emu, "DELETE", ACC)  # the emulator drops a resource's settings with it
    assert all("diagnosticSettings" not in r["id"] for r in emu.dump_state()["resources"])

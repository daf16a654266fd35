"""warden's diagnostic settings adapter (DiagnosticSettings, the DiagnosticsPort) against the emulator with the real
azure-mgmt-monitor client: one GET per list, one PUT with exactly the given body, every field kept as ARM returned
it, and the errors it raises."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import Emulator
from emulator.builders import account, account_id
from warden.access_model import DiagnosticSetting, LogSetting
from warden.azure.clients import ClientFactory
from warden.azure.credentials import StaticTokenCredential
from warden.azure.diagnostics import DiagnosticSettings, resource_uri
from warden.errors import AzureError, ConflictError, ReplyLostError, ResourceGoneError, TransientError
from warden.ids import IdRuleError
from warden.ports import DiagnosticsPort
from warden.settings import RetryOptions

API = "2021-05-01-preview"
ACC = account_id("aoai-prod")
GHOST = account_id("aoai-ghost")
LIST = f"{ACC}/providers/Microsoft.Insights/diagnosticSettings"
OPS = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ops"
WS = f"{OPS}/providers/Microsoft.OperationalInsights/workspaces/central"


def seeded(name: str, **properties: Any) -> dict[str, Any]:
    """A setting as ARM returns it, with what warden does not model: null categories, metrics, other destinations
    and a field no api-version declares."""
    props = {
        "workspaceId": WS,
        "storageAccountId": f"{ACC}-store",
        "logs": [
            {"category": None, "categoryGroup": "audit", "enabled": True},
            {"category": "Trace", "enabled": False, "retentionPolicy": {"enabled": False, "days": 0}},
        ],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
        "futureField": {"nested": [1, None]},
        **properties,
    }
    return {
        "id": f"{ACC}/providers/microsoft.insights/diagnosticSettings/{name}",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": name,
        "properties": props,
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(
        {
            "resources": [
                account("aoai-prod"),
                seeded("existing"),
                seeded("empty-ws", workspaceId="", storageAccountId=f"{ACC}-other"),
            ]
        }
    ) as running:
        yield running


@pytest.fixture
def adapter(emu: Emulator) -> DiagnosticSettings:
    retry = RetryOptions(total=2, backoff_factor=0.01, backoff_max=0.05, max_retry_after=1)
    factory = ClientFactory(StaticTokenCredential(), base_url=emu.endpoint, connection_verify=emu.ca_path, retry=retry)
    return DiagnosticSettings(factory)


def calls(emu: Emulator) -> list[tuple[str, str, int, str]]:
    return [(r.method, r.path, r.status, r.query.get("api-version", "")) for r in emu.requests]


def test_it_is_the_port(adapter: DiagnosticSettings) -> None:
    port: DiagnosticsPort = adapter
    assert port is adapter


def test_a_list_is_one_get_and_keeps_every_field(emu: Emulator, adapter: DiagnosticSettings) -> None:
    found = adapter.list_diagnostic_settings(ACC)
    assert calls(emu) == [("GET", LIST, 200, API)]  # one slash: the SDK's `/{resourceUri}` gets `subscriptions/...`
    first = seeded("existing")
    assert found[0] == DiagnosticSetting(
        resource_id=first["id"],
        name="existing",
        workspace_id=WS,
        logs=(LogSetting(None, "audit", True), LogSetting("Trace", None, False)),
        properties=first["properties"],  # nulls, metrics, the unknown field: as ARM sent them
    )
    assert (found[1].name, found[1].workspace_id, found[1].properties["workspaceId"]) == ("empty-ws", None, "")


def test_a_put_sends_exactly_the_given_body(emu: Emulator, adapter: DiagnosticSettings) -> None:
    properties: dict[str, Any] = {
        "workspaceId": WS.replace("central", "second"),
        "logs": [{"categoryGroup": "audit", "enabled": True}],
        "logAnalyticsDestinationType": None,
        "notInAnySdk": {"keep": True},
    }
    given = copy.deepcopy(properties)
    adapter.put_diagnostic_setting(ACC, "warden-audit", properties)
    assert properties == given
    assert calls(emu) == [("PUT", f"{LIST}/warden-audit", 200, API)]
    assert emu.requests[0].body == {"properties": given}
    assert emu.requests[0].headers["Content-Type"] == "application/json"
    stored = {s.name: s for s in adapter.list_diagnostic_settings(ACC)}["warden-audit"]
    assert stored.logs == (LogSetting(None, "audit", True),) and stored.workspace_id == given["workspaceId"]


def test_a_put_replaces_a_setting_read_before(emu: Emulator, adapter: DiagnosticSettings) -> None:
    read = {s.name: s for s in adapter.list_diagnostic_settings(ACC)}["existing"]
    logs: Any = read.properties["logs"]
    changed = {**read.properties, "logs": [*logs, {"category": "RequestResponse", "enabled": True}]}
    adapter.put_diagnostic_setting(ACC, read.name, changed)
    assert emu.requests[-1].body == {"properties": changed}  # the unknown field and the metrics go back too
    again = {s.name: s for s in adapter.list_diagnostic_settings(ACC)}["existing"]
    assert [entry.category for entry in again.logs] == [None, "Trace", "RequestResponse"]


def test_a_missing_resource_is_resource_gone(emu: Emulator, adapter: DiagnosticSettings) -> None:
    with pytest.raises(ResourceGoneError) as listed:
        adapter.list_diagnostic_settings(GHOST)
    assert (listed.value.status, listed.value.code) == (404, "ResourceNotFound")
    assert "aoai-ghost" in str(listed.value)
    with pytest.raises(ResourceGoneError):
        adapter.put_diagnostic_setting(GHOST, "s", {"logs": [{"categoryGroup": "audit", "enabled": True}]})
    assert [c[2] for c in calls(emu)] == [404, 404]


def test_refusals_are_classified(adapter: DiagnosticSettings) -> None:
    with pytest.raises(ConflictError) as clash:  # WS already receives Audit from `existing`
        adapter.put_diagnostic_setting(
            ACC, "again", {"workspaceId": WS, "logs": [{"categoryGroup": "allLogs", "enabled": True}]}
        )
    assert (clash.value.status, clash.value.code) == (409, "Conflict")
    with pytest.raises(AzureError) as refused:
        adapter.put_diagnostic_setting(ACC, "bad", {"logs": [{"categoryGroup": "security", "enabled": True}]})
    assert type(refused.value) is AzureError and (refused.value.status, refused.value.code) == (400, "BadRequest")
    assert "'security'" in str(refused.value)


def test_throttling_is_retried_and_server_errors_are_classified(emu: Emulator, adapter: DiagnosticSettings) -> None:
    emu.add_fault("GET", "/diagnosticSettings$", "throttle", retry_after=0.01)
    assert len(adapter.list_diagnostic_settings(ACC)) == 2  # the 429 answer is not taken for the list
    assert [c[2] for c in calls(emu)] == [429, 200]
    emu.add_fault("GET", "/diagnosticSettings$", "server-error", count=5)
    with pytest.raises(TransientError) as read:
        adapter.list_diagnostic_settings(ACC)
    assert read.value.status == 503
    emu.add_fault("PUT", "/diagnosticSettings/s$", "applied-then-error", count=5)
    with pytest.raises(ReplyLostError):  # the write may have landed: only a re-read tells
        adapter.put_diagnostic_setting(ACC, "s", {"logs": [{"category": "Audit", "enabled": True}]})


@pytest.mark.parametrize(
    "bad",
    [
        f"{ACC}?api-version=1",
        f"{ACC}#x",
        f"{ACC}/%2e%2e",
        ACC.replace("aoai", "\u0430oai"),  # a Cyrillic look-alike
        "subscriptions/x/resourceGroups/rg",  # not an id (no leading slash)
        f"{ACC}//providers/x",
    ],
)
def test_an_id_that_is_no_arm_id_is_refused_before_any_call(
    emu: Emulator, adapter: DiagnosticSettings, bad: str
) -> None:
    with pytest.raises(IdRuleError):
        adapter.list_diagnostic_settings(bad)
    with pytest.raises(IdRuleError):
        adapter.put_diagnostic_setting(bad, "s", {})
    assert emu.requests == []


@pytest.mark.parametrize("name", ["", "a/b", "..", "x?y", "caf\u00e9"])
def test_a_setting_name_that_would_change_the_url_is_refused(
    emu: Emulator, adapter: DiagnosticSettings, name: str
) -> None:
    with pytest.raises(IdRuleError):
        adapter.put_diagnostic_setting(ACC, name, {})
    assert emu.requests == []


def test_resource_uri_is_the_id_without_its_leading_slash() -> None:
    assert resource_uri(ACC + "/") == ACC[1:]

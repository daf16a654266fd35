"""logging.diagnostics end to end: the real azure-mgmt-monitor client against the emulator, counted from its
request log. An account without diagnostics gets one PUT with exactly the workspace and group; an account whose
setting sends its audit logs elsewhere gets warden's setting added and keeps the other one unchanged."""

from __future__ import annotations

from typing import Any

from emulator.access_builders import diagnostic_setting
from emulator.builders import account, account_id
from tests.integration.conftest import WARDEN_OID, World, baseline_text, calls, write_event

RID = account_id("aoai-a")
SUB = RID.split("/")[2]
WS = f"/subscriptions/{SUB}/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-sec"
ELSEWHERE = WS.replace("law-sec", "law-dev")
SETTINGS = f"{RID.lower()}/providers/microsoft.insights/diagnosticsettings"
DELETED = "Microsoft.Insights/diagnosticSettings/delete"


def baseline(mode: str = "enforce", group: str = "audit") -> str:
    entry = f"  logging.diagnostics:\n    mode: {mode}\n    workspace_id: {WS}\n    category_group: {group}\n"
    return baseline_text(extra=entry)


def settings(world: World) -> dict[str, dict[str, Any]]:
    found = world.emulator.dump_state()["resources"]
    return {r["name"]: r["properties"] for r in found if "/diagnosticsettings/" in r["id"].lower()}


def setting_event(name: str, *, operation: str = DELETED, **kw: Any) -> dict[str, Any]:
    event_type = "Microsoft.Resources.Resource" + ("DeleteSuccess" if operation.endswith("delete") else "WriteSuccess")
    rid = f"{RID}/providers/Microsoft.Insights/diagnosticSettings/{name}"
    return write_event(rid, operation=operation, event_type=event_type, **kw)


def test_an_account_without_diagnostics_gets_one_put_with_exactly_the_workspace_and_group(make_world) -> None:
    world = make_world([account("aoai-a")], baseline())
    world.deliver(setting_event("old"))
    put = f"{SETTINGS}/warden-audit"
    assert calls(world) == [
        ("GET", RID.lower()),
        ("GET", SETTINGS),
        ("PUT", put),
        ("GET", RID.lower()),
        ("GET", SETTINGS),
    ]
    (body,) = [r.body for r in world.requests() if r.method == "PUT"]
    assert body == {"properties": {"workspaceId": WS, "logs": [{"categoryGroup": "audit", "enabled": True}]}}
    assert settings(world) == {"warden-audit": body["properties"]}
    assert [e["outcome"] for e in world.audit() if e["kind"] == "result"] == ["remediated"]


def test_a_setting_sending_audit_elsewhere_is_left_unchanged_and_warden_s_added(make_world) -> None:
    team = diagnostic_setting(RID, "team", ELSEWHERE, metrics=[{"category": "AllMetrics", "enabled": True}])
    world = make_world([account("aoai-a"), team], baseline())
    world.deliver(setting_event("team", operation="Microsoft.Insights/diagnosticSettings/write"))
    assert [p for m, p in calls(world) if m != "GET"] == [f"{SETTINGS}/warden-audit"]
    after = settings(world)
    assert after["team"] == team["properties"]
    assert after["warden-audit"]["workspaceId"] == WS


def test_warden_s_setting_pointing_elsewhere_is_updated_in_place(make_world) -> None:
    ours = diagnostic_setting(RID, "warden-audit", ELSEWHERE, ("allLogs",), storageAccountId="/subscriptions/x/sa")
    world = make_world([account("aoai-a"), ours], baseline())
    world.deliver(setting_event("warden-audit", operation="Microsoft.Insights/diagnosticSettings/write"))
    after = settings(world)["warden-audit"]
    assert after["workspaceId"] == WS
    assert after["storageAccountId"] == "/subscriptions/x/sa"  # a field warden does not own, kept
    assert after["logs"] == [{"categoryGroup": "allLogs", "enabled": True}, {"categoryGroup": "audit", "enabled": True}]


def test_dry_run_writes_nothing(make_world) -> None:
    world = make_world([account("aoai-a")], baseline("dry-run"))
    world.deliver(setting_event("old"))
    assert {m for m, _ in calls(world)} == {"GET"}
    assert [e["outcome"] for e in world.audit() if e["kind"] == "decision"] == ["would-remediate"]


def test_a_compliant_account_costs_two_reads(make_world) -> None:
    compliant = make_world([account("aoai-a"), diagnostic_setting(RID, "ops", WS, ("allLogs",))], baseline())
    compliant.deliver(setting_event("x"))
    assert calls(compliant) == [("GET", RID.lower()), ("GET", SETTINGS)]
    assert [e["outcome"] for e in compliant.audit()] == ["compliant"]


def test_warden_s_own_put_coming_back_costs_no_call(make_world) -> None:
    world = make_world([account("aoai-a")], baseline())
    world.deliver(
        setting_event("warden-audit", operation="Microsoft.Insights/diagnosticSettings/write", oid=WARDEN_OID)
    )
    assert calls(world) == []
    assert [e["outcome"] for e in world.audit()] == ["ignored"]

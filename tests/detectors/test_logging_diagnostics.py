"""logging.diagnostics detector: which settings count as sending the audit logs, and the one PUT that fixes it."""

from __future__ import annotations

from typing import Any

from detectors.logging_diagnostics import CONTROL, Params
from remediators.diagnostic_setting import PutDiagnosticSetting
from tests.detectors.given import RID, Given, snapshot
from warden.access_model import DiagnosticSetting, LogSetting
from warden.model import Finding

WS = "/subscriptions/s/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-sec"
ELSEWHERE = WS.replace("law-sec", "law-dev")


def setting(name: str, workspace: str | None, *logs: dict[str, Any], **extra: Any) -> DiagnosticSetting:
    props: dict[str, Any] = {"workspaceId": workspace, "logs": list(logs), **extra}
    parsed = tuple(LogSetting(e.get("category"), e.get("categoryGroup"), bool(e.get("enabled"))) for e in logs)
    return DiagnosticSetting(
        f"{RID}/providers/microsoft.insights/diagnosticSettings/{name}", name, workspace, parsed, props
    )


AUDIT = {"categoryGroup": "audit", "enabled": True}
ALL = {"categoryGroup": "allLogs", "enabled": True}


def detect(*settings: DiagnosticSetting, **params: Any) -> list[Finding]:
    return CONTROL.detect(Given(snapshot(), diagnostic_settings=settings), Params(**({"workspace_id": WS} | params)))


def put_of(findings: list[Finding]) -> PutDiagnosticSetting:
    (finding,) = findings
    (step,) = finding.fix
    assert isinstance(step, PutDiagnosticSetting)
    return step


def test_no_setting_gets_one_put_with_exactly_the_workspace_and_group() -> None:
    step = put_of(detect())
    assert step.name == "warden-audit"
    assert step.target == f"{RID}/providers/Microsoft.Insights/diagnosticSettings/warden-audit"
    assert step.properties == {"workspaceId": WS, "logs": [{"categoryGroup": "audit", "enabled": True}]}


def test_any_setting_sending_audit_or_all_logs_to_the_workspace_is_compliant() -> None:
    assert detect(setting("ops", WS, AUDIT)) == []
    assert detect(setting("ops", WS.upper(), ALL)) == []
    assert detect(setting("ops", WS, {"category": "Audit", "enabled": True})) == []


def test_disabled_logs_or_another_workspace_do_not_count() -> None:
    assert detect(setting("ops", WS, {"categoryGroup": "audit", "enabled": False}))
    assert detect(setting("ops", ELSEWHERE, AUDIT))


def test_all_logs_wanted_is_not_met_by_audit_alone() -> None:
    assert detect(setting("ops", ELSEWHERE, AUDIT), category_group="allLogs")[0].fix
    assert detect(setting("ops", WS, ALL), category_group="allLogs") == []


def test_a_setting_elsewhere_is_left_alone_and_the_named_one_added() -> None:
    step = put_of(detect(setting("team", ELSEWHERE, AUDIT)))
    assert step.name == "warden-audit" and step.before is None


def test_warden_s_setting_pointing_elsewhere_is_updated_keeping_its_other_fields() -> None:
    metrics = [{"category": "AllMetrics", "enabled": True}]
    ours = setting("Warden-Audit", ELSEWHERE, {"category": "Trace", "enabled": True}, metrics=metrics)
    step = put_of(detect(ours))
    assert step.name == "Warden-Audit"  # ARM names compare case-insensitively: the same setting
    assert step.properties["workspaceId"] == WS
    assert step.properties["metrics"] == metrics
    assert step.properties["logs"] == [{"category": "Trace", "enabled": True}, AUDIT]
    assert step.before == ours.properties


def test_a_setting_already_sending_part_of_all_logs_there_leaves_it_to_a_human() -> None:
    (finding,) = detect(setting("team", WS, AUDIT), category_group="allLogs")
    assert finding.fix == () and "team" in finding.summary


def test_no_workspace_in_the_baseline_is_needs_human() -> None:
    (finding,) = CONTROL.detect(Given(snapshot()), Params())
    assert finding.fix == () and "workspace_id" in finding.summary

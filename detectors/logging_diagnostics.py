"""Control logging.diagnostics: every account has a diagnostic setting that sends the `audit` category group (or
`allLogs`, as the baseline says) to the baseline's Log Analytics workspace.

The fix PUTs one setting named by the baseline (`warden-audit`); every other setting is left as it is, and an
existing setting of that name keeps its other fields (docs/identity.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remediators.diagnostic_setting import PutDiagnosticSetting
from warden.control import Control, EventRoute, Fact, Facts, param
from warden.diagnostic_rules import clashes, compliant, named, summary, wanted_properties
from warden.model import Finding, Json
from warden.params_access import category_group, setting_name, workspace_id

_SETTINGS = "Microsoft.Insights/diagnosticSettings"


@dataclass(frozen=True)
class Params:
    workspace_id: str = field(
        default="", metadata=param(workspace_id, "the Log Analytics workspace (ARM id) the logs must reach")
    )
    category_group: str = field(default="audit", metadata=param(category_group, "audit, or allLogs"))
    setting_name: str = field(default="warden-audit", metadata=param(setting_name, "the setting warden owns"))


def detect(facts: Facts, params: Params) -> list[Finding]:
    account_id = facts.account.resource_id
    group, workspace = params.category_group, params.workspace_id
    expected: dict[str, Json] = {"workspaceId": workspace or None, "categoryGroup": group}
    if not workspace:
        why = "the baseline names no workspace_id under logging.diagnostics, so warden cannot say where logs go"
        return [Finding(CONTROL.id, account_id, why, {"workspaceId": None}, expected)]
    settings = facts.diagnostic_settings
    if compliant(settings, workspace, group):
        return []
    seen: dict[str, Json] = {"settings": [summary(s) for s in sorted(settings, key=lambda s: s.name.lower())]}
    why = f"no diagnostic setting sends the {group} logs to workspace {workspace}"
    clashing = clashes(settings, params.setting_name, workspace, group)
    if clashing:
        why += (
            f"; setting {', '.join(clashing)} already sends part of them there, and Azure refuses a second setting "
            "for the same logs and workspace: a human must widen or remove it"
        )
        return [Finding(CONTROL.id, account_id, why, seen, expected)]
    mine = named(settings, params.setting_name)
    properties = wanted_properties(mine, workspace, group)
    before = dict(mine.properties) if mine is not None else None
    fix = (PutDiagnosticSetting.of(account_id, mine.name if mine else params.setting_name, properties, before),)
    return [Finding(CONTROL.id, account_id, why, seen, expected, fix)]


CONTROL = Control(
    id="logging.diagnostics",
    summary="a diagnostic setting sends the account's audit logs to the baseline's workspace",
    params=Params,
    routes=(
        EventRoute("Microsoft.Resources.ResourceWriteSuccess", f"{_SETTINGS}/write"),
        EventRoute("Microsoft.Resources.ResourceDeleteSuccess", f"{_SETTINGS}/delete"),
    ),
    facts=frozenset({Fact.ACCOUNT, Fact.DIAGNOSTICS}),
    steps=(PutDiagnosticSetting,),
    detect=detect,
)

"""When an account's diagnostic settings send its audit logs to the baseline's workspace, and the one setting
warden writes when they do not. Pure; the detector of logging.diagnostics uses it (docs/identity.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from warden.access_model import DiagnosticSetting
from warden.ids import same_id
from warden.model import Json

#: A category group and the groups that include it: `allLogs` holds every category, `audit` among them.
COVERED_BY = {"audit": ("audit", "alllogs"), "alllogs": ("alllogs",)}
#: The one log category the `audit` group holds for Cognitive Services accounts (docs/identity.md): an enabled
#: `Audit` category sends the same logs as the group.
AUDIT_CATEGORY = "audit"


def sends(setting: DiagnosticSetting, workspace_id: str, group: str) -> bool:
    """Whether the setting sends the category group (or one that includes it) to the workspace, enabled."""
    if not setting.workspace_id or not same_id(setting.workspace_id, workspace_id):
        return False
    groups = COVERED_BY[group.lower()]
    for log in setting.logs:
        if not log.enabled:
            continue
        if (log.category_group or "").lower() in groups:
            return True
        if group.lower() == "audit" and (log.category or "").lower() == AUDIT_CATEGORY:
            return True
    return False


def compliant(settings: Iterable[DiagnosticSetting], workspace_id: str, group: str) -> DiagnosticSetting | None:
    """The first setting (by name) that sends the group to the workspace; None when none does."""
    return next((s for s in sorted(settings, key=lambda s: s.name.lower()) if sends(s, workspace_id, group)), None)


def named(settings: Iterable[DiagnosticSetting], name: str) -> DiagnosticSetting | None:
    """The setting of that name (names compare case-insensitively, as ARM's do)."""
    return next((s for s in settings if s.name.lower() == name.lower()), None)


def clashes(settings: Iterable[DiagnosticSetting], name: str, workspace_id: str, group: str) -> list[str]:
    """The other settings that already send some of the group's logs to the workspace. Azure refuses a second
    setting sending a category to a destination that one already receives it in (docs/identity.md), and
    warden never changes another setting, so these leave the fix to a human."""
    out = []
    for setting in settings:
        if setting.name.lower() == name.lower() or not setting.workspace_id:
            continue
        if same_id(setting.workspace_id, workspace_id) and any(log.enabled for log in setting.logs):
            # Whatever it sends is part of allLogs; for `audit` a clash would already be compliant.
            out.append(setting.name)
    return sorted(out) if group.lower() == "alllogs" else []


def wanted_properties(existing: DiagnosticSetting | None, workspace_id: str, group: str) -> dict[str, Json]:
    """The properties warden PUTs: a new setting sends exactly the group to the workspace; an existing one of
    warden's name keeps every other field (metrics, other destinations, other logs) and gets the workspace and
    the group, enabled."""
    if existing is None:
        return {"workspaceId": workspace_id, "logs": [{"categoryGroup": group, "enabled": True}]}
    out: dict[str, Json] = dict(existing.properties)
    old_logs = out.get("logs")
    logs = [e for e in old_logs if isinstance(e, Mapping)] if isinstance(old_logs, list) else []
    kept: list[Json] = [e for e in logs if str(e.get("categoryGroup") or "").lower() != group.lower()]
    out["workspaceId"] = workspace_id
    out["logs"] = [*kept, {"categoryGroup": group, "enabled": True}]
    return out


def summary(setting: DiagnosticSetting) -> dict[str, Json]:
    """A setting as a finding's `observed` lists it: name, workspace, enabled logs."""
    enabled: list[Json] = [log.category_group or log.category or "" for log in setting.logs if log.enabled]
    return {"name": setting.name, "workspaceId": setting.workspace_id, "logs": enabled}

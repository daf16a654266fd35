"""Readers of the access controls' parameters: each refuses what Azure would, and says which list item."""

from __future__ import annotations

import pytest

from warden.control import ParamError
from warden.params_access import category_group, principal_ids, role_ids, setting_name, workspace_id

GUID = "8E3AF657-A8FF-443C-A75C-2FE8C4BCB635"
WS = (
    "/subscriptions/6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c/resourceGroups/rg-logs"
    "/providers/Microsoft.OperationalInsights/workspaces/law-sec"
)


def test_principal_ids_are_guids_lower_cased_once() -> None:
    assert principal_ids([GUID, GUID.lower()]) == (GUID.lower(),)
    with pytest.raises(ParamError) as bad:
        principal_ids([GUID, "alice@contoso.com"])
    assert bad.value.item == 1
    with pytest.raises(ParamError):
        principal_ids(GUID)  # a list, not one string


def test_role_ids_take_a_full_role_definition_id_too() -> None:
    full = f"/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/{GUID}"
    assert role_ids([full]) == (GUID.lower(),)
    with pytest.raises(ParamError):
        role_ids(["Owner"])  # by GUID: role names differ by language and can be reused by custom roles


def test_workspace_is_a_log_analytics_id_or_empty() -> None:
    assert workspace_id(WS) == WS
    assert workspace_id("") == ""
    with pytest.raises(ParamError, match="Log Analytics workspace id"):
        workspace_id(WS.replace("OperationalInsights", "Storage"))
    with pytest.raises(ParamError):
        workspace_id("law-sec")


def test_category_group_is_spelled_as_azure_monitor_spells_it() -> None:
    assert category_group("ALLLOGS") == "allLogs"
    assert category_group("audit") == "audit"
    with pytest.raises(ParamError, match="audit, allLogs"):
        category_group("security")


def test_setting_name() -> None:
    assert setting_name("warden-audit") == "warden-audit"
    for bad in ("", "-x", "a/b", "x" * 65, 3):
        with pytest.raises(ParamError):
            setting_name(bad)

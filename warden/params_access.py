"""Readers of the access controls' parameters: principal and role ids, a Log Analytics workspace, a category
group and a diagnostic setting name. Pure; a ParamError says what is wrong and, in a list, which item.
"""

from __future__ import annotations

import re

from warden.access_model import role_guid
from warden.control import ParamError
from warden.ids import is_guid

#: The category groups a diagnostic setting may send (docs/identity.md "Diagnostic settings").
CATEGORY_GROUPS = ("audit", "allLogs")
_WORKSPACE = re.compile(
    r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}"
    r"/providers/Microsoft\.OperationalInsights/workspaces/[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]",
    re.ASCII | re.IGNORECASE,
)
# warden's own rule for the setting it owns: letters, digits, `-`, `_` and `.`, 1-64 characters, so the name is
# safe in a URL path and easy to find in the portal.
_SETTING_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def guids(value: object, what: str, *, last_segment: bool = False) -> tuple[str, ...]:
    """A list of GUIDs (object ids, role definition ids), lower-cased, duplicates dropped. With `last_segment`, a
    full id may be given (a role definition's): its last segment is the GUID."""
    if not isinstance(value, list):
        raise ParamError(f"expected a list of {what} (GUIDs), got {value!r}")
    out: dict[str, None] = {}
    for i, item in enumerate(value):
        text = item.strip() if isinstance(item, str) else ""
        text = role_guid(text) if last_segment else text
        if not is_guid(text):
            raise ParamError(f"{item!r} is not one of the {what}: expected a GUID like 8e3af657-a8ff-...", item=i)
        out[text.lower()] = None
    return tuple(out)


def principal_ids(value: object) -> tuple[str, ...]:
    return guids(value, "principal object ids")


def role_ids(value: object) -> tuple[str, ...]:
    return guids(value, "role definition ids", last_segment=True)


def workspace_id(value: object) -> str:
    """A Log Analytics workspace's full ARM id (what a diagnostic setting's `workspaceId` takes); "" for none yet."""
    if isinstance(value, str) and not value.strip():
        return ""
    if not isinstance(value, str) or not _WORKSPACE.fullmatch(value.strip()):
        raise ParamError(
            f"{value!r} is not a Log Analytics workspace id: expected /subscriptions/{{id}}/resourceGroups/{{group}}"
            "/providers/Microsoft.OperationalInsights/workspaces/{name}"
        )
    return value.strip()


def category_group(value: object) -> str:
    """`audit` or `allLogs` (any case), spelled as Azure Monitor spells it."""
    found = next((g for g in CATEGORY_GROUPS if isinstance(value, str) and value.strip().lower() == g.lower()), None)
    if found is None:
        groups = ", ".join(CATEGORY_GROUPS)
        raise ParamError(f"{value!r} is not a category group warden sends: expected one of {groups}")
    return found


def setting_name(value: object) -> str:
    """The name of the diagnostic setting warden owns on each account."""
    if not isinstance(value, str) or not _SETTING_NAME.fullmatch(value):
        raise ParamError(f"{value!r} is not a setting name: letters, digits, '-', '_' or '.', 1-64 characters")
    return value

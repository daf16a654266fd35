"""The resource ids a diagnostic setting can be attached to, as route templates.

Route templates cannot capture a variable number of segments, so each target shape is spelled out, as
services/authorization/scopes.py does for role assignment scopes: a resource in a resource group with up to
four levels of children, or at subscription level with up to two. Deeper targets fall to the ARM plane's
generic extension-resource handlers (docs/emulator.md, "Diagnostic settings").
"""

from __future__ import annotations

from emulator.arm import ids

_PAIRS = ("{t0}/{n0}", "{t1}/{n1}", "{t2}/{n2}", "{t3}/{n3}", "{t4}/{n4}")
TARGET_TEMPLATES: tuple[str, ...] = (
    *("subscriptions/{sub}/resourcegroups/{rg}/providers/{ns}/" + "/".join(_PAIRS[:n]) for n in range(1, 6)),
    *("subscriptions/{sub}/providers/{ns}/" + "/".join(_PAIRS[:n]) for n in range(1, 3)),
)


def templates(suffix: str) -> tuple[str, ...]:
    """Every target shape followed by `suffix` (`providers/microsoft.insights/diagnosticsettings`)."""
    return tuple(f"{target}/{suffix}" for target in TARGET_TEMPLATES)


def target_of(path: str) -> str:
    """The target resource's id in a request path: everything before the last `/providers/`."""
    return ids.scope_of(path)


def path_id(path: str) -> str:
    """A request path as an id (no trailing slash, single slashes)."""
    return "/" + "/".join(ids.segments(path))

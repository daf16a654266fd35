"""The resource ids a diagnostic setting can be attached to, as route templates.

The target shapes are the ARM plane's resource templates (`arm/ids.py` RESOURCE_TEMPLATES, which role assignment
scopes use too). Deeper targets fall to the ARM plane's generic extension-resource handlers (docs/emulator.md,
"Diagnostic settings").
"""

from __future__ import annotations

from emulator.arm import ids

TARGET_TEMPLATES = ids.RESOURCE_TEMPLATES


def templates(suffix: str) -> tuple[str, ...]:
    """Every target shape followed by `suffix` (`providers/microsoft.insights/diagnosticsettings`)."""
    return tuple(f"{target}/{suffix}" for target in TARGET_TEMPLATES)


def target_of(path: str) -> str:
    """The target resource's id in a request path: everything before the last `/providers/`."""
    return ids.scope_of(path)


def path_id(path: str) -> str:
    """A request path as an id (no trailing slash, single slashes)."""
    return "/" + "/".join(ids.segments(path))

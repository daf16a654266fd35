"""Microsoft.Authorization: role assignments at any scope (listed with ARM's filters) and role definitions
(a built-in catalog plus the scenario's custom roles), validated against the vendored 2022-04-01 slice, and the
caller's permissions at a scope (permissions.py)."""

from __future__ import annotations

from emulator.arm.plane import Arm
from emulator.arm.types import Provider

from .assignments import ASSIGNMENTS, Assignments
from .definitions import RoleCatalog
from .permissions import Permissions
from .versions import NAMESPACE


def provider(arm: Arm) -> Provider:
    catalog = RoleCatalog()
    return Provider(
        namespace=NAMESPACE,
        types=(ASSIGNMENTS,),
        routes=(*Assignments(catalog).routes(), *catalog.routes(), *Permissions(catalog).routes()),
        sections=(catalog.section(),),
        locations=("global",),
    )

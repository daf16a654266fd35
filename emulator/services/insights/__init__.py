"""Microsoft.Insights: diagnostic settings on any resource and their categories (an assumed table per resource
type), validated against the vendored 2021-05-01-preview slice, with Azure's limits as emulator rules."""

from __future__ import annotations

from emulator.arm.plane import Arm
from emulator.arm.types import Provider

from .settings import SETTINGS, routes
from .versions import NAMESPACE


def provider(arm: Arm) -> Provider:
    return Provider(namespace=NAMESPACE, types=(SETTINGS,), routes=routes(), locations=("global",))

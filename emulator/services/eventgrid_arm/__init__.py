"""Microsoft.EventGrid on the ARM plane: system topics and their event subscriptions, stored as PUT (no swagger
slice is vendored for them: docs/emulator.md, "Event Grid system topics"). The custom topic's data plane is
emulator/services/eventgrid/."""

from __future__ import annotations

from emulator.arm.plane import Arm
from emulator.arm.types import Provider

from .topics import EVENT_SUBSCRIPTIONS, NAMESPACE, SYSTEM_TOPICS


def provider(arm: Arm) -> Provider:
    return Provider(namespace=NAMESPACE, types=(SYSTEM_TOPICS, EVENT_SUBSCRIPTIONS), locations=("global",))

"""The services the emulator serves, each in its own package: a resource provider for the ARM plane (a
`provider(arm) -> Provider` factory) or a data plane (a kernel `Service`).

Adding one means a package here and a line below; the kernel and the ARM core stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.arm.plane import ProviderFactory
from emulator.kernel.service import Service
from emulator.kernel.world import World

from . import (
    authorization,
    cognitiveservices,
    eventgrid,
    eventgrid_arm,
    insights,
    keyvault,
    openai,
    resourcegraph,
    storage,
)

#: Resource providers served by the ARM plane.
PROVIDERS: tuple[ProviderFactory, ...] = (
    cognitiveservices.provider,
    authorization.provider,
    keyvault.provider,
    insights.provider,
    resourcegraph.provider,
    eventgrid_arm.provider,
    storage.provider,
)
#: Data planes, each a kernel Service built for the world; asked before ARM, which takes what none claims.
SERVICES: tuple[Callable[[World], Service], ...] = (keyvault.KeyVaultPlane, openai.OpenAIPlane, eventgrid.TopicPlane)

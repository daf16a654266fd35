"""The services the emulator serves, each in its own package: a resource provider for the ARM plane (a
`provider(arm) -> Provider` factory) or a data plane (a kernel `Service`).

Adding one means a package here and a line below; the kernel and the ARM core stay as they are.
"""

from __future__ import annotations

from emulator.arm.plane import ProviderFactory

from . import cognitiveservices

#: Resource providers served by the ARM plane.
PROVIDERS: tuple[ProviderFactory, ...] = (cognitiveservices.provider,)

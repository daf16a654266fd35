"""Microsoft.Storage on the ARM plane: storage accounts, their blob service, blob containers and a container's
immutability policy, stored as PUT (no swagger slice is vendored: docs/emulator.md, "Storage (management)").
Blob data itself is Azurite's (emulator/azurite.py)."""

from __future__ import annotations

from emulator.arm.plane import Arm
from emulator.arm.types import Provider

from .accounts import ACCOUNTS, BLOB_SERVICES, service_routes
from .containers import CONTAINERS, container_routes
from .policies import policy_routes
from .versions import NAMESPACE


def provider(arm: Arm) -> Provider:
    return Provider(
        namespace=NAMESPACE,
        types=(ACCOUNTS, BLOB_SERVICES, CONTAINERS),
        routes=(*service_routes(), *container_routes(), *policy_routes()),
        locations=("global",),
    )

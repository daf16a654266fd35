"""Microsoft.CognitiveServices: accounts (with keys and soft delete), deployments, RAI policies, SKUs and
usages, validated against the vendored 2025-09-01 swagger slice."""

from __future__ import annotations

from emulator.arm.plane import Arm
from emulator.arm.types import Provider

from . import accounts, catalog, children
from .keys import KeyBook
from .versions import NAMESPACE


def provider(arm: Arm) -> Provider:
    keys = KeyBook(arm)
    deleted = accounts.DeletedAccounts(arm, keys)
    return Provider(
        namespace=NAMESPACE,
        types=(accounts.account_type(keys, deleted), children.DEPLOYMENTS, children.RAI_POLICIES),
        routes=(*deleted.routes(), *catalog.ROUTES),
        sections=(keys.section(), deleted.section()),
        locations=catalog.LOCATIONS,
    )

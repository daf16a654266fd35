"""What the provider offers: SKUs (per subscription and per account) and usages (per location and account).

Shapes follow the SDK models ResourceSku, AccountSku and Usage; the values are a small fixed catalogue.
"""

from __future__ import annotations

from emulator.arm.errors import resource_not_found
from emulator.arm.plane import Arm
from emulator.arm.types import Params, Route
from emulator.kernel.http import Reply, Request

from .keys import ACCOUNT_TYPE
from .versions import API_VERSIONS, NAMESPACE

LOCATIONS = ("eastus", "eastus2", "swedencentral", "westeurope", "global")
_KINDS = ("OpenAI", "AIServices", "CognitiveServices")
_ACCOUNT = f"subscriptions/{{sub}}/resourcegroups/{{rg}}/providers/{NAMESPACE}/accounts/{{account}}"


def _account(arm: Arm, p: Params) -> None:
    aid = f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{ACCOUNT_TYPE}/{p['account']}"
    if arm.store.get(aid) is None:
        raise resource_not_found(aid)


def resource_skus(arm: Arm, req: Request, p: Params) -> Reply:
    skus = [
        {"resourceType": "accounts", "name": sku, "tier": tier, "kind": kind, "locations": [loc], "restrictions": []}
        for kind in _KINDS
        for sku, tier in (("S0", "Standard"),)
        for loc in LOCATIONS
    ]
    return Reply(200, {"value": skus})


def account_skus(arm: Arm, req: Request, p: Params) -> Reply:
    _account(arm, p)
    return Reply(200, {"value": [{"resourceType": ACCOUNT_TYPE, "sku": {"name": "S0", "tier": "Standard"}}]})


def _usages() -> list[dict[str, object]]:
    return [
        {
            "unit": "Count",
            "name": {"value": "OpenAI.Standard.gpt-4o", "localizedValue": "Tokens Per Minute (thousands) - GPT-4o"},
            "quotaPeriod": "00:01:00",
            "limit": 450.0,
            "currentValue": 0.0,
            "status": "Included",
        }
    ]


def location_usages(arm: Arm, req: Request, p: Params) -> Reply:
    return Reply(200, {"value": _usages()})


def account_usages(arm: Arm, req: Request, p: Params) -> Reply:
    _account(arm, p)
    return Reply(200, {"value": _usages()})


ROUTES = (
    Route(f"subscriptions/{{sub}}/providers/{NAMESPACE}/skus", {"GET": resource_skus}, API_VERSIONS),
    Route(
        f"subscriptions/{{sub}}/providers/{NAMESPACE}/locations/{{loc}}/usages", {"GET": location_usages}, API_VERSIONS
    ),
    Route(f"{_ACCOUNT}/skus", {"GET": account_skus}, API_VERSIONS),
    Route(f"{_ACCOUNT}/usages", {"GET": account_usages}, API_VERSIONS),
)

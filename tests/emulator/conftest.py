"""Fixtures for the emulator tests: scenarios built from upstream examples, the real SDK client, swagger."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from emulator import Emulator
from tests.conftest import reference_dir
from tests.emulator.swagger import Swagger
from warden.azure.credentials import StaticTokenCredential

C = TypeVar("C")

SUB = "00000000-1111-2222-3333-444444444444"
OTHER_SUB = "99999999-1111-2222-3333-444444444444"
RG = "rg-ai"
API = "2025-09-01"
BEARER = {"Authorization": "Bearer emulator-token"}


def example(version: str, name: str) -> Any:
    """A whole upstream example: its `parameters` (the request) and `responses`."""
    path = reference_dir() / "cognitiveservices" / version / "examples" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def example_body(version: str, name: str, status: str = "200") -> Any:
    return example(version, name)["responses"][status]["body"]


def account_id(name: str, rg: str = RG, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}"


def openai_account(name: str, rg: str = RG, sub: str = SUB, **properties: Any) -> dict[str, Any]:
    """An OpenAI account as ARM returns it, insecure by default (public access on, local auth on)."""
    props: dict[str, Any] = {
        "endpoint": f"https://{name}.openai.azure.com/",
        "provisioningState": "Succeeded",
        "customSubDomainName": name,
        "publicNetworkAccess": "Enabled",
        "networkAcls": {
            "defaultAction": "Allow",
            "ipRules": [{"value": "203.0.113.0/24"}],
            "virtualNetworkRules": [],
        },
        "disableLocalAuth": False,
        "restrictOutboundNetworkAccess": False,
        "encryption": {"keySource": "Microsoft.CognitiveServices"},
    }
    props.update(properties)
    return {
        "id": account_id(name, rg, sub),
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts",
        "location": "eastus",
        "kind": "OpenAI",
        "sku": {"name": "S0"},
        "tags": {"env": "test"},
        "etag": '"0000-initial"',
        "identity": {"type": "SystemAssigned", "principalId": "p-1", "tenantId": "t-1"},
        "properties": props,
    }


def deployment(account: str, name: str, policy: str = "Microsoft.DefaultV2", rg: str = RG) -> dict[str, Any]:
    return {
        "id": f"{account_id(account, rg)}/deployments/{name}",
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": {"name": "Standard", "capacity": 10},
        "properties": {
            "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-08-06"},
            "raiPolicyName": policy,
            "provisioningState": "Succeeded",
        },
    }


def make_client(emu: Emulator, sub: str = SUB) -> CognitiveServicesManagementClient:
    """The real SDK client, with quick retry back-off so fault tests stay fast."""
    return arm_client(CognitiveServicesManagementClient, emu, sub)


def arm_client(kind: Callable[..., C], emu: Emulator, sub: str = SUB) -> C:
    """Any real management client of the emulator's ARM plane, with quick retry back-off."""
    return kind(
        StaticTokenCredential(),
        sub,
        base_url=emu.endpoint,
        connection_verify=emu.ca_path,
        retry_backoff_factor=0.01,
        retry_backoff_max=1,
    )


def raw(emu: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A plain HTTPS call (trusting the emulator's CA) for what the SDK hides: headers, status, raw JSON."""
    params = kwargs.pop("params", {"api-version": API})
    headers = kwargs.pop("headers", BEARER)
    return requests.request(
        method, emu.endpoint + path, params=params, headers=headers, verify=emu.ca_path, timeout=10, **kwargs
    )


def raw_json(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """`cls=` hook: have the SDK hand back the response JSON exactly as received."""
    return pipeline_response.http_response.json()


@pytest.fixture(scope="session")
def swagger() -> Swagger:
    return Swagger(reference_dir() / "cognitiveservices" / "2025-09-01" / "cognitiveservices.slice.json")


@pytest.fixture
def scenario() -> dict[str, Any]:
    """Two OpenAI accounts (one with a deployment and a custom RAI policy) and fixed keys."""
    policy = example_body("2025-09-01", "GetRaiPolicy")
    policy = {**policy, "id": f"{account_id('aoai-one')}/raiPolicies/raiPolicyName"}
    return {
        "resources": [
            openai_account("aoai-one"),
            openai_account("aoai-two", disableLocalAuth=True),
            deployment("aoai-one", "chat", policy="raiPolicyName"),
            policy,
        ],
        "accountKeys": {account_id("aoai-one"): {"key1": "scenario-key-one", "key2": "scenario-key-two"}},
    }


@pytest.fixture
def emu(scenario: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator(scenario) as running:
        yield running


@pytest.fixture
def client(emu: Emulator) -> Iterator[CognitiveServicesManagementClient]:
    with make_client(emu) as sdk:
        yield sdk

"""Faults on demand, seen through the real SDK's retry policy: 429, 5xx, 404/409/412, resets, latency."""

from __future__ import annotations

import time

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties

from emulator import Emulator
from tests.emulator.conftest import RG, account_id, raw

ONE = account_id("aoai-one")
ONE_PATH = r"/accounts/aoai-one$"


def _trail(emu: Emulator) -> list[tuple[str, int, str | None]]:
    return [(r.method, r.status, r.fault) for r in emu.requests]


def test_throttle_then_success(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    emu.add_fault("GET", ONE_PATH, "throttle", count=2, retry_after=0.01)
    assert client.accounts.get(RG, "aoai-one").name == "aoai-one"
    assert _trail(emu) == [("GET", 429, "throttle"), ("GET", 429, "throttle"), ("GET", 200, None)]


def test_throttle_reply_shape(emu: Emulator) -> None:
    emu.add_fault("*", ONE_PATH, "throttle", retry_after=2)
    reply = raw(emu, "GET", ONE)
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "2"
    assert reply.json()["error"]["code"] == "TooManyRequests"


def test_throttled_patch_is_retried_with_the_same_body(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    emu.add_fault("PATCH", ONE_PATH, "throttle", retry_after=0.01)
    update = Account(properties=AccountProperties(public_network_access="Disabled"))
    client.accounts.begin_update(RG, "aoai-one", update).result()
    patches = [r for r in emu.requests if r.method == "PATCH"]
    assert [r.status for r in patches] == [429, 200]
    assert patches[0].body == patches[1].body == {"properties": {"publicNetworkAccess": "Disabled"}}


@pytest.mark.parametrize(("status", "code"), [(None, "ServiceUnavailable"), (500, "InternalServerError")])
def test_server_error_then_success(
    emu: Emulator, client: CognitiveServicesManagementClient, status: int | None, code: str
) -> None:
    emu.add_fault("GET", ONE_PATH, "server-error", status=status)
    assert raw(emu, "GET", ONE).json()["error"]["code"] == code
    emu.add_fault("GET", ONE_PATH, "server-error", status=status)
    emu.clear_requests()
    assert client.accounts.get(RG, "aoai-one").name == "aoai-one"
    assert _trail(emu) == [("GET", status or 503, "server-error"), ("GET", 200, None)]


def test_not_found_fault(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    emu.add_fault("GET", ONE_PATH, "not-found")
    with pytest.raises(ResourceNotFoundError) as caught:
        client.accounts.get(RG, "aoai-one")
    assert caught.value.error is not None
    assert caught.value.error.code == "ResourceNotFound"
    assert client.accounts.get(RG, "aoai-one").name == "aoai-one"  # count 1: expired


def test_conflict_and_precondition_faults(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    update = Account(properties=AccountProperties(disable_local_auth=True))
    emu.add_fault("PATCH", ONE_PATH, "conflict")
    with pytest.raises(ResourceExistsError) as conflict:
        client.accounts.begin_update(RG, "aoai-one", update).result()
    assert conflict.value.status_code == 409
    emu.add_fault("PATCH", ONE_PATH, "precondition-failed")
    with pytest.raises(HttpResponseError) as precondition:
        client.accounts.begin_update(RG, "aoai-one", update).result()
    assert precondition.value.status_code == 412
    assert raw(emu, "GET", ONE).json()["properties"]["disableLocalAuth"] is False  # neither write applied
    assert [r.fault for r in emu.requests if r.method == "PATCH"] == ["conflict", "precondition-failed"]


def test_reset_is_retried_by_the_sdk(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    emu.add_fault("GET", ONE_PATH, "reset")
    assert client.accounts.get(RG, "aoai-one").name == "aoai-one"
    assert _trail(emu) == [("GET", 0, "reset"), ("GET", 200, None)]


def test_reset_drops_the_connection(emu: Emulator) -> None:
    emu.add_fault("POST", r"/listKeys$", "reset")
    with pytest.raises(requests.ConnectionError):
        raw(emu, "POST", f"{ONE}/listKeys")
    assert raw(emu, "POST", f"{ONE}/listKeys").status_code == 200


def test_latency_then_normal_reply(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    emu.add_fault("GET", ONE_PATH, "latency", delay=0.2)
    started = time.monotonic()
    assert client.accounts.get(RG, "aoai-one").name == "aoai-one"
    assert time.monotonic() - started >= 0.2  # the delay happened (a lower bound, not a performance check)
    assert _trail(emu) == [("GET", 200, "latency")]


def test_counts_method_and_path_matching(emu: Emulator) -> None:
    emu.add_fault("*", r"AOAI-ONE/listkeys", "server-error", count=2)  # case-insensitive regex, any method
    assert raw(emu, "GET", f"{account_id('aoai-two')}").status_code == 200  # other path: untouched
    assert emu.dump_state()["faults"] == [
        {"method": "*", "path": "AOAI-ONE/listkeys", "kind": "server-error", "count": 2}
    ]
    assert raw(emu, "POST", f"{ONE}/listKeys").status_code == 503
    assert raw(emu, "POST", f"{ONE}/listKeys").status_code == 503
    assert raw(emu, "POST", f"{ONE}/listKeys").status_code == 200
    assert emu.dump_state()["faults"] == []
    emu.add_fault("DELETE", ONE_PATH, "conflict")
    assert raw(emu, "GET", ONE).status_code == 200  # method differs
    emu.add_fault("GET", ONE_PATH, "throttle", count=5)
    emu.clear_faults()
    assert emu.dump_state()["faults"] == []
    assert raw(emu, "GET", ONE).status_code == 200


def test_faults_from_the_scenario(scenario: dict[str, object]) -> None:
    scenario["faults"] = [{"method": "GET", "path": ONE_PATH, "kind": "throttle", "count": 1, "retryAfter": 1}]
    with Emulator(scenario) as emu:
        first = raw(emu, "GET", ONE)
        assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
        assert raw(emu, "GET", ONE).status_code == 200


def test_invalid_faults_are_rejected(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.add_fault("GET", ".*", "explode")
    with pytest.raises(ValueError, match="count"):
        emu.add_fault("GET", ".*", "throttle", count=0)
    with pytest.raises(ValueError, match="needs 'path' and 'kind'"):
        Emulator({"faults": [{"method": "GET", "kind": "throttle"}]})
